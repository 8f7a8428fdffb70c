"""Reporting periods: a calendar year, quarter or month, or a custom range of days (pure).

Both ends are inclusive days. `ReportingPeriod.parse` reads the text form that `str()` writes:

    2026                      the calendar year 2026
    2026-Q1                   2026-01-01 .. 2026-03-31
    2026-02                   February 2026 (29 days in a leap year)
    2026-01-05..2026-02-10    a custom range, both days included

`previous()` is the comparable period just before: the year, quarter or month before, or for a
custom range the range of the same number of days that ends the day before it starts.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum


class PeriodError(ValueError):
    """A period that cannot be read or makes no sense (end before start, month 13, ...)."""


class PeriodKind(StrEnum):
    YEAR = "year"
    QUARTER = "quarter"
    MONTH = "month"
    CUSTOM = "custom"


# A custom period may span at most this many days (ten years and their leap days).
MAX_CUSTOM_DAYS = 3653
MIN_YEAR = 1900
MAX_YEAR = 9998  # so that the period after the last one still has a year

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_CUSTOM = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})$")


def _check_year(year: int) -> int:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise PeriodError(f"The year must be between {MIN_YEAR} and {MAX_YEAR}, not {year}.")
    return year


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise PeriodError(f"{text!r} is not a date (YYYY-MM-DD).") from exc


@dataclass(frozen=True, order=True)
class ReportingPeriod:
    start: dt.date
    end: dt.date  # inclusive
    kind: PeriodKind = PeriodKind.CUSTOM

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodError(f"The period ends ({self.end}) before it starts ({self.start}).")

    # --- construction

    @classmethod
    def year(cls, year: int) -> ReportingPeriod:
        _check_year(year)
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31), PeriodKind.YEAR)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> ReportingPeriod:
        _check_year(year)
        if not 1 <= quarter <= 4:
            raise PeriodError(f"A quarter is 1 to 4, not {quarter}.")
        first = 3 * quarter - 2
        last = first + 2
        return cls(
            dt.date(year, first, 1),
            dt.date(year, last, calendar.monthrange(year, last)[1]),
            PeriodKind.QUARTER,
        )

    @classmethod
    def month(cls, year: int, month: int) -> ReportingPeriod:
        _check_year(year)
        if not 1 <= month <= 12:
            raise PeriodError(f"A month is 1 to 12, not {month}.")
        return cls(
            dt.date(year, month, 1),
            dt.date(year, month, calendar.monthrange(year, month)[1]),
            PeriodKind.MONTH,
        )

    @classmethod
    def custom(cls, start: dt.date, end: dt.date) -> ReportingPeriod:
        _check_year(start.year)
        _check_year(end.year)
        period = cls(start, end, PeriodKind.CUSTOM)
        if period.days > MAX_CUSTOM_DAYS:
            raise PeriodError(f"A custom period spans at most {MAX_CUSTOM_DAYS} days.")
        return period

    @classmethod
    def parse(cls, text: str) -> ReportingPeriod:
        """The period named by `text` (see the module's docstring); PeriodError otherwise."""
        text = (text or "").strip()
        if m := _YEAR.match(text):
            return cls.year(int(m[1]))
        if m := _QUARTER.match(text):
            return cls.quarter(int(m[1]), int(m[2]))
        if m := _MONTH.match(text):
            return cls.month(int(m[1]), int(m[2]))
        if m := _CUSTOM.match(text):
            return cls.custom(_day(m[1]), _day(m[2]))
        raise PeriodError(
            f"{text!r} is not a period: use 2026, 2026-Q1, 2026-02 or 2026-01-05..2026-02-10."
        )

    # --- reading

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.start <= day <= self.end

    def _names(self) -> tuple[str, str]:
        """The text form and the English label."""
        year = self.start.year
        if self.kind == PeriodKind.YEAR:
            return f"{year}", f"{year}"
        if self.kind == PeriodKind.QUARTER:
            quarter = (self.start.month + 2) // 3
            return f"{year}-Q{quarter}", f"Q{quarter} {year}"
        if self.kind == PeriodKind.MONTH:
            month = self.start.month
            return f"{year}-{month:02d}", f"{calendar.month_name[month]} {year}"
        start, end = self.start.isoformat(), self.end.isoformat()
        return f"{start}..{end}", f"{start} to {end}"

    def __str__(self) -> str:
        """The text form `parse` reads back ("2026", "2026-Q1", "2026-02", "2026-01-05..
        2026-02-10")."""
        return self._names()[0]

    @property
    def label(self) -> str:
        """A short English label ("2026", "Q1 2026", "February 2026", "2026-01-05 to
        2026-02-10"); the report's rendering translates it."""
        return self._names()[1]

    def previous(self) -> ReportingPeriod:
        """The comparable period just before this one."""
        if self.kind == PeriodKind.YEAR:
            return ReportingPeriod.year(self.start.year - 1)
        if self.kind == PeriodKind.QUARTER:
            quarter = (self.start.month + 2) // 3
            if quarter == 1:
                return ReportingPeriod.quarter(self.start.year - 1, 4)
            return ReportingPeriod.quarter(self.start.year, quarter - 1)
        if self.kind == PeriodKind.MONTH:
            if self.start.month == 1:
                return ReportingPeriod.month(self.start.year - 1, 12)
            return ReportingPeriod.month(self.start.year, self.start.month - 1)
        end = self.start - dt.timedelta(days=1)
        return ReportingPeriod.custom(end - dt.timedelta(days=self.days - 1), end)

    def as_json(self) -> dict[str, str]:
        return {
            "kind": str(self.kind),
            "period": str(self),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }
