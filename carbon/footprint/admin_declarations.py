"""Green-power declarations in the Wagtail admin: the review queue, verify or reject with a reason,
and the evidence download."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views import View
from wagtail.admin.ui.tables import (
    Column,
    DateColumn,
    UserColumn,
)
from wagtail.admin.views.generic import InspectView
from wagtail.admin.viewsets.model import ModelViewSet

from carbon.footprint import actions, declarations, permissions
from carbon.footprint.exceptions import DeclarationError
from carbon.models import (
    DeclarationStatus,
    GreenPowerDeclaration,
)
from portal import audit
from portal.admin_common import (
    Html,
    format_when,
    format_who,
    inspect_field,
    status_column,
)
from portal.admin_decisions import Decision, DecisionScreen, DecisionsViewSetMixin, Reason
from portal.security import harden_download
from portal.wagtail_hooks import IndexQuerysetMixin

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _decided_text(declaration: GreenPowerDeclaration) -> str:
    return _(
        "This declaration was %(status)s by %(who)s on %(when)s. A decision is final: the "
        "customer submits a new declaration to change it."
    ) % {
        "status": declaration.get_status_display().lower(),
        "who": format_who(declaration.verified_by),
        "when": format_when(declaration.verified_at),
    }


def _ratio(declaration: GreenPowerDeclaration) -> str:
    return f"{declaration.green_ratio * 100:.1f} %"


def _period(declaration: GreenPowerDeclaration) -> str:
    return f"{declaration.period_start:%Y-%m-%d} – {declaration.period_end:%Y-%m-%d}"


class DeclarationInspectView(InspectView):
    """Every field of a declaration, a link to its evidence and the verify/reject actions."""

    # Set by the viewset: Wagtail passes it to the views that declare the attribute.
    viewset: Any = None

    def get_object(self, queryset=None):
        return get_object_or_404(
            GreenPowerDeclaration.objects.select_related(
                "organisation", "site", "submitted_by", "verified_by"
            ),
            pk=self.pk,
        )

    def get_green_ratio_display_value(self):
        return _ratio(self.object)

    def get_evidence_display_value(self):
        # Never the storage URL: private files have none. A permission-checked admin view.
        if not self.object.evidence:
            return _("No evidence file")
        if not permissions.can_verify(self.request.user):
            return _("On file (sustainability staff can download it)")
        extension = self.object.evidence.name.rsplit(".", 1)[-1].upper()
        return Html(
            format_html(
                '<a href="{}" download>{}</a>',
                self.viewset.url("evidence", self.object),
                _("Download the evidence (%(type)s)") % {"type": extension},
            )
        )

    @cached_property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        decl, vs = self.object, self.viewset
        if decl.status == DeclarationStatus.PENDING and permissions.can_verify(self.request.user):
            buttons += DECISIONS.buttons(vs, decl)
        return buttons

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        decl = self.object
        if decl.status == DeclarationStatus.PENDING:
            decision: StrOrPromise = (
                _("Pending: verify or reject it with the buttons above.")
                if permissions.can_verify(self.request.user)
                else _("Pending: a member of the sustainability team verifies or rejects it.")
            )
        else:
            decision = _decided_text(decl)
        context["fields"] = [inspect_field(_("Decision"), decision), *context["fields"]]
        return context


class DeclarationDecisions(DecisionScreen):
    """Verify or reject a pending declaration: sustainability staff and superusers only."""

    def has_permission(self, user) -> bool:
        return permissions.can_verify(user)

    def get_object(self, pk: int) -> GreenPowerDeclaration:
        return get_object_or_404(
            GreenPowerDeclaration.objects.select_related("organisation", "site", "verified_by"),
            pk=pk,
        )

    def refusal(self, obj: GreenPowerDeclaration) -> str | None:
        if obj.status != DeclarationStatus.PENDING:
            return _decided_text(obj)
        return None

    def summary_rows(self, obj: GreenPowerDeclaration) -> list[tuple[Any, Any]]:
        return [
            (_("Organisation"), obj.organisation),
            (_("Site"), obj.site),
            (_("Period"), _period(obj)),
            (_("Green ratio"), _ratio(obj)),
            (_("Instrument"), obj.get_instrument_display()),
        ]

    def message_values(self, obj: GreenPowerDeclaration) -> dict[str, Any]:
        return {"decl": obj}


DECISIONS = DeclarationDecisions(
    index_label=_("Declarations"),
    refused=(DeclarationError,),
    # A decision is final: the declaration's page says so.
    back_to_index=False,
    decisions=[
        Decision(
            name="verify",
            label=_("Verify"),
            title=_("Verify declaration"),
            icon="check",
            reason=Reason(
                "note",
                _("Note (optional)"),
                help_text=_("Kept with the decision and shown to the customer."),
            ),
            perform=lambda act: actions.verify_declaration(
                act.obj, act.user, note=act.reason, request=act.request
            ),
            message=_(
                "Verified %(decl)s. The site's orders in the period are being recalculated with it."
            ),
        ),
        Decision(
            name="reject",
            label=_("Reject"),
            title=_("Reject declaration"),
            icon="cross",
            reason=Reason(
                "note",
                _("Why is it rejected?"),
                required=True,
                rows=4,
                help_text=_("The customer sees this note; say what they need to correct."),
            ),
            perform=lambda act: actions.reject_declaration(
                act.obj, act.reason, act.user, request=act.request
            ),
            message=_("Rejected %(decl)s. The customer sees your note."),
        ),
    ],
)


class EvidenceDownloadView(View):
    """Stream a declaration's evidence from private storage to sustainability staff; audited."""

    def get(self, request, pk):
        if not permissions.can_verify(request.user):
            raise PermissionDenied
        declaration = get_object_or_404(GreenPowerDeclaration, pk=pk)
        if not declaration.evidence:
            raise Http404(_("No evidence file."))
        extension = declaration.evidence.name.rsplit(".", 1)[-1].lower()
        response = FileResponse(
            declaration.evidence.open("rb"),
            content_type=declarations.CONTENT_TYPES.get(extension, "application/octet-stream"),
            as_attachment=True,
            filename=f"green-power-{declaration.pk}.{extension}",
        )
        harden_download(response)
        audit.record(
            "carbon.green_power_evidence_downloaded",
            actor=request.user,
            organisation=declaration.organisation,
            obj=declaration,
            request=request,
        )
        return response


class GreenPowerDeclarationViewSet(DecisionsViewSetMixin, IndexQuerysetMixin, ModelViewSet):
    model = GreenPowerDeclaration
    name = "carbon_declarations"
    icon = "circle-check"
    menu_label = _("Green-power declarations")
    add_to_admin_menu = False
    # Required by ModelViewSet; the read-only policy never lets anyone reach the form.
    exclude_form_fields: list[str] = []
    list_display = [
        "site",
        "organisation",
        Column("period", label=_("Period"), accessor=_period, sort_key="period_start"),
        Column("green_ratio", label=_("Green ratio"), accessor=_ratio, sort_key="green_ratio"),
        "instrument",
        status_column(lambda d: d.status == DeclarationStatus.PENDING),
        UserColumn("submitted_by", label=_("Submitted by")),
        DateColumn(
            "submitted_at",
            # Wagtail says "Submitted" of a workflow state (已提交); this column is a time.
            label=pgettext_lazy("submission time", "Submitted"),
            sort_key="submitted_at",
        ),
    ]
    list_filter = ["status", "organisation", "instrument"]
    search_fields = ["site__name", "organisation__name"]
    inspect_view_enabled = True
    inspect_view_class = DeclarationInspectView
    inspect_view_fields = [
        "organisation",
        "site",
        "period_start",
        "period_end",
        "green_ratio",
        "green_kwh",
        "total_kwh",
        "instrument",
        "evidence",
        "status",
        "submitted_by",
        "submitted_at",
        "verified_by",
        "verified_at",
        "review_note",
    ]
    copy_view_enabled = False
    ordering = ["-submitted_at"]
    decisions = DECISIONS

    def get_queryset(self, request):
        return GreenPowerDeclaration.objects.select_related("organisation", "site", "submitted_by")

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("evidence/<int:pk>/", EvidenceDownloadView.as_view(), name="evidence"),
        ]
