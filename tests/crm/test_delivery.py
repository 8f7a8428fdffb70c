"""The CRM bridge's delivery engine against a local receiver that verifies signatures with the
reference `standardwebhooks` library (one process; tests/crm/test_worker.py runs real workers)."""

from __future__ import annotations

import base64
import random
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from portal.crm import delivery
from portal.crm.connectors import DestinationRefused, check_destination, retry_after_seconds
from portal.crm.receiver import Receiver
from portal.events import publish
from portal.models import CrmEndpoint, Delivery, DeliveryAttempt, OutboxEvent
from tests.crm.conftest import SECRET, emit

pytestmark = [pytest.mark.synthetic_events, pytest.mark.django_db]

OLD_SECRET = "whsec_" + base64.b64encode(b"o" * 32).decode()


def drain(limit: int = 200) -> None:
    while delivery.run_pass(limit).worked:
        pass


def make_due() -> None:
    Delivery.objects.filter(state="pending").update(next_attempt_at=timezone.now())


def test_events_arrive_signed_in_order_and_are_marked_delivered(endpoint, receiver, org_a):
    ids = emit(org_a, 5)
    drain()
    got = receiver.wait_for(5)
    assert [r.id for r in got] == ids
    assert got[0].event["type"] == "greenloop.test.happened"
    assert got[0].event["data"] == {"n": 0}
    assert got[0].event["greenloopaccount"] == str(org_a.pk)
    assert receiver.state.bad_signatures == 0
    assert set(OutboxEvent.objects.values_list("status", flat=True)) == {"delivered"}
    assert set(Delivery.objects.values_list("state", flat=True)) == {"delivered"}
    attempt = DeliveryAttempt.objects.first()
    assert attempt.status_code == 204
    assert attempt.ok is True


def test_the_signature_is_standard_webhooks_with_every_secret_while_rotating(org_a):
    # the receiver still has the old secret: the old signature must verify
    with Receiver(OLD_SECRET) as old_receiver:
        CrmEndpoint.objects.create(
            name="CRM", url=old_receiver.url, secret=SECRET, previous_secrets=OLD_SECRET
        )
        emit(org_a, 1)
        drain()
        assert len(old_receiver.wait_for(1)) == 1
        assert old_receiver.state.bad_signatures == 0


def test_the_headers_are_what_the_spec_prescribes(endpoint, org_a):
    from portal.crm.connectors import WebhookConnector, body_of

    event = OutboxEvent.objects.get(id=emit(org_a, 1)[0])
    moment = timezone.now()
    headers = WebhookConnector(endpoint).headers(event, body_of(event), moment)
    assert headers["webhook-id"] == str(event.id)
    assert headers["webhook-timestamp"] == str(int(moment.timestamp()))
    assert headers["content-type"] == "application/cloudevents+json"
    assert headers["webhook-signature"].startswith("v1,")
    Webhook(SECRET).verify(body_of(event), headers)


def test_a_rolled_back_transaction_delivers_nothing(endpoint, receiver, org_a):
    def change_that_fails():
        with transaction.atomic():
            publish("greenloop.test.happened", org_a, "thing/1", {})
            raise RuntimeError

    with pytest.raises(RuntimeError):
        change_that_fails()
    drain()
    assert receiver.state.requests == 0
    assert Delivery.objects.count() == 0


def test_a_failing_receiver_blocks_only_that_organisation_then_everything_arrives_in_order(
    endpoint, receiver, org_a, org_b
):
    a_ids = emit(org_a, 3)
    receiver.state.fail_with = 500
    delivery.run_pass()
    # the first of Acme's lane failed once; nothing later in the lane was tried
    assert receiver.state.requests == 1
    assert DeliveryAttempt.objects.filter(ok=False).count() == 1
    receiver.state.fail_with = None
    b_ids = emit(org_b, 2)
    drain()
    # Globex's events go at once while Acme's lane waits for its retry time
    assert [r.id for r in receiver.state.received] == b_ids
    # Acme's lane waits for its retry time, then catches up in order
    make_due()
    drain()
    got = [r.id for r in receiver.state.received]
    assert got[2:] == a_ids
    assert receiver.state.duplicates == 0
    failed = Delivery.objects.get(event_id=a_ids[0])
    assert failed.attempts == 2
    assert failed.state == "delivered"


def test_a_timeout_and_a_receiver_that_is_down_are_retried(endpoint, receiver, org_a, settings):
    settings.GREENLOOP_CRM = {
        **settings.GREENLOOP_CRM,
        "timeout_seconds": {"connect": 1, "read": 0.2},
    }
    ids = emit(org_a, 2)
    receiver.state.delay = 0.5
    delivery.run_pass()
    attempt = DeliveryAttempt.objects.get()
    assert attempt.error.startswith("ReadTimeout")
    receiver.state.delay = 0
    receiver.stop()
    make_due()
    delivery.run_pass()
    assert DeliveryAttempt.objects.filter(error__startswith="ConnectError").count() == 1
    receiver.start()  # same port: the endpoint's URL
    make_due()
    drain()
    # the timed-out request may have been processed: the receiver de-duplicates it
    assert [r.id for r in receiver.wait_for(2)] == ids


def test_retry_after_is_honoured_and_the_schedule_is_bounded(endpoint, receiver, org_a):
    emit(org_a, 1)
    receiver.state.fail_with = 429
    receiver.state.retry_after = "120"
    before = timezone.now()
    delivery.run_pass()
    row = Delivery.objects.get()
    assert row.next_attempt_at >= before + timedelta(seconds=120)
    assert row.next_attempt_at <= timezone.now() + timedelta(seconds=121)


def test_the_retry_schedule_grows_from_seconds_to_about_a_day():
    rand = random.Random(7)
    delays = [delivery.retry_delay(n, rand) for n in range(1, 17)]
    assert 3.75 <= delays[0] <= 5
    assert 7.5 <= delays[1] <= 10
    assert all(d <= 86400 for d in delays)
    assert delays[-1] >= 0.75 * 86400
    assert sum(delays) > 86400


def test_after_the_last_attempt_the_delivery_is_dead_lettered_and_can_be_replayed(
    endpoint, receiver, org_a, settings
):
    settings.GREENLOOP_CRM = {**settings.GREENLOOP_CRM, "max_attempts": 2}
    ids = emit(org_a, 2)
    receiver.state.fail_with = 503
    delivery.run_pass()
    make_due()
    delivery.run_pass()
    dead = Delivery.objects.get(event_id=ids[0])
    assert dead.state == "dead"
    assert OutboxEvent.objects.get(id=ids[0]).status == "dead"
    # a dead letter keeps its lane blocked: order is never broken
    receiver.state.fail_with = None
    drain()
    assert receiver.state.received == []
    assert delivery.replay(Delivery.objects.filter(endpoint=endpoint, state="dead")) == 1
    drain()
    assert [r.id for r in receiver.state.received] == ids
    assert OutboxEvent.objects.get(id=ids[0]).status == "delivered"


def test_410_disables_the_endpoint(endpoint, receiver, org_a):
    emit(org_a, 2)
    receiver.state.fail_with = 410
    drain()
    endpoint.refresh_from_db()
    assert endpoint.is_active is False
    assert endpoint.disabled_reason.startswith("HTTP 410")
    assert receiver.state.requests == 1


def test_a_paused_endpoint_collects_and_sends_once_resumed(endpoint, receiver, org_a):
    endpoint.paused = True
    endpoint.save()
    ids = emit(org_a, 2)
    drain()
    assert receiver.state.requests == 0
    assert Delivery.objects.filter(state="pending").count() == 2
    endpoint.paused = False
    endpoint.save()
    drain()
    assert [r.id for r in receiver.state.received] == ids


def test_filters_by_event_type_and_organisation(receiver, org_a, org_b):
    CrmEndpoint.objects.create(
        name="CRM",
        url=receiver.url,
        secret=SECRET,
        event_types="greenloop.test.wanted\ngreenloop.other.*",
        organisation=org_a,
    )
    wanted = emit(org_a, 1, "greenloop.test.wanted")
    emit(org_a, 1, "greenloop.test.unwanted")
    emit(org_b, 1, "greenloop.test.wanted")
    other = emit(org_a, 1, "greenloop.other.thing")
    drain()
    assert [r.id for r in receiver.state.received] == wanted + other
    # events nobody wants are done at once
    assert set(OutboxEvent.objects.values_list("status", flat=True)) == {"delivered"}


def test_redirects_are_not_followed(endpoint, org_a):
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.send_response(307)
            self.send_header("location", "http://169.254.169.254/latest")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):
            return

    server = HTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.handle_request, daemon=True).start()
    endpoint.url = f"http://127.0.0.1:{server.server_address[1]}/"
    endpoint.save()
    emit(org_a, 1)
    delivery.run_pass()
    server.server_close()
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code == 307
    assert "not followed" in attempt.error
    assert Delivery.objects.get().state == "pending"


def test_private_destinations_are_refused_unless_allow_listed(settings):
    settings.GREENLOOP_CRM = {**settings.GREENLOOP_CRM, "allowed_private_networks": []}
    for url in [
        "http://127.0.0.1:9000/",
        "http://10.1.2.3/",
        "http://169.254.169.254/",
        "ftp://x/",
    ]:
        with pytest.raises(DestinationRefused):
            check_destination(url)
    settings.GREENLOOP_CRM = {**settings.GREENLOOP_CRM, "allowed_private_networks": ["10.0.0.0/8"]}
    check_destination("http://10.1.2.3/")


def test_a_refused_destination_is_an_attempt_with_the_reason(endpoint, org_a, settings):
    settings.GREENLOOP_CRM = {**settings.GREENLOOP_CRM, "allowed_private_networks": []}
    emit(org_a, 1)
    delivery.run_pass()
    assert DeliveryAttempt.objects.get().error.startswith("refused: 127.0.0.1 resolves")


def test_retry_after_accepts_seconds_and_dates():
    from datetime import UTC, datetime

    now = datetime(2026, 3, 2, 10, 0, 0, tzinfo=UTC)
    assert retry_after_seconds("30", now) == 30.0
    assert retry_after_seconds("Mon, 02 Mar 2026 10:01:00 GMT", now) == 60.0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


def test_the_command_runs_passes(endpoint, receiver, org_a):
    from io import StringIO

    emit(org_a, 3)
    out = StringIO()
    call_command("deliver_outbox", stdout=out)
    assert out.getvalue().strip() == "Routed 3 events; delivered 3, failed 0, dead-lettered 0."
    assert len(receiver.state.received) == 3


def test_a_pass_runs_a_bounded_number_of_queries(
    endpoint, receiver, org_a, org_b, django_assert_max_num_queries
):
    emit(org_a, 20)
    emit(org_b, 20)
    with django_assert_max_num_queries(20):
        result = delivery.run_pass()
    assert result.delivered == 40


def test_one_kick_per_transaction_and_a_rolled_back_savepoint_loses_none(
    org_a, settings, django_capture_on_commit_callbacks, monkeypatch
):
    from portal.crm import tasks

    settings.GREENLOOP_CRM = {**settings.GREENLOOP_CRM, "kick_after_commit": True}
    kicks = []
    monkeypatch.setattr(tasks.deliver_outbox, "apply_async", lambda **kw: kicks.append(1))

    def savepoint_that_fails():
        with transaction.atomic():
            publish("greenloop.test.happened", org_a, "thing/0", {})
            raise RuntimeError  # the savepoint's kick goes with it

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        with pytest.raises(RuntimeError):
            savepoint_that_fails()
        for i in range(1, 4):
            publish("greenloop.test.happened", org_a, f"thing/{i}", {})
    assert kicks == [1]


def test_kicks_while_a_delivery_task_waits_in_the_queue_queue_no_other(monkeypatch):
    from portal.crm import tasks

    kicks = []
    monkeypatch.setattr(tasks.deliver_outbox, "apply_async", lambda **kw: kicks.append(1))
    # given three commits that kick before any delivery task has started
    tasks.kick()
    tasks.kick()
    tasks.kick()
    # then one task was queued: it will route every event committed before it starts
    assert kicks == [1]
    # when that task has started, the next kick queues another
    tasks.deliver_outbox.run()
    tasks.kick()
    assert kicks == [1, 1]


def test_a_kick_the_broker_refused_is_tried_again_by_the_next_commit(monkeypatch):
    from portal.crm import tasks

    def refused(**kwargs):
        raise ConnectionError("broker down")

    # given a kick that the broker refused
    monkeypatch.setattr(tasks.deliver_outbox, "apply_async", refused)
    with pytest.raises(ConnectionError):
        tasks.kick()
    # when the next commit kicks, with the broker back
    kicks = []
    monkeypatch.setattr(tasks.deliver_outbox, "apply_async", lambda **kw: kicks.append(1))
    tasks.kick()
    # then it queues the task
    assert kicks == [1]


@pytest.fixture
def not_eager():
    from portal.celery import app

    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


def test_the_task_waits_out_a_short_retry_and_queues_a_wake_up_for_a_longer_one(
    endpoint, receiver, org_a, settings, monkeypatch, not_eager
):
    from portal.crm import tasks

    queued = []
    monkeypatch.setattr(tasks.deliver_outbox, "apply_async", lambda **kwargs: queued.append(kwargs))
    # a retry due within a second is waited for in the task itself
    settings.GREENLOOP_CRM = {**settings.GREENLOOP_CRM, "retry_base_seconds": 0.05}
    ids = emit(org_a, 2)
    receiver.state.fail_times = 1
    assert tasks.deliver_outbox.run() == 3
    assert receiver.ids() == ids
    assert queued == []
    # a longer one (within the wake-up window) is queued for when it is due
    settings.GREENLOOP_CRM = {**settings.GREENLOOP_CRM, "retry_base_seconds": 5}
    emit(org_a, 1)
    receiver.state.fail_times = 1
    assert tasks.deliver_outbox.run() == 1
    assert len(queued) == 1
    assert queued[0]["kwargs"] == {"wake_up": True}
    assert 3.5 <= queued[0]["countdown"] <= 5
    # one wake-up at a time
    tasks._schedule_wake_up(4.0)
    assert len(queued) == 1
