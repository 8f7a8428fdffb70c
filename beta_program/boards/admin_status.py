"""The ideas in the Wagtail admin (R&D boards > Ideas): the staff list with filters by board,
status and tag; the idea as staff read it (Markdown rendered as on the portal, tags, category,
planned quarter, status history with its notes); and the two things staff change here, each on
its own form: tags, category and planned quarter ("Classify"), and the status ("Change status",
through `status_actions.change_status`, the one status writer). Everything else about an idea
(votes, comments, merges) changes only through the boards' actions."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn, StatusTagColumn
from wagtail.admin.views.generic import InspectView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import AdminDateInput, HeaderButton
from wagtail.permissions import register_permission_policy

from beta_program.boards import status_actions
from beta_program.boards.access import can_manage, is_board_staff
from beta_program.boards.admin import joined
from beta_program.boards.exceptions import BoardError
from beta_program.boards.models import (
    Board,
    Category,
    Idea,
    IdeaStatus,
    StatusKind,
    Tag,
    quarter_start,
)
from portal import audit, markdown
from portal.admin_common import (
    ActionFormView,
    Html,
    ObjectActionsViewSetMixin,
    definition_list,
    format_when,
    format_who,
    inspect_field,
)
from portal.models import User
from portal.wagtail_hooks import IndexQuerysetMixin, ReadOnlyPermissionPolicy

# Ideas are read here; their few staff-editable fields change on the "Classify" form, never on
# Wagtail's edit view (which would write the whole row over the counters votes keep).
register_permission_policy(Idea, ReadOnlyPermissionPolicy(Idea))


class IdeaFilterSet(WagtailFilterSet):
    board = django_filters.ModelChoiceFilter(
        label=_("Board"), queryset=Board.objects.order_by("name")
    )
    status = django_filters.ModelChoiceFilter(
        label=_("Status"), queryset=IdeaStatus.objects.order_by("position", "pk")
    )
    tag = django_filters.ModelChoiceFilter(
        label=_("Tag"), field_name="tags", queryset=Tag.objects.order_by("name")
    )

    class Meta:
        model = Idea
        fields = ["board", "status", "tag"]


def _markdown(text: str) -> Html:
    # portal.markdown returns sanitised HTML, exactly as the idea page renders it.
    return Html(mark_safe(markdown.render(text)))  # noqa: S308


def history_rows(idea: Idea) -> list[tuple[Any, Any]]:
    """The status history, oldest first: when, from → to, who, and the public notes."""
    rows: list[tuple[Any, Any]] = []
    changes = idea.status_changes.select_related("from_status", "to_status", "changed_by")
    for change in changes:
        notes = format_html_join(
            "",
            "<br>{}: {}",
            (
                (label, text)
                for label, text in ((_("Note"), change.note), (_("Chinese note"), change.note_zh))
                if text
            ),
        )
        rows.append(
            (
                format_when(change.changed_at),
                format_html(
                    "{} → {} ({}){}",
                    change.from_status.display_name,
                    change.to_status.display_name,
                    format_who(change.changed_by),
                    notes,
                ),
            )
        )
    return rows or [("—", _("No change yet"))]


class IdeaInspectView(InspectView):
    viewset: Any = None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        idea: Idea = self.object
        tags = joined(t.display_name for t in idea.tags.all()) or "—"
        context["fields"] = [
            inspect_field(_("Title"), idea.title),
            inspect_field(_("Board"), idea.board.display_name),
            inspect_field(_("Status"), idea.status.display_name),
            inspect_field(
                _("Merged into"), f"#{idea.merged_into_id}" if idea.merged_into_id else "—"
            ),
            inspect_field(_("Organisation"), idea.organisation or "—"),
            inspect_field(_("Author"), format_who(idea.author)),
            inspect_field(_("Created"), format_when(idea.created_at)),
            inspect_field(_("Problem"), None, _markdown(idea.problem)),
            inspect_field(
                _("Proposed solution"),
                None if idea.solution else "—",
                _markdown(idea.solution) if idea.solution else None,
            ),
            inspect_field(_("Tags"), tags),
            inspect_field(_("Category"), idea.category.display_name if idea.category else "—"),
            inspect_field(_("Planned for quarter"), idea.quarter_label or "—"),
            inspect_field(
                _("Votes"),
                _("%(votes)s votes from %(organisations)s organisations")
                % {"votes": idea.vote_count, "organisations": idea.organisation_count},
            ),
            inspect_field(_("Comments"), idea.comment_count),
            inspect_field(_("Status history"), None, definition_list(history_rows(idea))),
        ]
        return context

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if can_manage(self.request.user):
            if self.object.merged_into_id is None:
                buttons.append(
                    HeaderButton(
                        _("Change status"),
                        url=self.viewset.url("change_status", self.object),
                        icon_name="resubmit",
                    )
                )
            buttons.append(
                HeaderButton(
                    _("Tags, category and quarter"),
                    url=self.viewset.url("classify", self.object),
                    icon_name="tag",
                )
            )
            # Merging (admin_merge) and the roll-up by account (admin_accounts) have their own
            # screens; the idea's page is where staff look for them.
            buttons.append(
                HeaderButton(
                    _("Merge into…"),
                    url=reverse("boards_idea_merge", kwargs={"idea_id": self.object.pk}),
                    icon_name="link",
                )
            )
        if is_board_staff(self.request.user):
            buttons.append(
                HeaderButton(
                    _("Accounts"),
                    url=reverse("idea_accounts:idea", kwargs={"idea_id": self.object.pk}),
                    icon_name="group",
                )
            )
        return buttons


class IdeaActionView(ActionFormView):
    """A product staff decision on one idea."""

    index_label = _("Ideas")
    refused = (BoardError,)
    refusals_on_form = True

    def has_permission(self, user) -> bool:
        return can_manage(user)

    def get_object(self) -> Idea:
        return get_object_or_404(
            Idea.objects.select_related("board", "status", "category"), pk=self.kwargs["pk"]
        )


# --- changing the status


class StatusChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        if obj.requires_note:
            return str(_("%(status)s (needs a public note)") % {"status": obj.display_name})
        return obj.display_name


class ChangeStatusForm(forms.Form):
    status = StatusChoiceField(
        label=_("New status"), queryset=IdeaStatus.objects.none(), empty_label=None
    )
    note = forms.CharField(
        label=_("Public note"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Voters and subscribers read it (Markdown). Needed for shipped and declined."),
    )
    note_zh = forms.CharField(
        label=_("Public note (Chinese)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Shown to people who read the portal in Chinese."),
    )

    def __init__(self, *args: Any, idea: Idea, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        status = self.fields["status"]
        if isinstance(status, forms.ModelChoiceField):
            status.queryset = status_actions.statuses_after(idea)


class ChangeStatusView(IdeaActionView):
    page_title = _("Change idea status")
    header_icon = "resubmit"
    form_class = ChangeStatusForm
    submit_button_label = _("Change status")

    def refusal(self) -> str | None:
        if self.object.merged_into_id is not None:
            return str(
                _("This idea was merged into #%(id)s; change that one.")
                % {"id": self.object.merged_into_id}
            )
        return None

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "idea": self.object}

    def summary(self):
        return definition_list(
            [
                (_("Idea"), self.object),
                (_("Board"), self.object.board.display_name),
                (_("Status now"), self.object.status.display_name),
                (
                    _("Who is told"),
                    _("Voters and subscribers who may see the idea, in their own language."),
                ),
            ]
        )

    def perform(self, form) -> str:
        status = form.cleaned_data["status"]
        status_actions.change_status(
            self.object,
            status,
            self.acting_user,
            note=form.cleaned_data["note"],
            note_zh=form.cleaned_data["note_zh"],
            request=self.request,
        )
        return str(
            _("%(idea)s is now %(status)s.") % {"idea": self.object, "status": status.display_name}
        )


# --- tags, category and planned quarter


class TagsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.display_name


class CategoryField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.display_name


class ClassifyForm(forms.Form):
    tags = TagsField(
        label=_("Tags"),
        queryset=Tag.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    category = CategoryField(label=_("Category"), queryset=Category.objects.none(), required=False)
    planned_quarter = forms.DateField(
        label=_("Planned for quarter"),
        required=False,
        widget=AdminDateInput,
        help_text=_("Any day of the quarter: it is saved as the quarter's first day."),
    )

    def __init__(self, *args: Any, idea: Idea, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        if isinstance(category, forms.ModelChoiceField):
            category.queryset = idea.board.categories.all()
        self.initial.update(
            tags=list(idea.tags.all()),
            category=idea.category_id,
            planned_quarter=idea.planned_quarter,
        )


def classify(
    idea: Idea,
    by: User,
    *,
    tags: list[Tag],
    category: Category | None,
    planned_quarter,
    request=None,
) -> None:
    """Set the idea's tags, category and planned quarter (normalised to the quarter's first
    day), audited. Only these columns are written: the counters stay as votes left them."""
    if category is not None and category.board_id != idea.board_id:
        raise BoardError(_("Choose a category of the idea's board."), field="category")
    quarter = quarter_start(planned_quarter) if planned_quarter else None
    with transaction.atomic():
        Idea.objects.filter(pk=idea.pk).update(category=category, planned_quarter=quarter)
        idea.tags.set(tags)
        audit.record(
            "boards.idea_classified",
            actor=by,
            obj=idea,
            request=request,
            details={
                "tags": sorted(t.slug for t in tags),
                "category_id": category.pk if category else None,
                "planned_quarter": quarter.isoformat() if quarter else None,
            },
        )
    idea.category, idea.planned_quarter = category, quarter


class ClassifyView(IdeaActionView):
    page_title = _("Tags, category and quarter")
    header_icon = "tag"
    form_class = ClassifyForm
    submit_button_label = _("Save")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "idea": self.object}

    def summary(self):
        return definition_list(
            [(_("Idea"), self.object), (_("Board"), self.object.board.display_name)]
        )

    def perform(self, form) -> str:
        data = form.cleaned_data
        classify(
            self.object,
            self.acting_user,
            tags=list(data["tags"]),
            category=data["category"],
            planned_quarter=data["planned_quarter"],
            request=self.request,
        )
        return str(_("Saved %(idea)s.") % {"idea": self.object})


# --- the viewset


class IdeaViewSet(ObjectActionsViewSetMixin, IndexQuerysetMixin, ModelViewSet):
    model = Idea
    name = "idea_admin"
    icon = "pick"
    menu_label = _("Ideas")
    add_to_admin_menu = False
    exclude_form_fields: list[str] = []
    inspect_view_class = IdeaInspectView
    inspect_view_enabled = True
    copy_view_enabled = False
    filterset_class = IdeaFilterSet
    list_display = [
        Column("id", label="#", sort_key="id"),
        "title",
        Column("board", label=_("Board"), accessor=lambda i: i.board.display_name),
        StatusTagColumn(
            "status",
            label=_("Status"),
            accessor=lambda i: i.status.display_name,
            primary=lambda i: i.status.kind == StatusKind.OPEN,
            sort_key="status__position",
        ),
        Column("vote_count", label=_("Votes"), sort_key="vote_count"),
        Column("organisation_count", label=_("Organisations"), sort_key="organisation_count"),
        Column("comment_count", label=_("Comments"), sort_key="comment_count"),
        DateColumn("created_at", label=_("Created"), sort_key="created_at"),
    ]
    search_fields = ["title"]
    ordering = ["-created_at", "-id"]
    object_actions = {"change_status": ChangeStatusView, "classify": ClassifyView}

    def get_queryset(self, request):
        return Idea.objects.select_related("board", "status")
