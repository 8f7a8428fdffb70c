from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from beta_program.programmes.models import QuestionKind, ScreeningQuestion


class ApplicationForm(forms.Form):
    """The screening questions of a programme as form fields `q<id>`; `answers()` gives them in
    the shape `screening.clean_answers` (shared with the API) checks."""

    def __init__(self, *args: Any, questions: list[ScreeningQuestion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            label = question.display_text
            required = question.required
            name = f"q{question.pk}"
            if question.kind == QuestionKind.CHOICE:
                field: forms.Field = forms.ChoiceField(
                    label=label,
                    required=required,
                    choices=question.options(),
                    widget=forms.RadioSelect,
                )
            elif question.kind == QuestionKind.MULTIPLE:
                field = forms.MultipleChoiceField(
                    label=label,
                    required=required,
                    choices=question.options(),
                    widget=forms.CheckboxSelectMultiple,
                )
            elif question.kind == QuestionKind.NUMBER:
                field = forms.DecimalField(label=label, required=required, max_digits=20)
            else:
                field = forms.CharField(
                    label=label,
                    required=required,
                    max_length=2000,
                    widget=forms.Textarea(attrs={"rows": 3}),
                )
            self.fields[name] = field

    def answers(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for question in self.questions:
            value = self.cleaned_data.get(f"q{question.pk}")
            if value is None or value in ("", []):
                continue
            result[str(question.pk)] = str(value) if question.kind == QuestionKind.NUMBER else value
        return result


class AuditNoteForm(forms.Form):
    """A staff decision's optional note, kept in the audit trail."""

    note = forms.CharField(
        label=_("Note (for the audit trail)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class StatusForm(AuditNoteForm):
    status = forms.ChoiceField(label=_("New status"), choices=())
    field_order = ["status", "note"]

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = choices


class NdaForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=10**6)
    accept = forms.BooleanField(
        label=_("I have read the agreement and accept it for myself."), required=True
    )
