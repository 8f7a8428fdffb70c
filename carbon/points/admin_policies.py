"""Points policies in the Wagtail admin: draft, copy, edit while a draft, submit, and approve by a
second person."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import (
    Column,
    UserColumn,
)
from wagtail.admin.views.generic import CreateView, IndexView
from wagtail.admin.views.generic.models import CopyViewMixin
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import HeaderButton

from carbon.models import (
    PointsPolicy,
    PolicyStatus,
)
from carbon.points import actions, awards, ledger
from carbon.points.admin_base import PointsFormView, date_column, date_or_dash
from carbon.points.baselines import SERVICE_CLASS_LABELS
from carbon.points.exceptions import PolicyError
from carbon.points.forms_admin import (
    PointsPolicyForm,
)
from carbon.points.permissions import can_manage_policies
from carbon.points.policies import POLICY_FIELDS
from portal.admin_common import (
    ConfirmForm,
    DraftOnlyEditView,
    DraftOnlyInspectView,
    ObjectActionsViewSetMixin,
    definition_list,
    format_when,
    format_who,
    inspect_field,
    status_column,
)
from portal.exceptions import PortalError
from portal.wagtail_hooks import IndexQuerysetMixin

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _rate(policy: PointsPolicy) -> str:
    return f"{policy.points_per_kg.normalize():f}"


def _cap(policy: PointsPolicy) -> StrOrPromise:
    return str(policy.per_period_cap) if policy.per_period_cap is not None else _("No cap")


def baseline_text(policy: PointsPolicy) -> str:
    """The baselines the policy uses, per service class, the way awards read them, with their
    sources and the modal-shift rules."""
    try:
        settings = awards.policy_baselines(policy)
    except PortalError as exc:
        return _("Cannot be derived: %(why)s") % {"why": exc.message}
    if policy.baseline_kg_per_tkm is not None:
        return _("%(value)s kgCO2e per t·km for every service class (set in this policy)") % {
            "value": f"{policy.baseline_kg_per_tkm.normalize():f}"
        }
    rows = [
        f"{SERVICE_CLASS_LABELS[b.service_class]}: {b.kg_per_tkm.normalize():f} kgCO2e/t·km "
        f"({b.source})"
        for b in settings.classes.values()
    ]
    rows += [
        _("modal shift: %(own)s up to %(km)s km against %(other)s")
        % {"own": SERVICE_CLASS_LABELS[own], "other": SERVICE_CLASS_LABELS[other], "km": km}
        for own, other, km in settings.modal_shift
    ]
    return "; ".join(str(row) for row in rows)


def _workflow_text(policy: PointsPolicy) -> StrOrPromise:
    if policy.status == PolicyStatus.DRAFT:
        return _("Draft: edit it, then submit it for approval.")
    if policy.status == PolicyStatus.AWAITING_APPROVAL:
        return _(
            "Awaiting approval: submitted by %(who)s; another staff member must approve it."
        ) % {"who": format_who(policy.submitted_by)}
    return _(
        "%(status)s: approved by %(who)s on %(when)s; applies to orders delivered from %(from)s."
    ) % {
        "status": policy.get_status_display(),
        "who": format_who(policy.approved_by),
        "when": format_when(policy.approved_at),
        "from": date_or_dash(policy.effective_from),
    }


class PolicyIndexView(IndexView):
    add_item_label = _("New draft")

    def get_edit_url(self, instance):
        if instance.status != PolicyStatus.DRAFT:
            return None
        return super().get_edit_url(instance)


class PolicyCreateView(CreateView):
    # Set by the viewset: Wagtail passes it to the views that declare the attribute.
    viewset: Any = None

    def get_page_subtitle(self):
        return _("New draft points policy")

    def save_instance(self):
        return actions.create_draft_policy(self.form.instance, by=self.request.user)

    def get_success_url(self):
        return self.viewset.url("inspect", self.object)


class PolicyCopyView(CopyViewMixin, PolicyCreateView):
    """A new draft that starts from another version's parameters."""

    def get_initial_form_instance(self):
        source = self.get_object()
        return PointsPolicy(**{name: getattr(source, name) for name in POLICY_FIELDS})

    def get_page_subtitle(self):
        return _("New draft from version %(version)s") % {"version": self.get_object().version}


class PolicyEditView(DraftOnlyEditView):
    # Set by the viewset: Wagtail passes it to the views that declare the attribute.
    viewset: Any = None
    draft_status = PolicyStatus.DRAFT
    not_draft_message = _("Only a draft can be edited. Create a new draft to change the policy.")

    def save_instance(self):
        return actions.update_draft_policy(self.form.instance, by=self.request.user)

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except PolicyError as exc:
            messages.error(self.request, exc.message)
            return redirect(self.viewset.url("inspect", form.instance))

    def get_success_url(self):
        return self.viewset.url("inspect", self.object)


class PolicyInspectView(DraftOnlyInspectView):
    """The parameters, the workflow state, the derived baseline and the customer formula."""

    # Set by the viewset: Wagtail passes it to the views that declare the attribute.
    viewset: Any = None
    draft_status = PolicyStatus.DRAFT

    def get_object(self, queryset=None):
        return get_object_or_404(
            PointsPolicy.objects.select_related("created_by", "submitted_by", "approved_by"),
            pk=self.pk,
        )

    def get_points_per_kg_display_value(self):
        return _rate(self.object)

    def get_per_period_cap_display_value(self):
        return _cap(self.object)

    def get_baseline_kg_per_tkm_display_value(self):
        return baseline_text(self.object)

    def get_baselines_display_value(self):
        return baseline_text(self.object)

    def get_include_green_power_display_value(self):
        return _("Yes") if self.object.include_green_power else _("No")

    def get_explanation_display_value(self):
        return self.object.explanation or "—"

    def get_explanation_zh_display_value(self):
        return self.object.explanation_zh or "—"

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        policy, user, vs = self.object, self.request.user, self.viewset
        if not can_manage_policies(user):
            return buttons
        if policy.status != PolicyStatus.DRAFT:
            buttons.append(
                HeaderButton(
                    _("New draft from this version"), url=vs.url("copy", policy), icon_name="copy"
                )
            )
        if policy.status == PolicyStatus.DRAFT:
            buttons.append(
                HeaderButton(
                    _("Submit for approval"), url=vs.url("submit", policy), icon_name="mail"
                )
            )
        if policy.status == PolicyStatus.AWAITING_APPROVAL and policy.submitted_by_id != user.pk:
            buttons.append(
                HeaderButton(_("Approve"), url=vs.url("approve", policy), icon_name="tick")
            )
        return buttons

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["fields"] = [
            inspect_field(_("Workflow"), _workflow_text(self.object)),
            *context["fields"],
            inspect_field(_("Formula"), ledger.FORMULA),
        ]
        return context


class PolicyActionView(PointsFormView):
    """Submit or approve a policy: staff who manage policies only."""

    header_icon = "doc-full"
    form_class = ConfirmForm
    index_label = _("Points policies")
    refused = (PolicyError,)

    def has_permission(self, user) -> bool:
        return can_manage_policies(user)

    def get_object(self) -> PointsPolicy:
        return get_object_or_404(
            PointsPolicy.objects.select_related("submitted_by"), pk=self.kwargs["pk"]
        )

    def summary(self):
        policy = self.object
        return definition_list(
            [
                (_("Effective from"), date_or_dash(policy.effective_from)),
                (_("Points per kg CO2e avoided"), _rate(policy)),
                (_("Baseline"), baseline_text(policy)),
                (
                    _("Green power (Scope 2) counts"),
                    _("Yes") if policy.include_green_power else _("No"),
                ),
                (_("Pending period"), _("%(n)s days") % {"n": policy.pending_days}),
                (_("Expiry"), _("%(n)s months") % {"n": policy.expiry_months}),
                (_("Cap per order"), _cap(policy)),
                (_("Explanation for customers"), policy.explanation or "—"),
            ]
        )


class SubmitPolicyView(PolicyActionView):
    page_title = _("Submit for approval")
    submit_button_label = _("Submit for approval")

    def perform(self, form) -> StrOrPromise:
        actions.submit_policy(self.object, self.acting_user)
        return _("Submitted. Another staff member must approve it before it applies.")


class ApprovePolicyView(PolicyActionView):
    page_title = _("Approve points policy")
    submit_button_label = _("Approve")

    def get(self, request, *args, **kwargs):
        # Four eyes: say so at once rather than after the submitter confirms.
        if self.object.submitted_by_id == request.user.pk:
            messages.error(
                request, _("A policy must be approved by someone other than its submitter.")
            )
            return self.back()
        return super().get(request, *args, **kwargs)

    def perform(self, form) -> str:
        policy = actions.approve_policy(self.object, self.acting_user)
        return _("Approved version %(version)s. It applies to orders delivered from %(from)s.") % {
            "version": policy.version,
            "from": date_or_dash(policy.effective_from),
        }


class PointsPolicyViewSet(ObjectActionsViewSetMixin, IndexQuerysetMixin, ModelViewSet):
    model = PointsPolicy
    name = "points_policies"
    icon = "doc-full"
    menu_label = _("Policies")
    add_to_admin_menu = False
    edit_handler = ObjectList(
        [
            FieldPanel("effective_from"),
            MultiFieldPanel(
                [
                    FieldPanel("points_per_kg"),
                    FieldPanel("baselines"),
                    FieldPanel("baseline_kg_per_tkm"),
                    FieldPanel("include_green_power"),
                    FieldPanel("settlement_period"),
                    FieldPanel("per_period_cap"),
                ],
                heading=_("Award"),
            ),
            FieldRowPanel(
                [FieldPanel("pending_days"), FieldPanel("expiry_months")],
                heading=_("Pending and expiry"),
            ),
            MultiFieldPanel(
                [FieldPanel("explanation"), FieldPanel("explanation_zh")],
                heading=_("Explanation for customers"),
            ),
        ],
        base_form_class=PointsPolicyForm,
    )
    index_view_class = PolicyIndexView
    add_view_class = PolicyCreateView
    copy_view_class = PolicyCopyView
    edit_view_class = PolicyEditView
    inspect_view_class = PolicyInspectView
    list_display = [
        "version",
        status_column(lambda p: p.status == PolicyStatus.ACTIVE),
        date_column("effective_from", _("Effective from")),
        Column("points_per_kg", label=_("Points per kg CO2e"), accessor=_rate),
        Column("per_period_cap", label=_("Cap per settlement period"), accessor=_cap),
        UserColumn("approved_by", label=_("Approved by")),
    ]
    list_filter = ["status"]
    inspect_view_enabled = True
    inspect_view_fields = [
        "version",
        "effective_from",
        "points_per_kg",
        "baselines",
        "baseline_kg_per_tkm",
        "include_green_power",
        "settlement_period",
        "pending_days",
        "expiry_months",
        "per_period_cap",
        "explanation",
        "explanation_zh",
        "created_by",
    ]
    ordering = ["-version"]
    object_actions = {"submit": SubmitPolicyView, "approve": ApprovePolicyView}

    def get_queryset(self, request):
        return PointsPolicy.objects.select_related("approved_by")
