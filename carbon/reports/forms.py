"""The form that asks for a carbon report in the portal (and, with organisations to pick, in the
admin): the period as a year, quarter, month or custom range of days, language, format and
whether to restate with current factors; and the period picker of the "Reports and trends" page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from carbon.footprint.forms import DateInput
from carbon.models import ReportLanguage
from carbon.reports import formats
from carbon.reports.period import MAX_YEAR, MIN_YEAR, PeriodError, PeriodKind, ReportingPeriod

PERIOD_KINDS = [
    (PeriodKind.YEAR.value, _("Calendar year")),
    (PeriodKind.QUARTER.value, _("Quarter")),
    (PeriodKind.MONTH.value, _("Month")),
    (PeriodKind.CUSTOM.value, _("Custom range")),
]
QUARTERS = [(q, f"Q{q}") for q in range(1, 5)]
MONTHS = [
    (1, _("January")),
    (2, _("February")),
    (3, _("March")),
    (4, _("April")),
    (5, _("May")),
    (6, _("June")),
    (7, _("July")),
    (8, _("August")),
    (9, _("September")),
    (10, _("October")),
    (11, _("November")),
    (12, _("December")),
]


class ReportForm(forms.Form):
    period_kind = forms.ChoiceField(
        label=_("Period"), choices=PERIOD_KINDS, initial=PeriodKind.YEAR.value
    )
    year = forms.IntegerField(
        label=_("Year"),
        min_value=MIN_YEAR,
        max_value=MAX_YEAR,
        required=False,
        help_text=_("For a year, quarter or month."),
    )
    quarter = forms.TypedChoiceField(
        label=_("Quarter"), choices=QUARTERS, coerce=int, required=False
    )
    month = forms.TypedChoiceField(
        label=pgettext_lazy("calendar month", "Month"), choices=MONTHS, coerce=int, required=False
    )
    start = forms.DateField(
        label=_("First day"), required=False, widget=DateInput(), help_text=_("Custom range.")
    )
    end = forms.DateField(
        label=_("Last day"),
        required=False,
        widget=DateInput(),
        help_text=_("Custom range; the last day is included."),
    )
    language = forms.ChoiceField(label=_("Language"), choices=ReportLanguage.choices)
    format = forms.ChoiceField(label=_("Format"), choices=formats.choices)
    restated = forms.BooleanField(
        label=_("Restate with current factors"),
        required=False,
        help_text=_(
            "Shows the figures with today's factor datasets beside those of the report first "
            "issued for the same period (which must exist)."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        # Last year until its figures are in (the first quarter), then the year so far: a report
        # for the default year always has the bulk of a year's deliveries to show.
        self.fields["year"].initial = today.year if today.month > 3 else today.year - 1
        self.fields["quarter"].initial = (today.month + 2) // 3
        self.fields["month"].initial = today.month

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        kind = data.get("period_kind")
        year = data.get("year")
        try:
            if kind == PeriodKind.CUSTOM:
                if not (data.get("start") and data.get("end")):
                    self.add_error("start", _("Give the first and the last day."))
                    return data
                data["period"] = ReportingPeriod.custom(data["start"], data["end"])
            elif kind in (PeriodKind.YEAR, PeriodKind.QUARTER, PeriodKind.MONTH):
                if year is None:
                    self.add_error("year", _("Give the year."))
                    return data
                if kind == PeriodKind.YEAR:
                    data["period"] = ReportingPeriod.year(year)
                elif kind == PeriodKind.QUARTER:
                    data["period"] = ReportingPeriod.quarter(year, data.get("quarter") or 1)
                else:
                    data["period"] = ReportingPeriod.month(year, data.get("month") or 1)
        except PeriodError:
            if kind == PeriodKind.CUSTOM:
                self.add_error(
                    "end",
                    _(
                        "The last day must be on or after the first, and a range spans at most "
                        "ten years."
                    ),
                )
            else:
                self.add_error("year", _("This is not a period the report can cover."))
        return data


# The page loads every order of the period and of the one before in a request: a custom range
# longer than this is a report's job (generated in the background), not a page's.
MAX_PAGE_DAYS = 731


class PeriodForm(forms.Form):
    period = forms.CharField(
        label=_("Period"),
        max_length=40,
        help_text=_("2026, 2026-Q1, 2026-02 or 2026-01-05..2026-02-10"),
    )

    def clean_period(self) -> ReportingPeriod:
        try:
            period = ReportingPeriod.parse(self.cleaned_data["period"])
        except PeriodError:
            raise forms.ValidationError(
                _(
                    "Write a year (2026), a quarter (2026-Q1), a month (2026-02) or two days "
                    "(2026-01-05..2026-02-10)."
                )
            ) from None
        if period.days > MAX_PAGE_DAYS:
            raise forms.ValidationError(
                _(
                    "A period on this page spans at most two years: "
                    "generate a report for a longer one."
                )
            )
        return period
