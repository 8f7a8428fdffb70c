"""The report formats: for each key its content type, file extension and renderer.

A renderer is a pure function `render(document: ReportDocument) -> bytes` (see document.py). It is
named by its dotted path and imported only when a report is rendered, so that a format's module
(and its heavy dependencies, WeasyPrint for the PDF) loads in the worker that needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from carbon.reports.document import ReportDocument

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class ReportFormat:
    key: str
    label: StrOrPromise
    content_type: str
    extension: str
    renderer: str  # dotted path of `render(document) -> bytes`


FORMATS: dict[str, ReportFormat] = {
    "pdf": ReportFormat(
        "pdf", _("PDF report"), "application/pdf", "pdf", "carbon.reports.pdf.render_pdf"
    ),
    "csv": ReportFormat(
        "csv",
        _("CSV (orders and legs)"),
        "text/csv; charset=utf-8",
        "csv",
        "carbon.reports.tabular.render_csv",
    ),
    "xlsx": ReportFormat(
        "xlsx",
        _("Excel workbook"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
        "carbon.reports.tabular.render_xlsx",
    ),
    "ileap": ReportFormat(
        "ileap",
        _("iLEAP shipment footprints (JSON)"),
        "application/json",
        "json",
        "carbon.reports.ileap.render_ileap",
    ),
}


def choices() -> list[tuple[str, StrOrPromise]]:
    return [(f.key, f.label) for f in FORMATS.values()]


def renderer(key: str) -> Callable[[ReportDocument], bytes]:
    """The render function of format `key` (KeyError for an unknown one)."""
    return import_string(FORMATS[key].renderer)
