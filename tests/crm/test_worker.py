"""The CRM bridge with real infrastructure: Celery workers on Redis (in this process and as
separate processes that can be killed), PostgreSQL row locks, and RabbitMQ."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection

from portal.celery import app
from portal.crm import delivery
from portal.crm.tasks import enqueue
from portal.models import CrmEndpoint, Delivery, DeliveryAttempt
from tests.conftest import RABBITMQ_URL, REDIS_URL
from tests.crm.conftest import emit
from tests.portal.test_celery_worker import _forget_broker_and_backend

pytestmark = [pytest.mark.synthetic_events, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def _in_process_worker(queue: str):
    return start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=10, queues=[queue]
    )


@pytest.fixture
def broker(settings):
    """Tasks go to Redis (not eager) and publishing kicks the delivery task after commit, on a
    queue of this test's own: other runs on the machine share the Redis database, and their
    workers must not take these tasks (nor these workers theirs)."""
    saved = {k: app.conf[k] for k in ("broker_url", "task_always_eager")}
    app.conf.update(broker_url=REDIS_URL, task_always_eager=False)
    _forget_broker_and_backend()
    queue = f"greenloop-crm-test-{uuid.uuid4().hex[:12]}"
    settings.GREENLOOP_CRM = {**settings.GREENLOOP_CRM, "kick_after_commit": True, "queue": queue}
    try:
        yield queue
    finally:
        with app.connection_for_write() as conn:
            conn.default_channel.queue_purge(queue)
        app.conf.update(saved)
        _forget_broker_and_backend()


def in_lane_order(received, lanes: dict[str, list[str]]) -> bool:
    by_org = defaultdict(list)
    for item in received:
        by_org[item.event["greenloopaccount"]].append(item.id)
    return all(by_org[org] == ids for org, ids in lanes.items())


@pytest.mark.redis
def test_a_worker_delivers_right_after_commit(broker, endpoint, receiver, org_a):
    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=10, queues=[broker]
    ):
        # the worker is idle-waiting; the commit kicks it
        committed = time.time()
        ids = emit(org_a, 3)
        got = receiver.wait_for(3, timeout=15)
    assert [r.id for r in got] == ids
    # commit-to-receipt well under a second with an idle worker (generous for a busy machine)
    assert got[0].received_at - committed < 2.0
    assert receiver.state.duplicates == 0


def _worker_process(name: str, queue: str) -> subprocess.Popen:
    """A Celery worker in its own process, on this test's database and Redis."""
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "TEST_DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "GREENLOOP_TEST_CACHE_PREFIX": f"crm-worker-{uuid.uuid4().hex[:8]}",
    }
    return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "-b",
            REDIS_URL,
            "worker",
            "-P",
            "solo",
            "-n",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-Q",
            queue,
            "-l",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.postgres
@pytest.mark.redis
def test_a_worker_killed_mid_batch_leaves_nothing_lost_or_doubled(
    broker, endpoint, receiver, org_a
):
    receiver.state.delay = 0.15  # a slow receiver: the batch is still being sent when it dies
    worker = _worker_process("doomed", broker)
    try:
        ids = emit(org_a, 12)
        receiver.wait_for(3, timeout=30)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        _stop(worker)
    time.sleep(0.5)  # the request in flight when it died reaches the receiver or not
    sent_before = len(receiver.ids())
    assert 3 <= sent_before < 12
    # its transaction died with it: nothing is marked delivered, the row locks are released
    assert Delivery.objects.filter(state="delivered").count() == 0
    receiver.state.delay = 0
    # the next pass (the beat's sweep, or the task redelivered to another worker) sends all
    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=10, queues=[broker]
    ):
        enqueue()
        got = receiver.wait_for(12, timeout=30)
    assert [r.id for r in got] == ids  # each once, in order
    assert receiver.state.duplicates == sent_before  # re-sent, recognised by webhook-id
    assert Delivery.objects.filter(state="delivered").count() == 12


@pytest.mark.postgres
@pytest.mark.redis
def test_two_workers_racing_never_double_send(broker, endpoint, receiver, settings):
    from tests.factories import OrganisationFactory

    settings.GREENLOOP_CRM = {**settings.GREENLOOP_CRM, "batch_size": 20}
    orgs = [OrganisationFactory() for _ in range(6)]
    workers = [_worker_process("racer1", broker), _worker_process("racer2", broker)]
    try:
        lanes = {str(org.pk): [] for org in orgs}
        for round_ in range(5):
            for org in orgs:
                lanes[str(org.pk)] += emit(org, 10, start=round_ * 10)
        for _ in range(6):
            enqueue()
        got = receiver.wait_for(300, timeout=60)
    finally:
        for worker in workers:
            _stop(worker)
    assert len(got) == 300
    assert receiver.state.duplicates == 0
    assert DeliveryAttempt.objects.count() == 300
    assert in_lane_order(got, lanes)


@pytest.mark.postgres
@pytest.mark.race
def test_two_passes_at_once_share_the_work_without_double_sends(endpoint, receiver, settings):
    import threading

    from tests.factories import OrganisationFactory

    settings.GREENLOOP_CRM = {**settings.GREENLOOP_CRM, "batch_size": 10}
    orgs = [OrganisationFactory() for _ in range(4)]
    lanes = {str(org.pk): emit(org, 15) for org in orgs}
    delivery.route_events(1000)
    receiver.state.delay = 0.01
    barrier = threading.Barrier(2)
    errors = []

    def work():
        try:
            barrier.wait()
            while delivery.deliver_batch().attempts:
                pass
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    got = receiver.wait_for(60)
    assert len(got) == 60
    assert receiver.state.duplicates == 0
    assert in_lane_order(got, lanes)


@pytest.mark.rabbitmq
def test_rabbitmq_round_trip(org_a):
    from kombu import Connection, Exchange, Queue

    name = f"greenloop-test-{uuid.uuid4().hex[:8]}"
    CrmEndpoint.objects.create(name="Middleware", kind="rabbitmq", url=RABBITMQ_URL, exchange=name)
    exchange = Exchange(name, type="topic", durable=True)
    with Connection(RABBITMQ_URL) as conn:
        queue = Queue(f"{name}-q", exchange, routing_key="greenloop.test.#", exclusive=True)
        queue(conn.default_channel).declare()
        ids = emit(org_a, 3)
        while delivery.run_pass().worked:
            pass
        messages = []
        deadline = time.monotonic() + 10
        while len(messages) < 3 and time.monotonic() < deadline:
            message = queue(conn.default_channel).get(no_ack=True)
            if message is None:
                time.sleep(0.05)
                continue
            messages.append(message)
        exchange(conn.default_channel).delete()
    assert [json.loads(m.body)["id"] for m in messages] == ids
    first = messages[0]
    assert first.delivery_info["routing_key"] == "greenloop.test.happened"
    assert first.content_type == "application/cloudevents+json"
    assert first.properties["delivery_mode"] == 2
    assert first.properties["message_id"] == ids[0]
    assert json.loads(first.body)["specversion"] == "1.0"
    assert Delivery.objects.filter(state="delivered").count() == 3


@pytest.mark.rabbitmq
def test_rabbitmq_down_is_a_failed_attempt_that_is_retried(org_a):
    CrmEndpoint.objects.create(
        name="Middleware", kind="rabbitmq", url="amqp://guest:guest@127.0.0.1:1//", exchange="x"
    )
    emit(org_a, 1)
    delivery.run_pass()
    attempt = DeliveryAttempt.objects.get()
    assert attempt.ok is False
    assert attempt.error != ""
    assert Delivery.objects.get().state == "pending"
