"""Staff tools of the CRM bridge in the Wagtail admin: endpoints, deliveries, attempts, a test
event, pause, replays; all audited."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.crm import delivery
from portal.models import AuditEvent, CrmEndpoint, Delivery, DeliveryAttempt
from tests.crm.conftest import SECRET, emit

pytestmark = [pytest.mark.synthetic_events, pytest.mark.django_db]


@pytest.fixture
def integration_admin(db, enable_totp):
    from django.contrib.auth.models import Group

    from portal.staff_roles import StaffRole, ensure_staff_groups
    from tests.factories import UserFactory

    ensure_staff_groups()
    user = UserFactory(email="integration@greenloop.example", is_staff=True)
    user.groups.add(Group.objects.get(name=StaffRole.INTEGRATION_ADMIN))
    enable_totp(user)
    return user


def url(name: str, *args) -> str:
    return reverse(f"crm_endpoints:{name}", args=args)


def endpoint_form(**fields: str) -> dict[str, str]:
    """The add form of a valid webhook endpoint, with `fields` changed."""
    return {
        "name": "Sales CRM",
        "kind": "webhook",
        "url": "https://crm.example.com/hooks/greenloop",
        "exchange": "",
        "secret": SECRET,
        "previous_secrets": "",
        "event_types": "",
        "organisation": "",
        "is_active": "on",
        **fields,
    }


def test_an_integration_admin_adds_an_endpoint_and_it_is_audited(client, integration_admin):
    client.force_login(integration_admin)
    response = client.post(url("add"), endpoint_form(event_types="greenloop.carbon.*"))
    assert response.status_code == 302, response.content[:2000]
    endpoint = CrmEndpoint.objects.get(name="Sales CRM")
    assert endpoint.type_patterns() == ["greenloop.carbon.*"]
    row = AuditEvent.objects.get(action="crm.endpoint.created")
    assert row.actor == integration_admin
    assert row.details["url"] == "https://crm.example.com/hooks/greenloop"
    assert SECRET not in str(row.details)


def test_a_secret_that_is_not_whsec_is_refused(client, integration_admin):
    client.force_login(integration_admin)
    response = client.post(
        url("add"),
        {"name": "Bad", "kind": "webhook", "url": "https://x.example/", "secret": "hunter2"},
    )
    assert response.status_code == 200
    assert not CrmEndpoint.objects.filter(name="Bad").exists()


def test_send_test_event_reaches_the_receiver_signed(client, integration_admin, endpoint, receiver):
    client.force_login(integration_admin)
    assert client.get(url("send_test", endpoint.pk)).status_code == 200
    response = client.post(url("send_test", endpoint.pk), follow=True)
    assert response.status_code == 200
    got = receiver.wait_for(1)
    assert got[0].event["type"] == "greenloop.crm.endpoint_tested"
    assert receiver.state.bad_signatures == 0
    assert "delivered in" in response.content.decode()
    assert AuditEvent.objects.get(action="crm.endpoint.tested").details["ok"] is True


def test_pause_and_resume_are_audited(client, integration_admin, endpoint):
    client.force_login(integration_admin)
    client.post(url("pause", endpoint.pk))
    endpoint.refresh_from_db()
    assert endpoint.paused is True
    client.post(url("pause", endpoint.pk))
    endpoint.refresh_from_db()
    assert endpoint.paused is False
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["crm.endpoint.paused", "crm.endpoint.resumed"]


def _dead_letters(endpoint, receiver, org, settings, n=2):
    settings.GREENLOOP_CRM = {**settings.GREENLOOP_CRM, "max_attempts": 1}
    ids = emit(org, n)
    receiver.state.fail_with = 500
    delivery.run_pass()
    receiver.state.fail_with = None
    return ids


def test_the_inspect_page_shows_dead_letters_with_their_errors(
    client, integration_admin, endpoint, receiver, org_a, settings, django_assert_max_num_queries
):
    _dead_letters(endpoint, receiver, org_a, settings)
    client.force_login(integration_admin)
    with django_assert_max_num_queries(40):
        response = client.get(url("inspect", endpoint.pk))
    page = response.content.decode()
    assert response.status_code == 200
    assert "HTTP 500: receiver told to fail" in page
    assert "Dead-lettered: 1" in page
    assert SECRET not in page


def test_replay_dead_then_everything_arrives_in_order(
    client, integration_admin, endpoint, receiver, org_a, settings
):
    ids = _dead_letters(endpoint, receiver, org_a, settings)
    client.force_login(integration_admin)
    client.post(url("replay_dead", endpoint.pk))
    assert AuditEvent.objects.get(action="crm.endpoint.dead_replayed").details == {"count": 1}
    while delivery.run_pass().worked:
        pass
    assert [r.id for r in receiver.state.received] == ids


def test_replay_one_delivery_from_its_page(
    client, integration_admin, endpoint, receiver, org_a, settings
):
    ids = _dead_letters(endpoint, receiver, org_a, settings, n=1)
    dead = Delivery.objects.get()
    client.force_login(integration_admin)
    page = client.get(reverse("crm_deliveries:inspect", args=[dead.pk])).content.decode()
    assert "HTTP 500" in page
    client.post(reverse("crm_deliveries:replay", args=[dead.pk]))
    assert Delivery.objects.get().state == "pending"
    assert AuditEvent.objects.filter(action="crm.delivery.replayed").count() == 1
    delivery.run_pass()
    assert receiver.ids() == ids
    # a delivered one is not "replayed": staff are sent back with the reason
    response = client.post(reverse("crm_deliveries:replay", args=[dead.pk]), follow=True)
    assert "replay a time range" in response.content.decode()


def test_replay_a_time_range_sends_delivered_events_again(
    client, integration_admin, endpoint, receiver, org_a
):
    ids = emit(org_a, 2)
    delivery.run_pass()
    now = timezone.now()
    client.force_login(integration_admin)
    response = client.post(
        url("replay_range", endpoint.pk),
        {
            "since": (now - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
            "until": (now + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
        },
    )
    assert response.status_code == 302
    delivery.run_pass()
    assert receiver.state.duplicates == 2
    assert receiver.ids() == ids
    assert AuditEvent.objects.get(action="crm.endpoint.range_replayed").details["count"] == 2


def test_staff_without_the_change_permission_cannot_act(client, staff_success, endpoint):
    client.force_login(staff_success)
    for name in ("send_test", "pause", "replay_dead", "replay_range"):
        assert client.post(url(name, endpoint.pk)).status_code in (302, 403), name
    endpoint.refresh_from_db()
    assert endpoint.paused is False
    assert AuditEvent.objects.filter(action__startswith="crm.").count() == 0


def test_the_delivery_listing_runs_a_bounded_number_of_queries(
    client, integration_admin, endpoint, receiver, org_a, org_b, django_assert_max_num_queries
):
    emit(org_a, 10)
    emit(org_b, 10)
    delivery.run_pass()
    assert DeliveryAttempt.objects.count() == 20
    client.force_login(integration_admin)
    with django_assert_max_num_queries(30):
        response = client.get(reverse("crm_deliveries:index"))
    assert response.status_code == 200
    with django_assert_max_num_queries(30):
        response = client.get(url("index"))
    assert response.status_code == 200
    assert "CRM" in response.content.decode()


def test_a_rabbitmq_password_is_never_shown_nor_audited(client, integration_admin):
    client.force_login(integration_admin)
    response = client.post(
        url("add"),
        endpoint_form(
            name="Middleware",
            kind="rabbitmq",
            url="amqp://crm:s3cret-pw@mq.example.com:5672/crm",
            exchange="greenloop.events",
        ),
    )
    assert response.status_code == 302, response.content[:2000]
    endpoint = CrmEndpoint.objects.get(name="Middleware")
    pages = [
        client.get(url("index")).content.decode(),
        client.get(url("inspect", endpoint.pk)).content.decode(),
        client.get(url("send_test", endpoint.pk)).content.decode(),
    ]
    for page in pages:
        assert "s3cret-pw" not in page
        assert "amqp://crm:***@mq.example.com:5672/crm" in page
    row = AuditEvent.objects.get(action="crm.endpoint.created")
    assert row.details["url"] == "amqp://crm:***@mq.example.com:5672/crm"
    assert "s3cret-pw" not in str(row.details)


def test_the_endpoint_page_reads_plainly_and_links_its_delivery_log(
    client, integration_admin, endpoint
):
    client.force_login(integration_admin)
    page = client.get(url("inspect", endpoint.pk)).content.decode()
    # booleans and empty filters in words, not True/False/None (Wagtail's <dt>/<dd> pairs)
    shown = dict(re.findall(r"<dt>([^<]*)</dt>\s*<dd>\s*([^<]*?)\s*</dd>", page))
    assert shown["Active"] == "Yes"
    assert shown["Paused"] == "No"
    assert shown["Event types"] == "Every event"
    assert shown["Only for organisation"] == "Every organisation"
    # the per-endpoint delivery log, and every action within reach
    assert f'href="/admin/crm_deliveries/?endpoint={endpoint.pk}"' in page
    for action in ("send_test", "pause", "replay_dead", "replay_range", "edit"):
        assert url(action, endpoint.pk) in page, action


def test_a_confirmation_screen_says_which_endpoint_it_acts_on(client, integration_admin, endpoint):
    client.force_login(integration_admin)
    page = client.get(url("replay_dead", endpoint.pk)).content.decode()
    assert "<dt>Name</dt><dd>CRM</dd>" in page
    assert f"<dt>URL</dt><dd>{endpoint.url}</dd>" in page


def test_a_replay_from_the_admin_is_sent_at_once(
    client,
    integration_admin,
    endpoint,
    receiver,
    org_a,
    settings,
    django_capture_on_commit_callbacks,
):
    # given a dead-lettered event, and the after-commit kick on (the demo's eager tasks)
    ids = _dead_letters(endpoint, receiver, org_a, settings, n=1)
    settings.GREENLOOP_CRM = {**settings.GREENLOOP_CRM, "kick_after_commit": True}
    client.force_login(integration_admin)
    # when staff replay it / then it is delivered right after the commit, no pass run by hand
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("replay_dead", endpoint.pk), follow=True)
    assert "1 delivery is due again." in response.content.decode()
    assert receiver.ids() == ids
    assert Delivery.objects.get().state == "delivered"


def test_a_time_range_that_ends_before_it_starts_is_refused_on_the_form(
    client, integration_admin, endpoint
):
    client.force_login(integration_admin)
    response = client.post(
        url("replay_range", endpoint.pk),
        {"since": "2026-12-04 12:00", "until": "2026-12-04 11:00"},
    )
    # the form comes back saying why (an error of no single field, shown above the form)
    assert response.status_code == 200
    assert "The start must be before the end." in response.content.decode()
    assert not AuditEvent.objects.filter(action="crm.endpoint.range_replayed").exists()
