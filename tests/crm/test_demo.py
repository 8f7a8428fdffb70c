"""The demo's CRM endpoint and the `crm_receiver` command a newcomer watches events with."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import threading
import time
import uuid
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.utils import timezone

from portal.crm import delivery
from portal.models import CrmEndpoint, Delivery
from tests.conftest import RABBITMQ_URL
from tests.crm.conftest import emit
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_a_disabled_endpoint_once(demo_seed):
    endpoint = CrmEndpoint.objects.get()
    assert endpoint.name == "Demo CRM receiver"
    assert endpoint.url == "http://127.0.0.1:9000/hook"
    assert endpoint.is_active is False
    secret = endpoint.secret
    call_command("seed_demo", stdout=io.StringIO())
    assert list(CrmEndpoint.objects.values_list("secret", flat=True)) == [secret]


@contextmanager
def receiver_command(monkeypatch, endpoint, **options):
    """`manage.py crm_receiver` running in a thread on a free port, with `endpoint` pointed at
    it; yields (receiver, output) and stops it (as Ctrl+C would) on leaving."""
    from portal.crm import receiver as receiver_module
    from portal.management.commands import crm_receiver

    started = {}
    real_receiver = receiver_module.Receiver

    def spy(*args, **kwargs):
        started["r"] = real_receiver(*args, **{**kwargs, "port": 0})
        return started["r"]

    monkeypatch.setattr(crm_receiver, "Receiver", spy)
    out = io.StringIO()
    stop = threading.Event()

    def until_stopped():
        stop.wait(10)
        raise KeyboardInterrupt

    monkeypatch.setattr(crm_receiver, "wait_until_interrupted", until_stopped)
    # The secret is passed: the command's own thread has its own database connection, which
    # does not see this test's uncommitted endpoint.
    thread = threading.Thread(
        target=call_command,
        args=("crm_receiver",),
        kwargs={"stdout": out, "secret": endpoint.secret, **options},
    )
    thread.start()
    deadline = time.monotonic() + 10
    while "r" not in started or started["r"].server is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    endpoint.url = started["r"].url
    endpoint.save()
    try:
        yield started["r"], out
    finally:
        stop.set()
        thread.join(10)


@pytest.mark.synthetic_events
def test_crm_receiver_prints_what_arrives(monkeypatch):
    endpoint = CrmEndpoint.objects.create(name="Demo CRM receiver", url="http://127.0.0.1:1/hook")
    with receiver_command(monkeypatch, endpoint) as (receiver, out):
        [event_id] = emit(OrganisationFactory(), 1)
        delivery.run_pass()
        receiver.wait_for(1)
    text = out.getvalue()
    assert "Listening on http://127.0.0.1:" in text
    assert f'"id": "{event_id}", "type": "greenloop.test.happened"' in text
    assert "1 events, 0 duplicates, 0 bad signatures." in text


def test_crm_receiver_without_an_endpoint_says_what_to_do():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="No CRM endpoint named 'Nope'"):
        call_command("crm_receiver", endpoint="Nope")


def test_crm_receiver_refuses_a_status_that_is_not_http():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match=r"--fail-with takes an HTTP status \(100-599\), not 42"):
        call_command("crm_receiver", secret="whsec_eA==", fail_with=42)


@pytest.mark.synthetic_events
def test_crm_receiver_can_play_a_failing_crm(monkeypatch, settings):
    # given the receiver started with --fail-with 500 and deliveries dead-lettered after 2 tries
    settings.GREENLOOP_CRM = {**settings.GREENLOOP_CRM, "max_attempts": 2, "retry_base_seconds": 0}
    endpoint = CrmEndpoint.objects.create(name="Demo CRM receiver", url="http://127.0.0.1:1/hook")
    with receiver_command(monkeypatch, endpoint, fail_with=500) as (_receiver, out):
        emit(OrganisationFactory(), 1)
        # when the bridge sends (twice) / then every answer is a 500 and the event is dead
        delivery.run_pass()
        delivery.run_pass()
    text = out.getvalue()
    assert "Answering every request with HTTP 500." in text
    assert "0 events, 0 duplicates, 0 bad signatures." in text
    assert "2 requests answered with HTTP 500." in text
    assert Delivery.objects.get().state == "dead"


@pytest.mark.synthetic_events
def test_deliver_outbox_says_what_waits_and_what_is_dead(settings, org_a):
    # given one lane whose head failed (a retry later) and another whose head is dead-lettered
    waiting = CrmEndpoint.objects.create(name="Waiting", url="http://127.0.0.1:1/hook")
    dead = CrmEndpoint.objects.create(name="Dead", url="http://127.0.0.1:1/hook")
    emit(org_a, 1)
    delivery.run_pass()  # both refused: nothing listens on port 1
    soon = timezone.now() + dt.timedelta(seconds=30)
    Delivery.objects.filter(endpoint=waiting).update(next_attempt_at=soon)
    Delivery.objects.filter(endpoint=dead).update(state="dead", next_attempt_at=None)
    out = io.StringIO()
    # when a newcomer runs the command / then it says why nothing went, and what to do
    call_command("deliver_outbox", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Routed 0 events; delivered 0, failed 0, dead-lettered 0."
    assert re.fullmatch(
        r"1 deliveries wait for a retry after failing; the next is due in (29|30) s \(run this "
        r"again then; a worker's beat does it by itself\)\.",
        lines[1],
    )
    assert lines[2] == (
        "1 deliveries are dead-lettered and block their lanes: replay them from the endpoint's "
        "page in the admin (Customers > CRM endpoints)."
    )


@pytest.mark.rabbitmq
@pytest.mark.synthetic_events
def test_crm_queue_prints_what_the_exchange_carries(org_a):
    # given a RabbitMQ endpoint on a fresh exchange, and crm_queue watching it
    from kombu import Connection, Exchange, Queue

    name = f"greenloop-test-{uuid.uuid4().hex[:8]}"
    CrmEndpoint.objects.create(name="Middleware", kind="rabbitmq", url=RABBITMQ_URL, exchange=name)
    out = io.StringIO()
    thread = threading.Thread(
        target=call_command,
        args=("crm_queue",),
        kwargs={
            "stdout": out,
            "url": RABBITMQ_URL,
            "exchange": name,
            "queue": f"{name}-q",
            "count": 2,
            "idle_timeout": 10,
        },
    )
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while "bound to exchange" not in out.getvalue():
            assert time.monotonic() < deadline, out.getvalue()
            time.sleep(0.02)
        # when two events are delivered
        ids = emit(org_a, 2)
        while delivery.run_pass().worked:
            pass
        thread.join(15)
    finally:
        with Connection(RABBITMQ_URL) as conn:
            Queue(f"{name}-q")(conn.default_channel).delete()
            Exchange(name, type="topic")(conn.default_channel).delete()
    # then both are printed, in order, with their routing key
    lines = out.getvalue().splitlines()
    assert (
        lines[0] == f"Queue '{name}-q' bound to exchange '{name}' with '#' (Ctrl+C stops; "
        "the queue keeps what arrives meanwhile)."
    )
    printed = [json.loads(line) for line in lines[1:3]]
    assert [p["id"] for p in printed] == ids
    assert printed[0]["routing_key"] == "greenloop.test.happened"
    assert printed[0]["account"] == str(org_a.pk)
    assert lines[3] == "2 events."


def test_crm_queue_without_an_endpoint_or_a_broker_says_so():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="No RabbitMQ CRM endpoint named 'Demo RabbitMQ'"):
        call_command("crm_queue")
    with pytest.raises(CommandError, match=r"Cannot reach RabbitMQ at amqp://guest:\*\*@127"):
        call_command("crm_queue", url="amqp://guest:guest@127.0.0.1:1//", exchange="x")
