"""Staff screens of the R&D boards in the Wagtail admin ("R&D boards" menu): boards (public or
private to chosen organisations, with their categories), the tags customers choose from, and the
status workflow ideas move along. Product staff add and change them (audited); account-facing
staff read them. A board that holds ideas and a status in use are never deleted: the screen says
why instead. The ideas themselves are in `admin_status`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Prefetch, ProtectedError, Q
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, ObjectList
from wagtail.admin.ui.tables import BooleanColumn, Column
from wagtail.admin.views.generic import DeleteView
from wagtail.admin.viewsets.model import ModelViewSet

from beta_program.boards.models import Board, IdeaMerge, IdeaStatus, IdeaStatusChange, Tag
from portal.admin_common import AuditedCreateView, AuditedEditView
from portal.wagtail_hooks import IndexQuerysetMixin

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class YesNoColumn(BooleanColumn):
    """A tick or a cross titled Yes or No (Wagtail's own titles them True and False)."""

    cell_template_name = "beta_program/boards/admin/yes_no_cell.html"


class RefusingDeleteView(DeleteView):
    """A delete screen that first asks `refusal()` whether the object may go: if not, the user
    is sent back to the object's edit screen with the reason (never a ProtectedError page). The
    permission check runs first (dispatch), so a refused role still meets Wagtail's refusal."""

    def refusal(self) -> StrOrPromise | None:
        return None

    def _refused(self):
        refusal = self.refusal()
        if refusal is None:
            return None
        messages.error(self.request, refusal)
        return redirect(self.edit_url_name, self.object.pk)

    def get(self, request, *args, **kwargs):
        return self._refused() or super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        refused = self._refused()
        if refused is not None:
            return refused
        try:
            with transaction.atomic():
                return super().post(request, *args, **kwargs)
        except ProtectedError:
            # Something started pointing at the object between the check and the delete.
            messages.error(request, self.protected_message)
            return redirect(self.edit_url_name, self.object.pk)

    protected_message: Any = _("Other records still point at this; it cannot be deleted.")


# --- boards


class BoardForm(WagtailAdminModelForm):
    def clean(self):
        cleaned = super().clean()
        if cleaned.get("visibility") == "private" and not cleaned.get("organisations"):
            self.add_error(
                "organisations",
                _("A private board needs at least one organisation: tick who takes part."),
            )
        return cleaned


class BoardDeleteView(RefusingDeleteView):
    protected_message = _("This board holds ideas: archive it instead of deleting it.")

    def refusal(self) -> StrOrPromise | None:
        if self.object.ideas.exists():
            return self.protected_message
        return None


def joined(names) -> str:
    """Names as a list in the admin's language (Chinese lists take the enumeration comma)."""
    return str(pgettext("list separator", ", ")).join(names)


def organisations_label(board: Board) -> str:
    if not board.is_private:
        return str(_("Every customer"))
    return joined(o.name for o in board.organisations.all()) or "—"


class BoardViewSet(IndexQuerysetMixin, ModelViewSet):
    model = Board
    name = "idea_boards"
    icon = "clipboard-list"
    menu_label = _("Boards")
    add_to_admin_menu = False
    add_view_class = AuditedCreateView
    edit_view_class = AuditedEditView
    delete_view_class = BoardDeleteView
    copy_view_enabled = False
    inspect_view_enabled = False
    list_display = [
        "name",
        "slug",
        Column("visibility", label=_("Who sees it"), accessor=organisations_label),
        Column(
            "nda_programme",
            label=_("Requires the NDA of"),
            accessor=lambda b: b.nda_programme or "—",
        ),
        Column("idea_total", label=_("Ideas"), sort_key="idea_total"),
        YesNoColumn("archived", label=_("Archived"), sort_key="archived"),
    ]
    list_filter = ["visibility", "archived"]
    search_fields = ["name", "name_zh", "slug"]
    ordering = ["name"]
    edit_handler = ObjectList(
        [
            FieldRowPanel([FieldPanel("name"), FieldPanel("name_zh")]),
            FieldPanel("slug"),
            FieldPanel("description"),
            FieldPanel("description_zh"),
            FieldPanel("visibility", widget=forms.RadioSelect),
            FieldPanel("organisations", widget=forms.CheckboxSelectMultiple),
            FieldPanel("nda_programme"),
            FieldPanel("archived"),
            InlinePanel("categories", label=_("Category"), heading=_("Categories")),
        ],
        base_form_class=BoardForm,
    )

    def get_queryset(self, request):
        return (
            Board.objects.select_related("nda_programme")
            .prefetch_related("organisations")
            .annotate(idea_total=Count("ideas"))
        )


# --- tags


class TagViewSet(IndexQuerysetMixin, ModelViewSet):
    model = Tag
    name = "idea_tags"
    icon = "tag"
    menu_label = _("Tags")
    add_to_admin_menu = False
    add_view_class = AuditedCreateView
    edit_view_class = AuditedEditView
    copy_view_enabled = False
    list_display = [
        "name",
        "name_zh",
        "slug",
        Column("idea_total", label=_("Ideas"), sort_key="idea_total"),
    ]
    search_fields = ["name", "name_zh", "slug"]
    ordering = ["name"]
    form_fields = ["name", "name_zh", "slug"]

    def get_queryset(self, request):
        return Tag.objects.annotate(idea_total=Count("ideas"))


# --- the status workflow


class IdeaStatusForm(WagtailAdminModelForm):
    """Shipped and declined statuses need a note (the model's clean() says so on the field);
    exactly one status is where new ideas start (the view clears the others when one is
    ticked, and the current one cannot simply be unticked)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        following = self.fields.get("allowed_next")
        if isinstance(following, forms.ModelMultipleChoiceField):
            others = IdeaStatus.objects.order_by("position", "pk")
            if self.instance.pk:
                others = others.exclude(pk=self.instance.pk)
            following.queryset = others

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and "is_initial" in self.changed_data and not cleaned.get("is_initial"):
            self.add_error(
                "is_initial",
                _("New ideas must start somewhere: make another status the initial one instead."),
            )
        return cleaned


class _InitialStatusSave:
    """Saving a status ticked as initial unticks every other one, in the same transaction."""

    def save_instance(self):
        with transaction.atomic():
            instance = super().save_instance()  # type: ignore[misc]
            if instance.is_initial:
                IdeaStatus.objects.exclude(pk=instance.pk).filter(is_initial=True).update(
                    is_initial=False
                )
            return instance


class IdeaStatusCreateView(_InitialStatusSave, AuditedCreateView):
    pass


class IdeaStatusEditView(_InitialStatusSave, AuditedEditView):
    pass


def status_in_use(status: IdeaStatus) -> bool:
    """Ideas, the status history or a merge (to restore on undo) point at it."""
    return (
        status.ideas.exists()
        or IdeaStatusChange.objects.filter(Q(from_status=status) | Q(to_status=status)).exists()
        or IdeaMerge.objects.filter(previous_status=status).exists()
    )


class IdeaStatusDeleteView(RefusingDeleteView):
    protected_message = _(
        "Ideas or their history use this status, so it cannot be deleted. Take it out of the "
        "other statuses' “may move on to” lists instead."
    )

    def refusal(self) -> StrOrPromise | None:
        if self.object.is_initial:
            return _("New ideas start in this status: make another status the initial one first.")
        if status_in_use(self.object):
            return self.protected_message
        return None


def following_label(status: IdeaStatus) -> str:
    names = [s.display_name for s in status.allowed_next.all()]
    return joined(names) if names else str(_("Any other status"))


class IdeaStatusViewSet(IndexQuerysetMixin, ModelViewSet):
    model = IdeaStatus
    name = "idea_statuses"
    icon = "list-ol"
    menu_label = _("Status workflow")
    add_to_admin_menu = False
    add_view_class = IdeaStatusCreateView
    edit_view_class = IdeaStatusEditView
    delete_view_class = IdeaStatusDeleteView
    copy_view_enabled = False
    list_display = [
        Column("position", label=_("Position"), sort_key="position"),
        "name",
        "name_zh",
        Column("kind", label=_("Meaning"), accessor="get_kind_display", sort_key="kind"),
        YesNoColumn("is_initial", label=_("New ideas start here")),
        YesNoColumn("requires_note", label=_("Note required")),
        YesNoColumn("on_roadmap", label=_("Roadmap column")),
        Column("allowed_next", label=_("May move on to"), accessor=following_label),
    ]
    # Workflow order: the list reads like the path an idea takes.
    ordering = ["position", "pk"]
    edit_handler = ObjectList(
        [
            FieldRowPanel([FieldPanel("name"), FieldPanel("name_zh")]),
            FieldRowPanel([FieldPanel("key"), FieldPanel("position")]),
            FieldPanel("kind"),
            FieldPanel("is_initial"),
            FieldPanel("requires_note"),
            FieldPanel("on_roadmap"),
            FieldPanel("allowed_next", widget=forms.CheckboxSelectMultiple),
        ],
        base_form_class=IdeaStatusForm,
    )

    def get_queryset(self, request):
        return IdeaStatus.objects.prefetch_related(
            Prefetch("allowed_next", queryset=IdeaStatus.objects.order_by("position", "pk"))
        )
