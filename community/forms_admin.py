"""Forms of the community moderation screens in the Wagtail admin (community/admin_moderation.py):
a warning and a posting suspension (decisions on a flagged post take a note: admin_moderation)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.widgets import AdminDateTimeInput

from community.moderation import MAX_MESSAGE

# Suggested suspension lengths, in days; the date can be set to anything in the future.
DEFAULT_SUSPENSION_DAYS = 7


class WarnForm(forms.Form):
    message = forms.CharField(
        label=_("Warning"),
        max_length=MAX_MESSAGE,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "The member reads this in their notifications and by e-mail. Say what was wrong "
            "and what you expect instead."
        ),
    )


class SuspendForm(forms.Form):
    until = forms.DateTimeField(
        label=_("Suspended until"),
        widget=AdminDateTimeInput,
        help_text=_("The member can read but not post, reply or edit until then."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=MAX_MESSAGE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The member sees this reason whenever they try to post."),
    )

    @staticmethod
    def default_until() -> dt.datetime:
        return timezone.localtime() + dt.timedelta(days=DEFAULT_SUSPENSION_DAYS)

    def clean_until(self) -> Any:
        until = self.cleaned_data["until"]
        if until is not None and until <= timezone.now():
            raise forms.ValidationError(
                _("Choose a date and time in the future for the suspension to end."),
                code="until_past",
            )
        return until
