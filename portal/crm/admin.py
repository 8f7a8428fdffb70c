"""Staff screens of the CRM bridge in the Wagtail admin: endpoints (with a test event, pause and
replay), and deliveries with their attempts; the inbound side: the contacts the CRM pushed (with
the invitation each became) and the inbound webhook ids accepted. Every change and action goes
to the audit trail.

Who may act: staff with `portal.change_crmendpoint` (integration admins, superusers); staff
with the view permissions see the screens only. Contacts and webhook ids are read-only: the CRM
owns them (portal/wagtail_hooks.py gives them the read-only permission policy)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import django_filters  # type: ignore[import-untyped]  # ships no types; stubs not a dependency
from django import forms
from django.contrib.auth.models import AnonymousUser
from django.db import models, transaction
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import BooleanColumn, Column, TitleColumn
from wagtail.admin.views.generic import CreateView, EditView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import Button, HeaderButton
from wagtail.permissions import register_permission_policy

from portal import audit, event_catalogue, events
from portal.admin_common import (
    ActionFormView,
    ConfirmForm,
    Html,
    NoDeletePermissionPolicy,
    ObjectActionsViewSetMixin,
    definition_list,
    format_when,
    format_who,
    inspect_field,
)
from portal.crm import delivery
from portal.crm.connectors import open_connector
from portal.crm.inbound import EVENT_TYPES
from portal.models import (
    CrmContact,
    CrmEndpoint,
    Delivery,
    DeliveryState,
    InboundWebhook,
    Invitation,
    OutboxEvent,
    Role,
    User,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Endpoints keep their delivery history: deactivate one instead of deleting it.
register_permission_policy(CrmEndpoint, NoDeletePermissionPolicy(CrmEndpoint))

ENDPOINT_AUDIT_FIELDS = [
    "name",
    "kind",
    "url",
    "exchange",
    "event_types",
    "organisation",
    "is_active",
    "paused",
]
RECENT_PROBLEMS = 50


def can_operate(user: User | AnonymousUser) -> bool:
    return user.has_perm("portal.change_crmendpoint")


def url_without_password(url: str) -> str:
    """The endpoint's URL as screens and the audit trail show it: a password in it (RabbitMQ's
    amqp://user:password@host) is a secret like the signing secret, so it is masked."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def _endpoint_details(endpoint: CrmEndpoint, fields: list[str]) -> dict[str, Any]:
    # Secrets never reach the trail, only that they changed (listed in `changed`). Foreign keys
    # by id (`organisation` -> its id): the audit row must not hold a live reference.
    details = {}
    for name in fields:
        field = endpoint._meta.get_field(name)
        attname = field.attname if isinstance(field, models.Field) else name
        details[name] = getattr(endpoint, attname)
    if "url" in details:
        details["url"] = url_without_password(details["url"])
    return details


class EndpointCreateView(CreateView):
    def save_instance(self):
        with transaction.atomic():
            endpoint = super().save_instance()
            audit.record(
                "crm.endpoint.created",
                actor=self.request.user,
                obj=endpoint,
                request=self.request,
                details=_endpoint_details(endpoint, ENDPOINT_AUDIT_FIELDS),
            )
        return endpoint


class EndpointEditView(EditView):
    def save_instance(self):
        with transaction.atomic():
            endpoint = super().save_instance()
            changed = list(self.form.changed_data)
            audit.record(
                "crm.endpoint.updated",
                actor=self.request.user,
                obj=endpoint,
                request=self.request,
                details={
                    "changed": changed,
                    **_endpoint_details(
                        endpoint, [f for f in ENDPOINT_AUDIT_FIELDS if f in changed]
                    ),
                },
            )
        return endpoint


def _deliveries_table(rows: list[Delivery]) -> Html:
    """Deliveries with their latest attempts (status, latency, error)."""
    if not rows:
        return Html(format_html("<p>{}</p>", _("None.")))
    body = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                d.event.type,
                d.event.organisation_id or "—",
                d.get_state_display(),
                d.attempts,
                format_when(d.next_attempt_at),
                d.last_error or "—",
            )
            for d in rows
        ),
    )
    return Html(
        format_html(
            '<table class="listing"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th>'
            "<th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("Event type"),
            _("Organisation id"),
            _("State"),
            _("Attempts"),
            _("Next attempt"),
            _("Last error"),
            body,
        )
    )


class EndpointInspectView(InspectView):
    """The endpoint, its counts per state, and the deliveries that need attention."""

    # Set by the viewset: Wagtail passes it to the views that declare the attribute.
    viewset: Any = None

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if not can_operate(self.request.user):
            return buttons
        endpoint, vs = self.object, self.viewset
        buttons += [
            HeaderButton(_("Send test event"), url=vs.url("send_test", endpoint), icon_name="mail"),
            HeaderButton(
                _("Resume") if endpoint.paused else _("Pause"),
                url=vs.url("pause", endpoint),
                icon_name="resubmit" if endpoint.paused else "pick",
            ),
        ]
        return buttons

    @cached_property
    def header_more_buttons(self):
        # Edit first, beside the replays (four header buttons left no room for the title).
        buttons = list(super().header_more_buttons)
        if not can_operate(self.request.user):
            return buttons
        endpoint, vs = self.object, self.viewset
        return [
            *buttons,
            Button(
                _("Replay dead-lettered"),
                url=vs.url("replay_dead", endpoint),
                icon_name="redirect",
                priority=30,
            ),
            Button(
                _("Replay a time range"),
                url=vs.url("replay_range", endpoint),
                icon_name="date",
                priority=40,
            ),
        ]

    def get_url_display_value(self) -> str:
        return url_without_password(self.object.url)

    def get_event_types_display_value(self) -> StrOrPromise:
        return self.object.event_types or _("Every event")

    def get_organisation_display_value(self) -> StrOrPromise:
        return (
            str(self.object.organisation) if self.object.organisation else _("Every organisation")
        )

    def get_is_active_display_value(self) -> StrOrPromise:
        return _("Yes") if self.object.is_active else _("No")

    def get_paused_display_value(self) -> StrOrPromise:
        return _("Yes") if self.object.paused else _("No")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        endpoint = self.object
        counts = dict(
            Delivery.objects.filter(endpoint=endpoint)
            .values_list("state")
            .annotate(n=Count("id"))
            .values_list("state", "n")
        )
        problems = list(
            Delivery.objects.filter(endpoint=endpoint)
            .filter(Q(state=DeliveryState.DEAD) | Q(state=DeliveryState.PENDING, attempts__gt=0))
            .select_related("event")
            .order_by("id")[:RECENT_PROBLEMS]
        )
        context["fields"] = [
            *context["fields"],
            inspect_field(
                _("Deliveries"),
                "",
                Html(
                    format_html(
                        '<p>{}</p><p><a href="{}?endpoint={}">{}</a></p>',
                        ", ".join(
                            f"{label}: {counts.get(value, 0)}"
                            for value, label in DeliveryState.choices
                        ),
                        reverse("crm_deliveries:index"),
                        endpoint.pk,
                        _("Delivery log of this endpoint"),
                    )
                ),
            ),
            inspect_field(_("Failing and dead-lettered"), "", _deliveries_table(problems)),
        ]
        return context


class EndpointActionView(ActionFormView):
    header_icon = "resubmit"
    form_class: type[forms.Form] = ConfirmForm
    index_label = _("CRM endpoints")

    def has_permission(self, user) -> bool:
        return can_operate(user)

    def get_object(self) -> CrmEndpoint:
        return get_object_or_404(CrmEndpoint, pk=self.kwargs["pk"])

    def summary(self):
        endpoint = self.object
        return definition_list(
            [
                (_("Name"), endpoint.name),
                (_("Connector"), endpoint.get_kind_display()),
                (_("URL"), url_without_password(endpoint.url)),
            ]
        )


class SendTestView(EndpointActionView):
    """Send one made-up event straight to the endpoint (not through the outbox) and show the
    answer, so a new endpoint can be checked before real events flow."""

    page_title = _("Send test event")
    submit_button_label = _("Send")

    def perform(self, form) -> str:
        endpoint = self.object
        # Registered in portal/event_types.py like every other type, so it has its schema too.
        test_type = event_catalogue.get("greenloop.crm.endpoint_tested")
        event = OutboxEvent(
            source="urn:greenloop:portal",
            type="greenloop.crm.endpoint_tested",
            time=timezone.now(),
            subject=f"crm-endpoints/{endpoint.pk}",
            data={"endpoint": endpoint.name},
            dataschema=test_type.dataschema if test_type else "",
        )
        connector = open_connector(endpoint)
        try:
            outcome = connector.send(event)
        finally:
            connector.close()
        audit.record(
            "crm.endpoint.tested",
            actor=self.acting_user,
            obj=endpoint,
            request=self.request,
            details={"ok": outcome.ok, "status": outcome.status_code, "error": outcome.error},
        )
        if outcome.ok:
            return _("Test event %(id)s delivered in %(ms)s ms.") % {
                "id": event.id,
                "ms": outcome.latency_ms,
            }
        return _("The test event was not delivered: %(error)s") % {"error": outcome.error}


class PauseView(EndpointActionView):
    submit_button_label = _("Confirm")

    def get_page_title(self):
        return _("Resume endpoint") if self.object.paused else _("Pause endpoint")

    def perform(self, form) -> StrOrPromise:
        endpoint = self.object
        endpoint.paused = not endpoint.paused
        with transaction.atomic():
            endpoint.save(update_fields=["paused"])
            if not endpoint.paused:
                events.deliver_after_commit()
            audit.record(
                "crm.endpoint.paused" if endpoint.paused else "crm.endpoint.resumed",
                actor=self.acting_user,
                obj=endpoint,
                request=self.request,
            )
        if endpoint.paused:
            return _("Paused: events are kept and sent once the endpoint is resumed.")
        return _("Resumed: waiting events are sent in order.")


class ReplayDeadView(EndpointActionView):
    page_title = _("Replay dead-lettered deliveries")
    submit_button_label = _("Replay")

    def perform(self, form) -> str:
        with transaction.atomic():
            count = delivery.replay(
                Delivery.objects.filter(endpoint=self.object, state=DeliveryState.DEAD)
            )
            events.deliver_after_commit()
            audit.record(
                "crm.endpoint.dead_replayed",
                actor=self.acting_user,
                obj=self.object,
                request=self.request,
                details={"count": count},
            )
        return ngettext(
            "%(n)s delivery is due again.", "%(n)s deliveries are due again.", count
        ) % {"n": count}


class ReplayRangeForm(forms.Form):
    since = forms.DateTimeField(label=_("Events from"))
    until = forms.DateTimeField(label=_("Events until"))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise forms.ValidationError(_("The start must be before the end."))
        return data


class ReplayRangeView(EndpointActionView):
    """Send again every event of a time range that this endpoint was given, delivered or not
    (e.g. after the CRM restored a backup). Receivers recognise repeats by their webhook-id."""

    page_title = _("Replay a time range")
    submit_button_label = _("Replay")
    form_class = ReplayRangeForm

    def get_initial(self):
        now = timezone.now().replace(second=0, microsecond=0)
        return {"since": now - timedelta(hours=1), "until": now}

    def perform(self, form) -> str:
        since, until = form.cleaned_data["since"], form.cleaned_data["until"]
        rows = Delivery.objects.filter(
            endpoint=self.object, event__time__gte=since, event__time__lt=until
        )
        with transaction.atomic():
            count = delivery.resend(rows)
            events.deliver_after_commit()
            audit.record(
                "crm.endpoint.range_replayed",
                actor=self.acting_user,
                obj=self.object,
                request=self.request,
                details={"since": since.isoformat(), "until": until.isoformat(), "count": count},
            )
        return ngettext(
            "%(n)s event will be sent again.", "%(n)s events will be sent again.", count
        ) % {"n": count}


class CrmEndpointViewSet(ObjectActionsViewSetMixin, ModelViewSet):
    model = CrmEndpoint
    name = "crm_endpoints"
    icon = "link-external"
    menu_label = _("CRM endpoints")
    add_to_admin_menu = False
    copy_view_enabled = False
    inspect_view_enabled = True
    list_display = ["name", "kind", "url", "is_active", "paused", "pending", "dead"]
    list_filter = ["kind", "is_active", "paused"]
    add_view_class = EndpointCreateView
    edit_view_class = EndpointEditView
    inspect_view_class = EndpointInspectView
    # Signing secrets are shown in the edit form only, to those who may change the endpoint.
    inspect_view_fields_exclude = ["secret", "previous_secrets"]
    object_actions = {
        "send_test": SendTestView,
        "pause": PauseView,
        "replay_dead": ReplayDeadView,
        "replay_range": ReplayRangeView,
    }
    edit_handler = ObjectList(
        [
            MultiFieldPanel(
                [FieldPanel("name"), FieldPanel("kind"), FieldPanel("url"), FieldPanel("exchange")],
                heading=_("Destination"),
            ),
            MultiFieldPanel(
                [FieldPanel("secret"), FieldPanel("previous_secrets")],
                heading=_("Signing"),
            ),
            MultiFieldPanel(
                [FieldPanel("event_types"), FieldPanel("organisation")],
                heading=_("Which events"),
            ),
            FieldPanel("is_active"),
            FieldPanel("paused"),
        ]
    )

    def get_queryset(self, request):
        return CrmEndpoint.objects.annotate(
            pending=Count("deliveries", filter=Q(deliveries__state=DeliveryState.PENDING)),
            dead=Count("deliveries", filter=Q(deliveries__state=DeliveryState.DEAD)),
        )

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            queryset=self.get_queryset(None),
            columns=[
                TitleColumn("name", label=_("Name"), url_name=self.get_url_name("inspect")),
                Column("kind", label=_("Connector"), accessor="get_kind_display"),
                Column("url", label=_("URL"), accessor=lambda e: url_without_password(e.url)),
                BooleanColumn("is_active", label=_("Active")),
                BooleanColumn("paused", label=_("Paused")),
                Column("pending", label=_("Pending")),
                Column("dead", label=_("Dead-lettered")),
            ],
            **kwargs,
        )


class DeliveryInspectView(InspectView):
    # Set by the viewset: Wagtail passes it to the views that declare the attribute.
    viewset: Any = None

    def get_object(self, queryset=None):
        return get_object_or_404(Delivery.objects.select_related("endpoint", "event"), pk=self.pk)

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if can_operate(self.request.user) and self.object.state != DeliveryState.DELIVERED:
            buttons.append(
                HeaderButton(
                    _("Replay"), url=self.viewset.url("replay", self.object), icon_name="redirect"
                )
            )
        return buttons

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        attempts = list(self.object.attempt_log.all()[:100])
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (format_when(a.started_at), a.status_code or "—", a.latency_ms, a.error or "—")
                for a in attempts
            ),
        )
        table = Html(
            format_html(
                '<table class="listing"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th>'
                "</tr></thead><tbody>{}</tbody></table>",
                _("Started"),
                _("Status code"),
                _("Latency (ms)"),
                _("Error"),
                rows,
            )
        )
        context["fields"] = [
            *context["fields"],
            inspect_field(_("Event type"), self.object.event.type),
            inspect_field(_("Attempts"), "", table),
        ]
        return context


class ReplayDeliveryView(ActionFormView):
    header_icon = "redirect"
    form_class = ConfirmForm
    index_label = _("CRM deliveries")
    page_title = _("Replay delivery")
    submit_button_label = _("Replay")

    def has_permission(self, user) -> bool:
        return can_operate(user)

    def get_object(self) -> Delivery:
        return get_object_or_404(Delivery.objects.select_related("event"), pk=self.kwargs["pk"])

    def refusal(self) -> StrOrPromise | None:
        if self.object.state == DeliveryState.DELIVERED:
            return _("This delivery was delivered; replay a time range to send it again.")
        return None

    def perform(self, form) -> StrOrPromise:
        with transaction.atomic():
            delivery.replay(Delivery.objects.filter(pk=self.object.pk))
            events.deliver_after_commit()
            audit.record(
                "crm.delivery.replayed",
                actor=self.acting_user,
                obj=self.object,
                request=self.request,
                details={"endpoint": self.object.endpoint_id, "event": str(self.object.event_id)},
            )
        return _("The delivery is due again.")


class ReadOnlyViewSet(ModelViewSet):
    """Rows the admin shows and never writes (the read-only permission policy is registered in
    portal/wagtail_hooks.py): deliveries, CRM contacts, inbound webhook ids."""

    add_to_admin_menu = False
    add_to_reference_index = False
    # Required by ModelViewSet; the read-only policy never lets anyone reach the form.
    exclude_form_fields: list[str] = []
    copy_view_enabled = False
    list_per_page = 50


class DeliveryViewSet(ObjectActionsViewSetMixin, ReadOnlyViewSet):
    model = Delivery
    name = "crm_deliveries"
    icon = "resubmit"
    menu_label = _("CRM deliveries")
    inspect_view_enabled = True
    inspect_view_class = DeliveryInspectView
    list_filter = ["state", "endpoint"]
    ordering = ["-id"]
    object_actions = {"replay": ReplayDeliveryView}

    def get_queryset(self, request):
        return Delivery.objects.select_related("endpoint", "event")

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            queryset=self.get_queryset(None),
            columns=[
                TitleColumn("id", label=_("Delivery"), url_name=self.get_url_name("inspect")),
                Column("endpoint", label=_("Endpoint")),
                Column("event_type", label=_("Event type"), accessor="event.type"),
                Column("lane", label=_("Organisation id")),
                Column("state", label=_("State"), accessor="get_state_display"),
                Column("attempts", label=_("Attempts")),
                Column("next_attempt_at", label=_("Next attempt")),
                Column("last_error", label=_("Last error")),
            ],
            **kwargs,
        )


# --- the inbound side: contacts (each became an invitation) and accepted webhook ids

INVITATION_STATES = {
    "pending": _("Pending"),
    "accepted": _("Accepted"),
    "revoked": _("Withdrawn"),
    "expired": _("Expired"),
    # No invitation: the address was a member already when the CRM pushed it.
    "none": _("None (already a member)"),
}


def role_label(contact: CrmContact) -> StrOrPromise:
    return dict(Role.choices).get(contact.role, contact.role)


def invitation_state(contact: CrmContact) -> StrOrPromise:
    invitation = contact.invitation
    return INVITATION_STATES[invitation.status if invitation else "none"]


class CrmContactFilterSet(WagtailFilterSet):
    role = django_filters.ChoiceFilter(label=_("Role"), choices=Role.choices)
    invitation = django_filters.ChoiceFilter(
        label=_("Invitation"),
        choices=list(INVITATION_STATES.items()),
        method="filter_invitation",
    )

    class Meta:
        model = CrmContact
        fields = ["organisation", "role"]

    def filter_invitation(self, queryset, name, value):
        now = timezone.now()
        open_ = Q(invitation__accepted_at__isnull=True, invitation__revoked_at__isnull=True)
        rules = {
            "pending": open_ & Q(invitation__expires_at__gt=now),
            "accepted": Q(invitation__accepted_at__isnull=False),
            "revoked": Q(
                invitation__accepted_at__isnull=True, invitation__revoked_at__isnull=False
            ),
            "expired": open_ & Q(invitation__expires_at__lte=now),
            "none": Q(invitation__isnull=True),
        }
        # "open_" alone also matches contacts without an invitation (both lookups are NULL).
        wanted = rules[value] if value == "none" else rules[value] & Q(invitation__isnull=False)
        return queryset.filter(wanted)


def _invitation_details(invitation: Invitation | None) -> Html:
    if invitation is None:
        return Html(
            format_html(
                "<p>{}</p>",
                _(
                    "No invitation: the address was already a member of the organisation when "
                    "the CRM pushed the contact."
                ),
            )
        )
    return definition_list(
        [
            (_("Status"), INVITATION_STATES[invitation.status]),
            (_("Invitation id"), invitation.pk),
            (_("E-mail address"), invitation.email),
            (_("Role"), invitation.get_role_display()),
            (_("Sent"), format_when(invitation.created_at)),
            (_("Expires"), format_when(invitation.expires_at)),
            (_("Accepted"), format_when(invitation.accepted_at)),
            (_("Accepted by"), format_who(invitation.accepted_by)),
            (_("Withdrawn"), format_when(invitation.revoked_at)),
        ]
    )


class CrmContactInspectView(InspectView):
    """The contact as the CRM last pushed it, and the invitation it became."""

    def get_object(self, queryset=None):
        return get_object_or_404(
            CrmContact.objects.select_related(
                "organisation", "invitation", "invitation__accepted_by"
            ),
            pk=self.pk,
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["fields"] = [
            *context["fields"],
            inspect_field(_("Role"), role_label(self.object)),
            inspect_field(_("Invitation"), "", _invitation_details(self.object.invitation)),
        ]
        return context


class CrmContactViewSet(ReadOnlyViewSet):
    model = CrmContact
    name = "crm_contacts"
    icon = "user"
    menu_label = _("CRM contacts")
    inspect_view_enabled = True
    inspect_view_class = CrmContactInspectView
    inspect_view_fields = ["external_id", "organisation", "email", "created_at", "updated_at"]
    search_fields = ["external_id", "email", "organisation__name"]
    filterset_class = CrmContactFilterSet
    ordering = ["-updated_at"]

    def get_queryset(self, request):
        return CrmContact.objects.select_related("organisation", "invitation")

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            queryset=self.get_queryset(None),
            columns=[
                TitleColumn(
                    "external_id", label=_("CRM id"), url_name=self.get_url_name("inspect")
                ),
                Column("email", label=_("E-mail address")),
                Column("organisation", label=_("Organisation")),
                Column("role", label=_("Role"), accessor=role_label),
                Column("invitation", label=_("Invitation"), accessor=invitation_state),
                Column("updated_at", label=_("Updated")),
            ],
            **kwargs,
        )


class InboundWebhookFilterSet(WagtailFilterSet):
    event_type = django_filters.ChoiceFilter(
        label=_("Event type"), choices=[(t, t) for t in sorted(EVENT_TYPES)]
    )

    class Meta:
        model = InboundWebhook
        fields = ["event_type"]


class InboundWebhookViewSet(ReadOnlyViewSet):
    """The `webhook-id`s the inbound CRM webhook accepted (a repeat is refused as a replay);
    kept for `GREENLOOP_RETENTION["inbound_webhook_hours"]`, then purged."""

    model = InboundWebhook
    name = "crm_inbound_webhooks"
    icon = "download"
    menu_label = _("Inbound CRM webhooks")
    filterset_class = InboundWebhookFilterSet
    search_fields = ["webhook_id"]
    ordering = ["-received_at"]

    def get_index_view_kwargs(self, **kwargs):
        return super().get_index_view_kwargs(
            columns=[
                Column("webhook_id", label=_("Webhook id")),
                Column("event_type", label=_("Event type")),
                Column("received_at", label=_("Received")),
            ],
            **kwargs,
        )
