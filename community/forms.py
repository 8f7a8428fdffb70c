"""Forms of the community pages: they parse input; the actions decide what is allowed."""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from community.models import FlagReason, Space, Tag, TopicKind

MARKDOWN_HELP = _(
    "Write in Markdown: **bold**, _italic_, `code`, [link text](https://…), lists and quotes. "
    "Mention someone with @handle. HTML tags are shown as plain text."
)
ATTACHMENT_HELP = _("Images (PNG, JPEG, GIF, WebP) and PDFs.")
ATTACHMENT_ACCEPT = ".png,.jpg,.jpeg,.gif,.webp,.pdf"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (the pattern of Django's file-upload docs); cleans to a list."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ATTACHMENT_ACCEPT}))
        # Empty files reach community.attachments.check, whose message names the file.
        kwargs.setdefault("allow_empty_file", True)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None) -> list:
        single_file_clean = super().clean
        if isinstance(data, list | tuple):
            return [single_file_clean(item, initial) for item in data if item]
        cleaned = single_file_clean(data, initial)
        return [cleaned] if cleaned else []


def _body_field(label=None) -> forms.CharField:
    return forms.CharField(
        label=label or _("Text"),
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=MARKDOWN_HELP,
        # The action trims and measures the text; a blank body gets its message there too.
        strip=False,
    )


def _attachments_field() -> MultipleFileField:
    return MultipleFileField(label=_("Attachments"), required=False, help_text=ATTACHMENT_HELP)


def _tag_choices() -> list[tuple[str, str]]:
    return [(slug, name) for slug, name in Tag.objects.values_list("slug", "name")]


class TopicForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind of topic"),
        choices=TopicKind.choices,
        initial=TopicKind.QUESTION,
        widget=forms.RadioSelect,
        help_text=_(
            "A question can have an accepted answer; a discussion is for sharing practice."
        ),
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    body = _body_field()
    tags = forms.MultipleChoiceField(
        label=_("Tags"), required=False, widget=forms.CheckboxSelectMultiple
    )
    attachments = _attachments_field()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The declared field: cast for the type checker, whose `fields` holds plain Fields.
        cast(forms.MultipleChoiceField, self.fields["tags"]).choices = _tag_choices()


class ReplyForm(forms.Form):
    # The composer's heading already says "Your reply".
    body = _body_field()
    reply_to = forms.IntegerField(required=False, widget=forms.HiddenInput)
    attachments = _attachments_field()


class EditPostForm(forms.Form):
    """The opening post also carries the topic's title and tags."""

    title = forms.CharField(label=_("Title"), max_length=200)
    body = _body_field()
    tags = forms.MultipleChoiceField(
        label=_("Tags"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, opening: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if opening:
            cast(forms.MultipleChoiceField, self.fields["tags"]).choices = _tag_choices()
        else:
            del self.fields["title"]
            del self.fields["tags"]


class FlagForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("What is wrong with this post?"),
        choices=FlagReason.choices,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note for the moderators"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Only moderators read this."),
    )


class MoveForm(forms.Form):
    space = forms.ModelChoiceField(label=_("Move to space"), queryset=Space.objects.none())

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["space"]).queryset = Space.objects.visible_to(
            user
        ).select_related("parent")


class MergeForm(forms.Form):
    target = forms.IntegerField(
        label=_("Merge into topic number"),
        min_value=1,
        help_text=_("The number in the other topic's address: 123 for /community/t/123/."),
    )
