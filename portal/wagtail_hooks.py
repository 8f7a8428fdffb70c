"""Staff screens in the Wagtail admin: organisations, the audit trail, the event outbox and the
account overview (portal/admin_accounts.py), the CRM bridge (portal/crm/admin.py)."""

from typing import TYPE_CHECKING

from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.admin.ui.tables import Column
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from portal import audit_actions
from portal.admin_accounts import AccountHealthViewSet
from portal.admin_work_queue import WorkQueueItem, WorkQueuePanel, work_queue_for
from portal.crm.admin import (
    CrmContactViewSet,
    CrmEndpointViewSet,
    DeliveryViewSet,
    InboundWebhookViewSet,
)
from portal.csv_export import SafeExportIndexView
from portal.models import (
    AuditEvent,
    CrmContact,
    Delivery,
    DeliveryState,
    InboundWebhook,
    Organisation,
    OutboxEvent,
)
from portal.permissions import in_staff_role
from portal.staff_roles import StaffRole


class ReadOnlyPermissionPolicy(ModelPermissionPolicy):
    """Evidence is never edited through the admin, not even by superusers."""

    READ_ACTIONS = {"view"}

    def user_has_permission(self, user, action):
        return action in self.READ_ACTIONS and super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)

    def user_has_permission_for_instance(self, user, action, instance):
        return self.user_has_permission(user, action)

    def users_with_any_permission(self, actions):
        actions = [a for a in actions if a in self.READ_ACTIONS]
        return (
            super().users_with_any_permission(actions)
            if actions
            else self.auth_model.objects.none()
        )

    def instances_user_has_any_permission_for(self, user, actions):
        if self.user_has_any_permission(user, actions):
            return self.model._default_manager.all()
        return self.model._default_manager.none()


# A mixin of ModelViewSets: the type checker reads it as one, at run time it stays a mixin.
if TYPE_CHECKING:
    from wagtail.admin.viewsets.model import ModelViewSet as _ModelViewSet
else:
    _ModelViewSet = object


class IndexQuerysetMixin(_ModelViewSet):
    """Wagtail 8's ModelViewSet has no `get_queryset(request)` hook: hand the index view the
    viewset's queryset (select_related, annotations) so the listing runs no query per row."""

    def get_queryset(self, request):
        return self.model._default_manager.all()

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(queryset=self.get_queryset(None), **kwargs)


register_permission_policy(AuditEvent, ReadOnlyPermissionPolicy(AuditEvent))
register_permission_policy(OutboxEvent, ReadOnlyPermissionPolicy(OutboxEvent))
# Deliveries change only through the engine and the replay actions (portal/crm/admin.py).
register_permission_policy(Delivery, ReadOnlyPermissionPolicy(Delivery))
# The CRM owns its contacts (an upsert changes them) and the webhook ids are replay evidence.
register_permission_policy(CrmContact, ReadOnlyPermissionPolicy(CrmContact))
register_permission_policy(InboundWebhook, ReadOnlyPermissionPolicy(InboundWebhook))


class OrganisationViewSet(ModelViewSet):
    model = Organisation
    icon = "group"
    menu_label = _("Organisations")
    add_to_admin_menu = False
    list_display = ["name", "slug", "tier", "country", "crm_external_id", "require_mfa"]
    list_filter = ["tier", "country", "region", "require_mfa", "is_active"]
    search_fields = ["name", "slug", "crm_external_id"]
    inspect_view_enabled = True
    copy_view_enabled = False
    list_export = ["name", "slug", "tier", "country", "crm_external_id", "created_at"]
    index_view_class = SafeExportIndexView
    panels = [
        MultiFieldPanel(
            [
                FieldPanel("name"),
                FieldPanel("slug"),
                FieldPanel("crm_external_id"),
                FieldPanel("tier"),
                FieldPanel("country"),
            ],
            heading=_("Profile"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("region"),
                FieldPanel("account_owner"),
                FieldPanel("contract_value"),
                FieldPanel("contract_currency"),
            ],
            heading=_("CRM account"),
        ),
        FieldPanel("require_mfa"),
        FieldPanel("is_active"),
        InlinePanel("sites", heading=_("Sites"), label=_("Site")),
    ]


class AuditEventViewSet(IndexQuerysetMixin, ModelViewSet):
    model = AuditEvent
    # Evidence rows are written on every sensitive action; indexing their references in Wagtail
    # would add queries to each write for no use (nothing links to an audit event).
    add_to_reference_index = False
    icon = "list-ul"
    menu_label = _("Audit trail")
    add_to_admin_menu = False
    # Required by ModelViewSet; the read-only policy never lets anyone reach the form.
    exclude_form_fields: list[str] = []
    list_display = [
        "occurred_at",
        "actor_label",
        "organisation",
        # Staff read the action's name (portal.audit_actions, each app names its own); the code
        # stays in the filter and the export.
        Column(
            "action",
            label=_("Action"),
            accessor=lambda event: audit_actions.action_name(event.action),
        ),
        # The object's name in the reader's language; the stored text stays in the export.
        Column(
            "object_repr",
            label=_("Object"),
            accessor=lambda event: event.object_text,
        ),
        "ip_address",
    ]
    list_filter = {
        "action": ["exact", "startswith"],
        "organisation": ["exact"],
        "occurred_at": ["gte", "lte"],
        "actor_label": ["icontains"],
    }
    list_export = [
        "occurred_at",
        "actor_label",
        "organisation",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "ip_address",
        "user_agent",
        "details",
    ]
    export_filename = "greenloop-audit"
    index_view_class = SafeExportIndexView
    inspect_view_enabled = True
    copy_view_enabled = False
    list_per_page = 50
    ordering = ["-occurred_at"]

    def get_queryset(self, request):
        return AuditEvent.objects.select_related("organisation")


class OutboxEventViewSet(IndexQuerysetMixin, ModelViewSet):
    model = OutboxEvent
    add_to_reference_index = False
    icon = "resubmit"
    menu_label = _("Event outbox")
    add_to_admin_menu = False
    exclude_form_fields: list[str] = []
    list_display = ["time", "type", "subject", "organisation", "status", "attempts"]
    list_filter = ["status", "type", "organisation"]
    inspect_view_enabled = True
    copy_view_enabled = False
    list_export = ["id", "time", "type", "subject", "organisation", "status", "attempts", "data"]
    export_filename = "greenloop-outbox"
    index_view_class = SafeExportIndexView
    ordering = ["-time"]

    def get_queryset(self, request):
        return OutboxEvent.objects.select_related("organisation")


class CustomersGroup(ModelViewSetGroup):
    menu_label = _("Customers")
    menu_icon = "group"
    menu_order = 200
    items = (
        OrganisationViewSet,
        AuditEventViewSet,
        OutboxEventViewSet,
        CrmEndpointViewSet,
        DeliveryViewSet,
        CrmContactViewSet,
        InboundWebhookViewSet,
        AccountHealthViewSet,
    )


@hooks.register("register_admin_viewset")
def register_customer_viewsets():
    return CustomersGroup()


@hooks.register("construct_homepage_panels")
def add_work_queue(request, panels) -> None:
    """The home screen opens on what waits for this person's staff role (plugins add rows)."""
    panels.insert(0, WorkQueuePanel(work_queue_for(request)))


@hooks.register("greenloop_staff_work_queue")
def failed_crm_deliveries(request) -> WorkQueueItem | None:
    """Dead-lettered deliveries wait for an integration admin to fix the endpoint and replay."""
    if not in_staff_role(request.user, StaffRole.INTEGRATION_ADMIN):
        return None
    return WorkQueueItem.from_aggregate(
        "crm_deliveries",
        _("Failed CRM deliveries"),
        Delivery.objects.filter(state=DeliveryState.DEAD),
        "created_at",
        url=reverse("crm_deliveries:index") + f"?state={DeliveryState.DEAD}",
        order=90,
    )


@hooks.register("insert_global_admin_css")
def greenloop_admin_css() -> str:
    """GreenLoop's colours and listing fixes on every admin page (portal/static/portal/css)."""
    return format_html('<link rel="stylesheet" href="{}">', static("portal/css/admin.css"))


@hooks.register("construct_main_menu")
def hide_wagtail_help_menu(request, menu_items) -> None:
    """Wagtail's Help menu points at its own editor guide and release notes on wagtail.org (in
    English, about the CMS, not GreenLoop): staff get no use from it."""
    menu_items[:] = [item for item in menu_items if item.name != "help"]
