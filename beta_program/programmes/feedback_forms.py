"""Forms of the feedback pages. They only shape input; `feedback_actions` checks it (the same
rules for the pages and the API) and its refusals are put back on the field they name."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from beta_program.programmes.feedback_actions import Report
from beta_program.programmes.feedback_models import (
    EnvironmentField,
    FeedbackKind,
    Frequency,
    Severity,
)
from beta_program.programmes.models import Build


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; the size and content checks are the action's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*,application/pdf"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data]
        return [super().clean(data, initial)] if data else []


class FeedbackForm(forms.Form):
    build = forms.TypedChoiceField(label=_("Build"), coerce=int)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=FeedbackKind.choices,
        widget=forms.RadioSelect,
        initial=FeedbackKind.BUG,
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "data-similar": "1"}),
    )
    severity = forms.ChoiceField(
        label=_("Severity"), choices=[("", "—"), *Severity.choices], required=False
    )
    frequency = forms.ChoiceField(
        label=_("How often does it happen?"),
        choices=[("", "—"), *Frequency.choices],
        required=False,
    )
    steps = forms.CharField(
        label=_("Steps to reproduce"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("For a bug report."),
    )
    expected = forms.CharField(
        label=_("Expected result"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    actual = forms.CharField(
        label=_("Actual result"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For a bug report."),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Required for feature feedback; anything else for a bug report."),
    )
    attachments = MultipleFileField(
        label=_("Screenshots or PDFs"),
        required=False,
        help_text=_("PNG, JPEG, GIF, WebP or PDF; at most 5 files of 5 MB each."),
    )

    def __init__(
        self,
        *args: Any,
        builds: list[Build],
        environment_fields: list[EnvironmentField],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        build_field = self.fields["build"]
        if isinstance(build_field, forms.ChoiceField):
            build_field.choices = [(b.pk, b.version) for b in builds]
        self.environment_fields = environment_fields
        for env in environment_fields:
            self.fields[f"env_{env.pk}"] = forms.CharField(
                label=env.display_label,
                max_length=200,
                required=False,
                help_text=_("Required for a bug report.") if env.required else "",
            )

    def report(self) -> Report:
        data = self.cleaned_data
        return Report(
            kind=data["kind"],
            title=data["title"],
            description=data.get("description", ""),
            steps=data.get("steps", ""),
            expected=data.get("expected", ""),
            actual=data.get("actual", ""),
            severity=data.get("severity", ""),
            frequency=data.get("frequency", ""),
            environment={
                str(env.pk): data.get(f"env_{env.pk}", "")
                for env in self.environment_fields
                if data.get(f"env_{env.pk}")
            },
        )

    def field_for(self, name: str | None) -> str | None:
        """The form field an action's refusal names (`environment.<id>` -> `env_<id>`)."""
        if not name:
            return None
        name = (
            f"env_{name.removeprefix('environment.')}" if name.startswith("environment.") else name
        )
        return name if name in self.fields else None


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Your comment"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


SCALE_NPS = [(str(n), str(n)) for n in range(11)]
SCALE_CSAT = [(str(n), str(n)) for n in range(1, 6)]


class SurveyForm(forms.Form):
    nps = forms.TypedChoiceField(
        label=_(
            "How likely are you to recommend the product to a colleague? "
            "(0 = not at all, 10 = extremely)"
        ),
        choices=SCALE_NPS,
        coerce=int,
        widget=forms.RadioSelect,
    )
    csat = forms.TypedChoiceField(
        label=_(
            "How satisfied are you with this build? (1 = very dissatisfied, 5 = very satisfied)"
        ),
        choices=SCALE_CSAT,
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
