"""Staff screens for carbon points in the Wagtail admin, in their own "Points" menu group:
the redemption queue (fulfil or reject), the service catalogue, balances and the read-only
ledger with manual adjustments, and the versioned points policy with its four-eyes approval.

Who sees what follows the model permissions of the staff roles: customer success staff run the
catalogue and the queue, sustainability staff the policies and the ledger (both may read the
queue and the catalogue). Every state change goes through carbon.points.ledger or
carbon.points.redemptions;
these views parse, authorise, call one action and respond, with Wagtail's own templates.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import (
    BooleanColumn,
    Column,
    DateColumn,
    Table,
    UserColumn,
)
from wagtail.admin.views.generic import CreateView, IndexView, InspectView
from wagtail.admin.views.generic.models import CopyViewMixin
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.admin.widgets import Button, HeaderButton, ListingButton

from carbon.exceptions import PolicyError
from carbon.models import (
    EntryKind,
    LedgerEntry,
    PointsAccount,
    PointsPolicy,
    PolicyStatus,
    Redemption,
    RedemptionStatus,
    Service,
)
from carbon.points import ledger, permissions, redemptions
from carbon.points.forms_admin import (
    AdjustmentForm,
    FulfilForm,
    PointsPolicyForm,
    RejectRedemptionForm,
    ServiceForm,
    new_adjustment_key,
)
from carbon.points.permissions import can_adjust, can_manage_policies
from portal import audit
from portal.admin_common import (
    ActionFormView,
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
from portal.models import Organisation, User
from portal.text import ascii_integer
from portal.wagtail_hooks import IndexQuerysetMixin

FORM_TEMPLATE = "carbon/admin/points/form.html"
# --- shared pieces


def _signed(value: int) -> str:
    return f"{value:+d}" if value else "0"


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else "—"


def _date_column(name: str, label: str) -> Column:
    """A sortable column of a date field that may be empty."""
    return Column(name, label=label, accessor=lambda obj: _date(getattr(obj, name)), sort_key=name)


def _organisation_balances(organisation: Organisation) -> str:
    # Read-only: a page view never creates the account (ledger.account_for would).
    account = PointsAccount.objects.filter(organisation=organisation).first()
    if account is None:
        return _("No points yet.")
    return _balances_text(ledger.balances(account))


def _balances_text(balances: ledger.Balances) -> str:
    return _(
        "%(available)s available, %(pending)s pending, %(held)s held for redemptions; "
        "%(expiring)s expiring within 90 days."
    ) % {
        "available": balances.available,
        "pending": balances.pending,
        "held": balances.held,
        "expiring": balances.expiring_soon,
    }


class PointsFormView(ActionFormView):
    """An action form that also shows form-level errors. It has no subtitle: the generic form
    template shows the subtitle instead of the title, and the summary above the form names the
    object, so the heading says what the form does."""

    template_name = FORM_TEMPLATE


# --- points policies


POLICY_FIELDS = [
    "effective_from",
    "baseline_kg_per_tkm",
    "points_per_kg",
    "include_green_power",
    "pending_days",
    "expiry_months",
    "per_order_cap",
    "explanation",
    "explanation_zh",
]


def create_draft_policy(policy: PointsPolicy, by: User) -> PointsPolicy:
    """Store `policy` (its parameters filled in) as a new draft with the next version number.
    The unique version backs the numbering; a concurrent draft that took the number first makes
    this one retry with the next."""
    for attempt in range(3):
        try:
            with transaction.atomic():
                latest = PointsPolicy.objects.aggregate(v=Max("version"))["v"] or 0
                policy.version = latest + 1
                policy.status = PolicyStatus.DRAFT
                policy.created_by = by
                policy.submitted_by = policy.approved_by = policy.approved_at = None
                policy.save()
                audit.record(
                    "carbon.points_policy.created",
                    actor=by,
                    obj=policy,
                    details={"version": policy.version},
                )
            return policy
        except IntegrityError:
            if attempt == 2:
                raise
            policy.pk = None
    return policy  # pragma: no cover - the loop returns or raises


def update_draft_policy(policy: PointsPolicy, by: User) -> PointsPolicy:
    """Save the edited parameters of a draft; refused once it has been submitted (checked under
    the row lock, so an edit cannot slip in after a submission)."""
    with transaction.atomic():
        current = PointsPolicy.objects.select_for_update().get(pk=policy.pk)
        if current.status != PolicyStatus.DRAFT:
            raise PolicyError(
                f"Only a draft policy can be edited; this one is "
                f"{current.get_status_display().lower()}.",
                code="policy_not_draft",
            )
        policy.save(update_fields=POLICY_FIELDS)
        audit.record(
            "carbon.points_policy.updated",
            actor=by,
            obj=policy,
            details={"version": policy.version},
        )
    return policy


def _rate(policy: PointsPolicy) -> str:
    return f"{policy.points_per_kg.normalize():f}"


def _cap(policy: PointsPolicy) -> str:
    return str(policy.per_order_cap) if policy.per_order_cap is not None else _("No cap")


def baseline_text(policy: PointsPolicy) -> str:
    """The baseline the policy uses, derived the way awards derive it, and where it is from."""
    try:
        value, source = ledger.baseline_intensity(policy)
    except PortalError as exc:
        return _("Cannot be derived: %(why)s") % {"why": exc.message}
    figure = f"{value.normalize():f}"
    if source.get("source") == "policy":
        return _("%(value)s kgCO2e per t·km (set in this policy)") % {"value": figure}
    factors = source.get("factors") or []
    return _("%(value)s kgCO2e per t·km, from %(dataset)s: %(rows)s") % {
        "value": figure,
        "dataset": factors[0].get("dataset") if factors else "?",
        "rows": "; ".join(
            f"{f.get('category')} {f.get('energy_scope')} {f.get('value')} {f.get('unit')}"
            for f in factors
        ),
    }


def _workflow_text(policy: PointsPolicy) -> str:
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
        "from": _date(policy.effective_from),
    }


class PolicyIndexView(IndexView):
    add_item_label = _("New draft")

    def get_edit_url(self, instance):
        if instance.status != PolicyStatus.DRAFT:
            return None
        return super().get_edit_url(instance)


class PolicyCreateView(CreateView):
    viewset = None

    def get_page_subtitle(self):
        return _("New draft points policy")

    def save_instance(self):
        return create_draft_policy(self.form.instance, by=self.request.user)

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
    viewset = None
    draft_status = PolicyStatus.DRAFT
    not_draft_message = _("Only a draft can be edited. Create a new draft to change the policy.")

    def save_instance(self):
        return update_draft_policy(self.form.instance, by=self.request.user)

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

    viewset = None
    draft_status = PolicyStatus.DRAFT

    def get_object(self, queryset=None):
        return get_object_or_404(
            PointsPolicy.objects.select_related("created_by", "submitted_by", "approved_by"),
            pk=self.pk,
        )

    def get_points_per_kg_display_value(self):
        return _rate(self.object)

    def get_per_order_cap_display_value(self):
        return _cap(self.object)

    def get_baseline_kg_per_tkm_display_value(self):
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
                (_("Effective from"), _date(policy.effective_from)),
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

    def perform(self, form) -> str:
        ledger.submit_policy(self.object, self.request.user)
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
        policy = ledger.approve_policy(self.object, self.request.user)
        return _("Approved version %(version)s. It applies to orders delivered from %(from)s.") % {
            "version": policy.version,
            "from": _date(policy.effective_from),
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
                    FieldPanel("baseline_kg_per_tkm"),
                    FieldPanel("include_green_power"),
                    FieldPanel("per_order_cap"),
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
        _date_column("effective_from", _("Effective from")),
        Column("points_per_kg", label=_("Points per kg CO2e"), accessor=_rate),
        Column("per_order_cap", label=_("Cap per order"), accessor=_cap),
        UserColumn("approved_by", label=_("Approved by")),
    ]
    list_filter = ["status"]
    inspect_view_enabled = True
    inspect_view_fields = [
        "version",
        "effective_from",
        "points_per_kg",
        "baseline_kg_per_tkm",
        "include_green_power",
        "pending_days",
        "expiry_months",
        "per_order_cap",
        "explanation",
        "explanation_zh",
        "created_by",
    ]
    ordering = ["-version"]
    object_actions = {"submit": SubmitPolicyView, "approve": ApprovePolicyView}

    def get_queryset(self, request):
        return PointsPolicy.objects.select_related("approved_by")


# --- service catalogue


def _offered_today(service: Service) -> bool:
    today = timezone.localdate()
    return bool(
        service.is_active
        and (service.active_from is None or service.active_from <= today)
        and (service.active_until is None or service.active_until >= today)
    )


def _capacity(service: Service) -> str:
    return str(service.monthly_capacity) if service.monthly_capacity is not None else _("No limit")


def _window(service: Service) -> str:
    if not (service.active_from or service.active_until):
        return _("Always")
    return f"{_date(service.active_from)} – {_date(service.active_until)}"


class ServiceIndexView(IndexView):
    """The catalogue with this month's use of each service's capacity, in one query."""

    def get_base_queryset(self):
        month = redemptions.month_start(timezone.localdate())
        return Service.objects.annotate(
            used_this_month=Count(
                "redemptions",
                filter=Q(
                    redemptions__capacity_month=month,
                    redemptions__status__in=redemptions.OPEN_STATUSES,
                ),
            )
        )


class ServiceViewSet(ModelViewSet):
    model = Service
    name = "points_services"
    icon = "cogs"
    menu_label = _("Services")
    add_to_admin_menu = False
    edit_handler = ObjectList(
        [
            MultiFieldPanel(
                [
                    FieldRowPanel([FieldPanel("name"), FieldPanel("name_zh")]),
                    FieldRowPanel([FieldPanel("slug"), FieldPanel("kind")]),
                    FieldPanel("description"),
                    FieldPanel("description_zh"),
                    FieldPanel("image"),
                ],
                heading=_("What customers see"),
            ),
            MultiFieldPanel(
                [
                    FieldRowPanel([FieldPanel("points_cost"), FieldPanel("monthly_capacity")]),
                    FieldPanel("requires_site"),
                ],
                heading=_("Cost and capacity"),
            ),
            MultiFieldPanel(
                [FieldPanel("eligible_tiers"), FieldPanel("eligible_countries")],
                heading=_("Who may redeem it"),
            ),
            MultiFieldPanel(
                [
                    FieldPanel("is_active"),
                    FieldRowPanel([FieldPanel("active_from"), FieldPanel("active_until")]),
                    FieldPanel("sort_order"),
                ],
                heading=_("When it is offered"),
            ),
        ],
        base_form_class=ServiceForm,
    )
    index_view_class = ServiceIndexView
    list_display = [
        "name",
        "kind",
        Column("points_cost", label=_("Points cost"), sort_key="points_cost"),
        Column("monthly_capacity", label=_("Monthly capacity"), accessor=_capacity),
        Column("used_this_month", label=_("Used this month"), sort_key="used_this_month"),
        Column("window", label=_("Window"), accessor=_window),
        BooleanColumn("offered", label=_("Offered today"), accessor=_offered_today),
    ]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "name_zh", "slug"]
    inspect_view_enabled = True
    copy_view_enabled = False
    ordering = ["sort_order", "name"]


# --- redemption queue


class RedemptionFilterSet(WagtailFilterSet):
    """The queue opens on open requests; "All" shows every status."""

    ALL = "all"

    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=[*RedemptionStatus.choices, (ALL, _("All"))],
        empty_label=None,
        method="filter_status",
        widget=forms.RadioSelect,
        initial=RedemptionStatus.REQUESTED,
    )
    organisation = django_filters.ModelChoiceFilter(
        label=_("Organisation"), queryset=Organisation.objects.order_by("name")
    )
    service = django_filters.ModelChoiceFilter(
        label=_("Service"), queryset=Service.objects.order_by("name")
    )

    class Meta:
        model = Redemption
        fields = ["status", "organisation", "service"]

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and not data.get("status"):
            data = data.copy()
            data["status"] = RedemptionStatus.REQUESTED
        super().__init__(data, *args, **kwargs)

    def filter_status(self, queryset, name, value):
        return queryset if value == self.ALL else queryset.filter(status=value)


def _site(redemption: Redemption) -> str:
    site = redemption.site
    return f"{site.name} ({site.country})" if site else "—"


def _can_decide(redemption: Redemption, user: User) -> bool:
    return redemption.status == RedemptionStatus.REQUESTED and permissions.can_fulfil(user)


class RedemptionIndexView(IndexView):
    viewset = None

    def get_page_title(self):
        # The queue opens filtered to open requests; the title says so, as the filter is hidden.
        status = None
        if self.filters and self.filters.is_valid():
            status = self.filters.form.cleaned_data.get("status")
        if status == RedemptionFilterSet.ALL:
            return _("Redemptions: all")
        if status:
            return _("Redemptions: %(status)s") % {"status": RedemptionStatus(status).label.lower()}
        return super().get_page_title()

    def get_base_queryset(self):
        return Redemption.objects.select_related("organisation", "service", "site")

    def get_list_more_buttons(self, instance):
        buttons = list(super().get_list_more_buttons(instance))
        if _can_decide(instance, self.request.user):
            # Fulfilling is the common case: a button on the row; rejecting sits in the menu.
            buttons.append(
                ListingButton(
                    _("Fulfil"), url=self.viewset.url("fulfil", instance), icon_name="check"
                )
            )
            buttons.append(
                Button(
                    _("Reject"),
                    url=self.viewset.url("reject", instance),
                    icon_name="cross",
                    priority=40,
                )
            )
        return buttons


class RedemptionInspectView(InspectView):
    """The request, the organisation's points and, for customer success, fulfil or reject."""

    viewset = None

    def get_object(self, queryset=None):
        return get_object_or_404(
            Redemption.objects.select_related(
                "organisation", "service", "site", "requested_by", "decided_by", "cancelled_by"
            ),
            pk=self.pk,
        )

    def get_page_subtitle(self):
        return _("No. %(id)s, %(service)s") % {"id": self.object.pk, "service": self.object.service}

    def get_site_display_value(self):
        return _site(self.object)

    def get_fields_context(self):
        # Only what applies to this request's state: no empty decision or cancellation rows.
        return [
            self.get_context_for_field(name)
            for name in self.fields
            if getattr(self.object, name) not in (None, "")
        ]

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if _can_decide(self.object, self.request.user):
            vs, redemption = self.viewset, self.object
            buttons.append(
                HeaderButton(_("Fulfil"), url=vs.url("fulfil", redemption), icon_name="check")
            )
            buttons.append(
                HeaderButton(_("Reject"), url=vs.url("reject", redemption), icon_name="cross")
            )
        return buttons

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        redemption = self.object
        if redemption.status == RedemptionStatus.REQUESTED:
            step = (
                _("Open: fulfil it (date and assignee) or reject it with the buttons above.")
                if permissions.can_fulfil(self.request.user)
                else _("Open: customer success fulfils or rejects it.")
            )
        else:
            step = redemption.get_status_display()
        context["fields"] = [
            inspect_field(_("State"), step),
            *context["fields"],
            inspect_field(
                _("Organisation's points"), _organisation_balances(redemption.organisation)
            ),
        ]
        return context


class RedemptionDecisionView(PointsFormView):
    """Fulfil or reject an open request: customer success staff and superusers only."""

    index_label = _("Redemptions")
    refused = (redemptions.RedemptionError,)
    refusals_on_form = True

    def has_permission(self, user) -> bool:
        return permissions.can_fulfil(user)

    def get_object(self) -> Redemption:
        return get_object_or_404(
            Redemption.objects.select_related("organisation", "service", "site", "requested_by"),
            pk=self.kwargs["pk"],
        )

    def refusal(self) -> str | None:
        if self.object.status != RedemptionStatus.REQUESTED:
            return _("This redemption is already %(status)s.") % {
                "status": self.object.get_status_display().lower()
            }
        return None

    def summary(self):
        r = self.object
        return definition_list(
            [
                (_("Organisation"), r.organisation),
                (_("Service"), r.service),
                (_("Points"), r.points),
                (_("Site"), _site(r)),
                (_("Preferred date"), _date(r.preferred_date)),
                (_("Note from the customer"), r.customer_note or "—"),
                (_("Requested"), f"{format_when(r.requested_at)}, {format_who(r.requested_by)}"),
            ]
        )

    def perform(self, form) -> str:
        self.decide(form.cleaned_data)
        label = _("%(service)s for %(organisation)s") % {
            "service": self.object.service,
            "organisation": self.object.organisation,
        }
        return self.success_message % {"redemption": label}

    def done(self):
        return redirect(reverse(self.viewset.get_url_name("index")))


class FulfilRedemptionView(RedemptionDecisionView):
    page_title = _("Fulfil redemption")
    header_icon = "check"
    form_class = FulfilForm
    submit_button_label = _("Fulfil")
    success_message = _("Fulfilled: %(redemption)s. The customer is told by e-mail.")

    def get_initial(self):
        preferred = self.object.preferred_date
        return {
            "scheduled_for": preferred if preferred and preferred >= timezone.localdate() else None
        }

    def decide(self, data: dict[str, Any]) -> None:
        redemptions.fulfil(
            self.object,
            self.request.user,
            scheduled_for=data["scheduled_for"],
            assignee=data["assignee"],
            note=data["note"],
        )


class RejectRedemptionView(RedemptionDecisionView):
    page_title = _("Reject redemption")
    header_icon = "cross"
    form_class = RejectRedemptionForm
    submit_button_label = _("Reject")
    success_message = _("Rejected: %(redemption)s. Its points are available again.")

    def decide(self, data: dict[str, Any]) -> None:
        redemptions.reject(self.object, self.request.user, reason=data["reason"])


class RedemptionViewSet(ObjectActionsViewSetMixin, ModelViewSet):
    model = Redemption
    # Written for every request and linked from nowhere in the admin.
    add_to_reference_index = False
    name = "points_redemptions"
    icon = "calendar-check"
    menu_label = _("Redemptions")
    add_to_admin_menu = False
    exclude_form_fields: list[str] = []
    index_view_class = RedemptionIndexView
    inspect_view_class = RedemptionInspectView
    filterset_class = RedemptionFilterSet
    list_display = [
        "service",
        "organisation",
        Column("points", label=_("Points"), sort_key="points"),
        Column("site", label=_("Site"), accessor=_site),
        _date_column("preferred_date", _("Preferred date")),
        DateColumn("requested_at", label=_("Requested"), sort_key="requested_at"),
        status_column(lambda r: r.status == RedemptionStatus.REQUESTED),
        _date_column("scheduled_for", _("Service date")),
    ]
    search_fields = ["organisation__name", "service__name", "customer_note"]
    inspect_view_enabled = True
    inspect_view_fields = [
        "organisation",
        "service",
        "points",
        "site",
        "preferred_date",
        "customer_note",
        "requested_by",
        "requested_at",
        "scheduled_for",
        "assignee",
        "staff_note",
        "decided_by",
        "decided_at",
        "cancelled_by",
        "cancelled_at",
    ]
    copy_view_enabled = False
    # Oldest first: the queue is worked in the order requests came in.
    ordering = ["requested_at", "id"]
    list_per_page = 50
    object_actions = {"fulfil": FulfilRedemptionView, "reject": RejectRedemptionView}


# --- balances and ledger


def _entry_columns() -> list[Column]:
    """What a ledger entry moved, balance by balance, and what it refers to."""
    return [
        Column("points", label=_("Points")),
        Column("pending", label=_("Pending ±"), accessor=lambda e: _signed(e.pending_delta)),
        Column("available", label=_("Available ±"), accessor=lambda e: _signed(e.available_delta)),
        Column("held", label=_("Held ±"), accessor=lambda e: _signed(e.held_delta)),
        Column("reference", label=_("Reference"), accessor=_reference),
    ]


def entry_table(entries) -> Table:
    return Table(
        [
            Column("created_at", label=_("When"), accessor=lambda e: format_when(e.created_at)),
            Column("kind", label=_("Kind"), accessor="get_kind_display"),
            *_entry_columns(),
        ],
        entries,
    )


def _for_organisation(url_name: str, organisation_id: int | str) -> str:
    """A ledger screen's URL narrowed to one organisation."""
    return reverse(url_name) + "?" + urlencode({"organisation": organisation_id})


def _reference(entry: LedgerEntry) -> str:
    if entry.kind == EntryKind.ADJUST:
        return _("%(reason)s (approved by %(who)s)") % {
            "reason": entry.reason,
            "who": format_who(entry.approved_by),
        }
    if entry.order_id:
        return _("Order %(id)s") % {"id": entry.order.external_id}
    if entry.redemption_id:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("points_redemptions:inspect", args=(entry.redemption_id,)),
            _("Redemption No. %(id)s") % {"id": entry.redemption_id},
        )
    if entry.expires_on:
        return _("Expires %(date)s") % {"date": _date(entry.expires_on)}
    return ""


RECENT_ENTRIES = 20


class AccountInspectView(InspectView):
    """One organisation's balances, summed from its entries, and its latest entries."""

    viewset = None

    def get_object(self, queryset=None):
        return get_object_or_404(PointsAccount.objects.select_related("organisation"), pk=self.pk)

    @cached_property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        organisation = self.object.organisation_id
        buttons.append(
            HeaderButton(
                _("All entries"),
                url=_for_organisation("points_ledger:index", organisation),
                icon_name="list-ol",
            )
        )
        if can_adjust(self.request.user):
            buttons.append(
                HeaderButton(
                    _("Manual adjustment"),
                    url=_for_organisation("points_ledger:adjust", organisation),
                    icon_name="edit",
                )
            )
        return buttons

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        account = self.object
        entries = list(
            LedgerEntry.objects.filter(account=account)
            .select_related("order", "approved_by")
            .order_by("-id")[:RECENT_ENTRIES]
        )
        context["fields"] = [
            *context["fields"],
            inspect_field(
                _("Balances (summed from the entries)"),
                _balances_text(ledger.balances(account)),
            ),
            inspect_field(
                _("Latest entries"), _("None yet."), entry_table(entries) if entries else None
            ),
        ]
        return context


class AccountIndexView(IndexView):
    page_title = _("Balances")


class PointsAccountViewSet(IndexQuerysetMixin, ModelViewSet):
    model = PointsAccount
    add_to_reference_index = False
    name = "points_accounts"
    icon = "decimal"
    menu_label = _("Balances")
    add_to_admin_menu = False
    exclude_form_fields: list[str] = []
    index_view_class = AccountIndexView
    inspect_view_class = AccountInspectView
    list_display = [
        "organisation",
        Column("available", label=_("Available"), sort_key="available"),
        Column("pending", label=_("Pending"), sort_key="pending"),
        Column("held", label=_("Held for redemptions"), sort_key="held"),
        DateColumn("updated_at", label=_("Last movement"), sort_key="updated_at"),
    ]
    search_fields = ["organisation__name"]
    inspect_view_enabled = True
    inspect_view_fields = ["organisation", "available", "pending", "held", "updated_at"]
    copy_view_enabled = False
    ordering = ["organisation__name"]
    list_per_page = 50

    def get_queryset(self, request):
        return PointsAccount.objects.select_related("organisation")


class LedgerFilterSet(WagtailFilterSet):
    organisation = django_filters.ModelChoiceFilter(
        label=_("Organisation"),
        field_name="account__organisation",
        queryset=Organisation.objects.order_by("name"),
    )
    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=EntryKind.choices, empty_label=_("All"), widget=forms.RadioSelect
    )

    class Meta:
        model = LedgerEntry
        fields = ["organisation", "kind"]


class LedgerIndexView(IndexView):
    """Every entry, newest first; filtered to one organisation it also shows its balances."""

    page_title = _("Points ledger")
    results_template_name = "carbon/admin/points/ledger_results.html"

    def get_base_queryset(self):
        return LedgerEntry.objects.select_related("account__organisation", "order", "approved_by")

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if can_adjust(self.request.user):
            organisation = self.request.GET.get("organisation")
            url = (
                _for_organisation("points_ledger:adjust", organisation)
                if organisation and ascii_integer(organisation) is not None
                else reverse("points_ledger:adjust")
            )
            buttons.append(HeaderButton(_("Manual adjustment"), url=url, icon_name="edit"))
        return buttons

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        organisation = None
        if self.filters and self.filters.is_valid():
            organisation = self.filters.form.cleaned_data.get("organisation")
        if organisation is not None:
            context["balances_organisation"] = organisation
            context["balances"] = _organisation_balances(organisation)
        return context


class AdjustmentView(PointsFormView):
    """A manual adjustment, approved by the signed-in sustainability staff member."""

    page_title = _("Manual adjustment")
    header_icon = "edit"
    form_class = AdjustmentForm
    submit_button_label = _("Adjust the balance")
    index_label = _("Ledger")
    refused = (PortalError,)
    refusals_on_form = True

    def has_permission(self, user) -> bool:
        return can_adjust(user)

    def get_initial(self):
        initial = {"key": new_adjustment_key()}
        organisation = self.request.GET.get("organisation", "")
        organisation_id = ascii_integer(organisation)
        if organisation_id is not None:
            initial["organisation"] = organisation_id
        return initial

    def summary(self):
        return definition_list(
            [
                (
                    _("Approver"),
                    _("%(who)s (you). The entry and the audit trail name you.")
                    % {"who": format_who(self.request.user)},
                ),
            ]
        )

    def perform(self, form) -> str:
        self.organisation = form.cleaned_data["organisation"]
        account = ledger.account_for(self.organisation)
        ledger.adjust(
            account,
            form.cleaned_data["points"],
            form.cleaned_data["reason"],
            self.request.user,
            key=form.cleaned_data["key"],
        )
        account.refresh_from_db()
        return _("Adjusted %(organisation)s by %(points)s points; %(available)s now available.") % {
            "organisation": self.organisation,
            "points": _signed(form.cleaned_data["points"]),
            "available": account.available,
        }

    def done(self):
        return redirect(_for_organisation("points_ledger:index", self.organisation.pk))


class LedgerEntryViewSet(ModelViewSet):
    model = LedgerEntry
    add_to_reference_index = False
    name = "points_ledger"
    icon = "list-ol"
    menu_label = _("Ledger")
    add_to_admin_menu = False
    exclude_form_fields: list[str] = []
    index_view_class = LedgerIndexView
    filterset_class = LedgerFilterSet
    list_display = [
        "kind",
        Column("organisation", label=_("Organisation"), accessor="account.organisation"),
        *_entry_columns(),
        DateColumn("created_at", label=_("When"), sort_key="created_at"),
    ]
    inspect_view_enabled = True
    inspect_view_fields = [
        "account",
        "kind",
        "points",
        "pending_delta",
        "available_delta",
        "held_delta",
        "order",
        "award",
        "redemption_id",
        "expires_on",
        "reason",
        "approved_by",
        "idempotency_key",
        "created_at",
    ]
    copy_view_enabled = False
    ordering = ["-id"]
    list_per_page = 50

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("adjust/", AdjustmentView.as_view(viewset=self), name="adjust"),
        ]


class PointsGroup(ModelViewSetGroup):
    menu_label = _("Points")
    menu_icon = "tasks"
    menu_order = 211
    items = (
        RedemptionViewSet,
        ServiceViewSet,
        PointsAccountViewSet,
        LedgerEntryViewSet,
        PointsPolicyViewSet,
    )
