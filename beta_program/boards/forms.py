"""Forms of the board pages. They only shape input; `actions` and `attachment_actions` check it
(the same rules for the pages and the API) and their refusals are put back on the field they
name."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from beta_program.boards.actions import Proposal
from beta_program.boards.models import Board, Tag
from beta_program.programmes.feedback_forms import MultipleFileField

MARKDOWN_HINT = _("Markdown: **bold**, *italic*, - lists, [links](https://…).")


class ProposeForm(forms.Form):
    title = forms.CharField(
        label=_("Title"),
        max_length=160,
        widget=forms.TextInput(attrs={"autocomplete": "off", "data-similar": "1"}),
        help_text=_("One sentence: what should the product do?"),
    )
    problem = forms.CharField(
        label=_("Problem"),
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=format_lazy("{} {}", _("What gets in your way today?"), MARKDOWN_HINT),
    )
    solution = forms.CharField(
        label=_("Proposed solution"),
        max_length=10000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=MARKDOWN_HINT,
    )
    category = forms.TypedChoiceField(label=_("Category"), coerce=int, required=False)
    tags = forms.TypedMultipleChoiceField(
        label=_("Tags"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    attachments = MultipleFileField(
        label=_("Screenshots or PDFs"),
        required=False,
        help_text=_("PNG, JPEG, GIF, WebP or PDF; at most 5 files of 5 MB each."),
    )

    def __init__(self, *args: Any, board: Board, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        categories = list(board.categories.all())
        tags = list(Tag.objects.all())
        category = self.fields["category"]
        if categories and isinstance(category, forms.ChoiceField):
            category.choices = [("", "—"), *((c.pk, c.display_name) for c in categories)]
        else:
            del self.fields["category"]
        tag_field = self.fields["tags"]
        if tags and isinstance(tag_field, forms.ChoiceField):
            tag_field.choices = [(t.pk, t.display_name) for t in tags]
        else:
            del self.fields["tags"]

    def proposal(self) -> Proposal:
        data = self.cleaned_data
        category = data.get("category")
        return Proposal(
            title=data["title"],
            problem=data["problem"],
            solution=data.get("solution", ""),
            category_id=category if isinstance(category, int) else None,
            tag_ids=tuple(data.get("tags") or ()),
        )

    def field_for(self, name: str | None) -> str | None:
        """The form field an action's refusal names (None: the form as a whole)."""
        return name if name and name in self.fields else None
