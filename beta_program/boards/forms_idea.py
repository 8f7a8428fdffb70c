"""The idea page's forms: the vote box, a comment and the follow button. They only parse; the
rules (who may vote, closed ideas, text checks) are the actions'."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from beta_program.boards.models import Importance


class VoteForm(forms.Form):
    importance = forms.TypedChoiceField(
        label=_("How important is it to you?"),
        choices=Importance.choices,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose how important the idea is to you."),
            "invalid_choice": _("Choose how important the idea is to you."),
        },
    )
    reason = forms.CharField(
        label=_("Why it matters"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What it would change for your team."),
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Your comment"),
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Markdown. Mention a colleague with @handle: they are told."),
    )


class SubscribeForm(forms.Form):
    subscribed = forms.TypedChoiceField(choices=[("0", "0"), ("1", "1")], coerce=int)


def first_error(form: forms.Form) -> str:
    """The first error message of an invalid form, for a one-line page message."""
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return str(_("Check the form and try again."))
