"""The service catalogue and the redemption queue in the Wagtail admin: services with their capacity
and eligibility, and requests fulfilled or rejected by customer success staff."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import django_filters  # type: ignore[import-untyped]  # ships no types; stubs not a dependency
from django import forms
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import (
    BooleanColumn,
    Column,
    DateColumn,
)
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import Button, ListingButton

from carbon.models import (
    Redemption,
    RedemptionStatus,
    Service,
)
from carbon.points import actions, permissions, redemptions
from carbon.points.admin_base import date_column, date_or_dash, organisation_balances_text
from carbon.points.exceptions import RedemptionError
from carbon.points.forms_admin import FulfilForm, ServiceForm
from portal.admin_common import (
    AuditedCreateView,
    AuditedEditView,
    format_when,
    format_who,
    inspect_field,
    status_column,
)
from portal.admin_decisions import Decision, DecisionScreen, DecisionsViewSetMixin, Reason
from portal.models import Organisation, User

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def _offered_today(service: Service) -> bool:
    today = timezone.localdate()
    return bool(
        service.is_active
        and (service.active_from is None or service.active_from <= today)
        and (service.active_until is None or service.active_until >= today)
    )


def _capacity(service: Service) -> StrOrPromise:
    return str(service.monthly_capacity) if service.monthly_capacity is not None else _("No limit")


def _window(service: Service) -> StrOrPromise:
    if not (service.active_from or service.active_until):
        return _("Always")
    return f"{date_or_dash(service.active_from)} – {date_or_dash(service.active_until)}"


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
    # Creating and editing a service goes to the audit trail (carbon.service_created/_changed).
    add_view_class = AuditedCreateView
    edit_view_class = AuditedEditView
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
    # Set by the viewset: Wagtail passes it to the views that declare the attribute.
    viewset: Any = None

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
            vs = self.viewset
            buttons += DECISIONS.buttons(vs, instance, ["fulfil"], ListingButton)
            buttons += DECISIONS.buttons(vs, instance, ["reject"], Button, priority=40)
        return buttons


class RedemptionInspectView(InspectView):
    """The request, the organisation's points and, for customer success, fulfil or reject."""

    # Set by the viewset: Wagtail passes it to the views that declare the attribute.
    viewset: Any = None

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
            buttons += DECISIONS.buttons(self.viewset, self.object)
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
                _("Organisation's points"), organisation_balances_text(redemption.organisation)
            ),
        ]
        return context


class RedemptionDecisions(DecisionScreen):
    """Fulfil or reject an open request: customer success staff and superusers only."""

    def has_permission(self, user) -> bool:
        return permissions.can_fulfil(user)

    def get_object(self, pk: int) -> Redemption:
        return get_object_or_404(
            Redemption.objects.select_related("organisation", "service", "site", "requested_by"),
            pk=pk,
        )

    def refusal(self, obj: Redemption) -> str | None:
        if obj.status != RedemptionStatus.REQUESTED:
            return _("This redemption is already %(status)s.") % {
                "status": obj.get_status_display().lower()
            }
        return None

    def summary_rows(self, obj: Redemption) -> list[tuple[Any, Any]]:
        return [
            (_("Organisation"), obj.organisation),
            (_("Service"), obj.service),
            (_("Points"), obj.points),
            (_("Site"), _site(obj)),
            (_("Preferred date"), date_or_dash(obj.preferred_date)),
            (_("Note from the customer"), obj.customer_note or "—"),
            (_("Requested"), f"{format_when(obj.requested_at)}, {format_who(obj.requested_by)}"),
        ]

    def message_values(self, obj: Redemption) -> dict[str, Any]:
        label = _("%(service)s for %(organisation)s") % {
            "service": obj.service,
            "organisation": obj.organisation,
        }
        return {"redemption": label}


def _fulfil_initial(redemption: Redemption) -> dict[str, Any]:
    preferred = redemption.preferred_date
    return {"scheduled_for": preferred if preferred and preferred >= timezone.localdate() else None}


DECISIONS = RedemptionDecisions(
    index_label=_("Redemptions"),
    refused=(RedemptionError,),
    refusals_on_form=True,
    decisions=[
        Decision(
            name="fulfil",
            label=_("Fulfil"),
            title=_("Fulfil redemption"),
            icon="check",
            form_class=FulfilForm,
            initial=_fulfil_initial,
            perform=lambda act: actions.fulfil(
                act.obj,
                act.user,
                scheduled_for=act.data["scheduled_for"],
                assignee=act.data["assignee"],
                note=act.data["note"],
            ),
            message=_("Fulfilled: %(redemption)s. The customer is told by e-mail."),
        ),
        Decision(
            name="reject",
            label=_("Reject"),
            title=_("Reject redemption"),
            icon="cross",
            reason=Reason(
                "reason",
                _("Why is the request declined?"),
                required=True,
                max_length=redemptions.MAX_NOTE,
                rows=4,
                help_text=_(
                    "The customer sees this reason. The held points go back to their balance."
                ),
            ),
            perform=lambda act: actions.reject(act.obj, act.user, reason=act.reason),
            message=_("Rejected: %(redemption)s. Its points are available again."),
        ),
    ],
)


class RedemptionViewSet(DecisionsViewSetMixin, ModelViewSet):
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
        date_column("preferred_date", _("Preferred date")),
        DateColumn("requested_at", label=_("Requested"), sort_key="requested_at"),
        status_column(lambda r: r.status == RedemptionStatus.REQUESTED),
        date_column("scheduled_for", _("Service date")),
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
    decisions = DECISIONS
