"""Names the reports print, in the active language: transport modes, months, periods, and
the rows of an intensity table with the previous period's figure beside (the PDF and the portal's
"Reports and trends" page share them; no WeasyPrint here, so the portal's pages import it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from carbon.footprint.forms import MODES
from carbon.reports.inventory import IntensityLine
from carbon.reports.period import PeriodKind, ReportingPeriod


def mode_label(mode: str) -> str:
    """The translated name of a transport mode ("road" -> "Road" / "公路")."""
    labels = {key: str(label) for key, label in MODES if key}
    return labels.get(mode, mode)


def scope3_label(key: str) -> str:
    """The customer's Scope 3 category of an inventory's Incoterm view, in the active language."""
    labels = {
        "category_4": _("Category 4: upstream transport, paid by the customer"),
        "category_9": _("Category 9: downstream transport, paid by the seller"),
        "not_stated": _("Incoterm not stated"),
    }
    return labels[key]


def month_label(month: str) -> str:
    """ "2026-02" -> "Feb 2026" in English, "2026年2月" in Chinese (the active language)."""
    year, number = month.split("-")
    names = {
        1: pgettext("report month", "Jan"),
        2: pgettext("report month", "Feb"),
        3: pgettext("report month", "Mar"),
        4: pgettext("report month", "Apr"),
        5: pgettext("report month", "May"),
        6: pgettext("report month", "Jun"),
        7: pgettext("report month", "Jul"),
        8: pgettext("report month", "Aug"),
        9: pgettext("report month", "Sep"),
        10: pgettext("report month", "Oct"),
        11: pgettext("report month", "Nov"),
        12: pgettext("report month", "Dec"),
    }
    return _("%(month)s %(year)s") % {"month": names[int(number)], "year": year}


def period_label(period: ReportingPeriod) -> str:
    """The period's name in the active language ("Q1 2026" / "2026年第1季度")."""
    year = period.start.year
    if period.kind == PeriodKind.YEAR:
        return _("Year %(year)s") % {"year": year}
    if period.kind == PeriodKind.QUARTER:
        quarter = (period.start.month + 2) // 3
        return _("Q%(quarter)s %(year)s") % {"quarter": quarter, "year": year}
    if period.kind == PeriodKind.MONTH:
        return month_label(f"{year:04d}-{period.start.month:02d}")
    return _("%(start)s to %(end)s") % {
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
    }


@dataclass(frozen=True)
class ModeRow:
    key: str
    label: str
    line: IntensityLine
    previous_intensity: Decimal | None


def intensity_rows(
    lines: Sequence[IntensityLine],
    previous: Sequence[IntensityLine] | None,
    label: Callable[[str], str] | None = None,
) -> list[ModeRow]:
    """One row per line with the previous period's intensity for the same key (None if absent)."""
    label = label or mode_label
    before = {line.key: line.intensity_g_per_tkm for line in previous or ()}
    return [ModeRow(line.key, label(line.key), line, before.get(line.key)) for line in lines]
