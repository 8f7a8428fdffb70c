"""Staff screens for merging a duplicate idea into its primary and undoing a merge (product
staff, in the Wagtail admin): pick the primary by id or by searching the duplicate's board, read
what will move, confirm; the idea's merge history lists each merge with its undo."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin.auth import permission_denied
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from beta_program.boards import merge as merging
from beta_program.boards.access import can_manage
from beta_program.boards.models import Idea, IdeaMerge
from portal.exceptions import PermissionDeniedError

# At most this many ideas answer a search of the board (staff refine the words beyond that).
SEARCH_LIMIT = 20


class PrimaryForm(forms.Form):
    primary = forms.IntegerField(
        label=gettext_lazy("Primary idea (#)"), min_value=1, max_value=2**63 - 1
    )


class _ProductStaffView(WagtailAdminTemplateMixin, TemplateView):
    """Only product staff merge (the admin itself has already refused customers and sent staff
    without a second factor to its set-up)."""

    header_icon = "resubmit"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_manage(request.user):
            return permission_denied(request)
        return super().dispatch(request, *args, **kwargs)

    def refused(self, exc: Exception, to: str) -> HttpResponse:
        messages.error(self.request, str(exc))
        return redirect(to)


def merge_url(idea: Idea | int) -> str:
    return reverse("boards_idea_merge", kwargs={"idea_id": getattr(idea, "pk", idea)})


class IdeaMergeView(_ProductStaffView):
    """GET: the search, the chosen primary's preview (counts) with the confirmation button, and
    the idea's merge history. POST: merge into the primary posted."""

    template_name = "beta_program/boards/admin/merge.html"

    def setup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        self.idea = get_object_or_404(
            Idea.objects.select_related("board", "status", "merged_into"),
            pk=kwargs["idea_id"],
        )

    def get_page_title(self) -> str:
        return _("Merge #%(id)s into…") % {"id": self.idea.pk}

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        return [*self.breadcrumbs_items, {"url": "", "label": self.get_page_title()}]

    def candidates(self, query: str) -> list[Idea]:
        """Ideas of the same board still listed (not merged) whose title has the words, or whose
        number is the query."""
        ideas = Idea.objects.filter(board=self.idea.board).listed().exclude(pk=self.idea.pk)
        words = query.split()
        if not words:
            return []
        match = Q()
        for word in words:
            match &= Q(title__icontains=word)
        if query.strip().lstrip("#").isdigit():
            match |= Q(pk=int(query.strip().lstrip("#")))
        return list(
            ideas.filter(match)
            .select_related("status")
            .order_by("-vote_count", "-pk")[:SEARCH_LIMIT]
        )

    def preview(self, form: PrimaryForm) -> dict[str, Any]:
        if not form.is_valid():
            return {}
        primary = (
            Idea.objects.select_related("board", "status")
            .filter(pk=form.cleaned_data["primary"])
            .first()
        )
        if primary is None:
            return {
                "refusal": _("There is no idea #%(id)s.") % {"id": form.cleaned_data["primary"]}
            }
        refusal = merging.merge_refusal(self.idea, primary)
        if refusal:
            return {"primary": primary, "refusal": refusal}
        return {"primary": primary, "counts": merging.plan_merge(self.idea, primary).counts()}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        query = self.request.GET.get("q", "")[:200]
        chosen = PrimaryForm(self.request.GET) if "primary" in self.request.GET else PrimaryForm()
        history = (
            IdeaMerge.objects.filter(Q(duplicate=self.idea) | Q(primary=self.idea))
            .select_related("duplicate", "primary", "merged_by", "undone_by", "previous_status")
            .order_by("-merged_at", "-pk")
        )
        context.update(
            idea=self.idea,
            query=query,
            candidates=self.candidates(query),
            form=chosen,
            history=history,
            **self.preview(chosen),
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = PrimaryForm(request.POST)
        if not form.is_valid():
            return self.refused(
                ValueError(_("Choose the primary idea by its number.")), merge_url(self.idea)
            )
        primary = Idea.objects.filter(pk=form.cleaned_data["primary"]).first()
        if primary is None:
            return self.refused(
                ValueError(_("There is no idea #%(id)s.") % {"id": form.cleaned_data["primary"]}),
                merge_url(self.idea),
            )
        try:
            merging.merge(self.idea, primary, request.user, request=request)
        except PermissionDeniedError:
            return permission_denied(request)
        except merging.MergeRefused as exc:
            return self.refused(exc, merge_url(self.idea))
        messages.success(
            request,
            _("#%(duplicate)s was merged into #%(primary)s.")
            % {"duplicate": self.idea.pk, "primary": primary.pk},
        )
        return redirect(merge_url(self.idea))


class MergeUndoView(_ProductStaffView):
    """GET: what undoing will restore, and the confirmation button. POST: undo."""

    template_name = "beta_program/boards/admin/merge_undo.html"

    def setup(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        self.merge = get_object_or_404(
            IdeaMerge.objects.select_related("duplicate", "primary", "previous_status"),
            pk=kwargs["merge_id"],
        )

    def get_page_title(self) -> str:
        return _("Undo the merge of #%(duplicate)s into #%(primary)s") % {
            "duplicate": self.merge.duplicate_id,
            "primary": self.merge.primary_id,
        }

    def get_breadcrumbs_items(self) -> list[dict[str, Any]]:
        return [
            *self.breadcrumbs_items,
            {"url": merge_url(self.merge.duplicate_id), "label": str(self.merge.duplicate)},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        moved = self.merge.moved
        context.update(
            merge=self.merge,
            counts={name: len(moved.get(name, [])) for name in merging.MOVED_PARTS},
        )
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        back = merge_url(self.merge.duplicate_id)
        try:
            merging.undo_merge(self.merge, request.user, request=request)
        except PermissionDeniedError:
            return permission_denied(request)
        except merging.MergeRefused as exc:
            return self.refused(exc, back)
        messages.success(
            request,
            _("The merge of #%(duplicate)s into #%(primary)s was undone.")
            % {"duplicate": self.merge.duplicate_id, "primary": self.merge.primary_id},
        )
        return redirect(back)


@hooks.register("register_admin_urls")
def register_merge_urls() -> list:
    # Wagtail wraps these in its admin sign-in check (customers are sent to sign in).
    return [
        path(
            "idea-merges/idea/<int:idea_id>/",
            IdeaMergeView.as_view(),
            name="boards_idea_merge",
        ),
        path(
            "idea-merges/<int:merge_id>/undo/",
            MergeUndoView.as_view(),
            name="boards_merge_undo",
        ),
    ]
