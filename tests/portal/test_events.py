"""Domain events: CloudEvents 1.0 records in the outbox, written with the change and dispatched to
subscribers only after the transaction commits."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from portal import events
from portal.events import EventError, publish
from portal.models import Membership, OutboxEvent, Role
from tests.factories import UserFactory

# These tests exercise the bus with made-up types and payloads, not the product's events.
pytestmark = pytest.mark.synthetic_events


class Boom(Exception):
    pass


@pytest.fixture
def handlers():
    """Subscribe handlers for the test only."""
    added = []

    def add(pattern, handler):
        events.subscribe(pattern, handler)
        added.append((pattern, handler))

    yield add
    for pattern, handler in added:
        events.unsubscribe(pattern, handler)


# --- the record


@pytest.mark.django_db
def test_publish_writes_a_cloudevent_inside_the_transaction(settings, org_a):
    # given a change in progress
    before = timezone.now()
    with transaction.atomic():
        # when an event is published
        event = publish(
            "greenloop.carbon.points_awarded",
            org_a,
            "order/PO-1001",
            {"points": 120, "kg_co2e": Decimal("12.50"), "order_id": uuid.UUID(int=7)},
        )
        # then it is already in the outbox, in the same transaction as the change
        assert OutboxEvent.objects.filter(pk=event.pk).count() == 1
    stored = OutboxEvent.objects.get()
    assert stored.type == "greenloop.carbon.points_awarded"
    assert stored.source == settings.GREENLOOP_EVENT_SOURCE
    assert stored.specversion == "1.0"
    assert stored.subject == "order/PO-1001"
    assert stored.organisation == org_a
    assert stored.status == "pending"
    assert stored.attempts == 0
    assert before <= stored.time <= timezone.now()
    # data is JSON as DjangoJSONEncoder writes it: decimals and UUIDs become strings
    assert stored.data == {
        "points": 120,
        "kg_co2e": "12.50",
        "order_id": "00000000-0000-0000-0000-000000000007",
    }


@pytest.mark.django_db
def test_as_cloudevent_has_the_required_attributes(org_a):
    with transaction.atomic():
        event = publish("greenloop.account.signals", org_a, "account/acme", {"score": 71})
    cloudevent = OutboxEvent.objects.get(pk=event.pk).as_cloudevent()
    # CloudEvents 1.0 required attributes plus the optional ones we use
    assert cloudevent == {
        "specversion": "1.0",
        "id": str(event.pk),
        "source": "urn:greenloop:portal",
        "type": "greenloop.account.signals",
        "time": cloudevent["time"],
        "subject": "account/acme",
        "datacontenttype": "application/json",
        "data": {"score": 71},
        "greenloopaccount": str(org_a.pk),
        # a registered type names the JSON Schema of its data (portal.event_catalogue)
        "dataschema": "urn:greenloop:event-schema:greenloop.account.signals:1",
    }
    assert cloudevent["time"].endswith("Z")
    assert uuid.UUID(cloudevent["id"]).version == 4


@pytest.mark.django_db
def test_an_event_without_subject_or_organisation_omits_them(db):
    with transaction.atomic():
        event = publish("greenloop.catalogue.item_added", None, "", {})
    cloudevent = event.as_cloudevent()
    assert "subject" not in cloudevent
    assert "greenloopaccount" not in cloudevent
    # a type the catalogue does not know (only these synthetic tests publish one) has no schema
    assert "dataschema" not in cloudevent


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bad_type",
    ["points_awarded", "greenloop.points", "carbon.points_awarded", "acme.carbon.points", ""],
)
def test_bad_type_names_are_refused(bad_type):
    with transaction.atomic(), pytest.raises(EventError, match="greenloop.<area>.<what_happened>"):
        publish(bad_type, None, "", {})
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db
def test_ids_are_unique_and_events_keep_their_order(org_a):
    with transaction.atomic():
        first = publish("greenloop.test.first", org_a, "", {})
        second = publish("greenloop.test.second", org_a, "", {})
    assert first.pk != second.pk
    assert first.time < second.time
    assert list(OutboxEvent.objects.values_list("type", flat=True)) == [
        "greenloop.test.first",
        "greenloop.test.second",
    ]


# --- transactions and dispatch


@pytest.mark.django_db(transaction=True)
def test_publish_outside_a_transaction_is_refused(org_a, received_events):
    # given no transaction.atomic() around the call (autocommit)
    # when an event is published
    with pytest.raises(EventError, match=r"inside transaction.atomic\(\)"):
        publish("greenloop.account.member_joined", org_a, "", {})
    # then nothing is stored and nothing dispatched
    assert OutboxEvent.objects.count() == 0
    assert received_events == []


@pytest.mark.django_db(transaction=True)
def test_handlers_run_only_after_commit(org_a, handlers):
    # given a subscriber that looks at the database when it is called
    seen = []

    def handler(event):
        seen.append((event.type, OutboxEvent.objects.filter(pk=event.pk).exists()))

    handlers("greenloop.account.*", handler)
    # when an event is published inside a transaction
    with transaction.atomic():
        publish("greenloop.account.member_joined", org_a, "user/1", {"user_id": 1})
        # then the handler has not run before commit
        assert seen == []
    # and runs once after it, when the event is visible to everyone
    assert seen == [("greenloop.account.member_joined", True)]


@pytest.mark.django_db(transaction=True)
def test_rolled_back_change_leaves_no_event_and_dispatches_nothing(org_a, received_events):
    # given a change that fails after publishing its event
    user = UserFactory(email="ghost@example.com")

    @transaction.atomic
    def join_then_fail():
        Membership.objects.create(user=user, organisation=org_a, role=Role.MEMBER)
        publish("greenloop.account.member_joined", org_a, f"user/{user.pk}", {})
        raise Boom

    with pytest.raises(Boom):
        join_then_fail()
    # then neither the change nor the event exists, and no handler ran
    assert Membership.objects.count() == 0
    assert OutboxEvent.objects.count() == 0
    assert received_events == []


@pytest.mark.django_db(transaction=True)
def test_rolled_back_savepoint_drops_only_its_event(org_a, received_events):
    @transaction.atomic
    def publish_then_fail():
        publish("greenloop.test.dropped", org_a, "", {})
        raise Boom

    with transaction.atomic():
        publish("greenloop.test.kept", org_a, "", {})
        with pytest.raises(Boom):
            publish_then_fail()
    assert list(OutboxEvent.objects.values_list("type", flat=True)) == ["greenloop.test.kept"]
    assert [e.type for e in received_events] == ["greenloop.test.kept"]


@pytest.mark.django_db(transaction=True)
def test_a_failing_handler_does_not_break_the_others(org_a, handlers, caplog):
    # given two subscribers, the first of which fails
    calls = []

    def broken(event):
        calls.append("broken")
        raise Boom("handler bug")

    def healthy(event):
        calls.append("healthy")

    handlers("greenloop.*", broken)
    handlers("greenloop.*", healthy)
    # when an event is committed
    with transaction.atomic():
        publish("greenloop.community.answer_accepted", org_a, "topic/9", {})
    # then both ran, the failure is logged, and the committed event stands
    assert calls == ["broken", "healthy"]
    assert OutboxEvent.objects.get().type == "greenloop.community.answer_accepted"
    assert "Event handler" in caplog.text
    assert "handler bug" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_handlers_only_receive_matching_types(org_a, handlers):
    carbon, everything = [], []
    handlers("greenloop.carbon.*", lambda e: carbon.append(e.type))
    handlers("*", lambda e: everything.append(e.type))
    with transaction.atomic():
        publish("greenloop.carbon.points_awarded", org_a, "", {})
        publish("greenloop.beta.feedback_submitted", org_a, "", {})
    assert carbon == ["greenloop.carbon.points_awarded"]
    assert everything == ["greenloop.carbon.points_awarded", "greenloop.beta.feedback_submitted"]


@pytest.mark.django_db
def test_dispatch_with_captured_commit_callbacks(
    org_a, received_events, django_capture_on_commit_callbacks
):
    # in a `db` test the outer transaction never commits; run the callbacks explicitly
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        publish("greenloop.ideas.status_changed", org_a, "idea/3", {"to": "shipped"})
    assert len(callbacks) == 1
    assert [e.data for e in received_events] == [{"to": "shipped"}]
