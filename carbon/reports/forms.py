"""The period picker of the "Reports and trends" page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from carbon.reports.period import PeriodError, ReportingPeriod

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
