"""Benchmark: the CRM bridge delivering outbox events to a local webhook receiver with two Celery
workers, on PostgreSQL with production settings.

Drops and recreates a PostgreSQL database (--database-url, default
postgres://postgres@127.0.0.1:5432/greenloop_bench_outbox; its name must contain "bench", so that
no other database is ever dropped), migrates it, creates --orgs organisations and one webhook
endpoint pointing at a receiver in this process (portal/crm/receiver.py: it verifies every
signature with the `standardwebhooks` library and de-duplicates on `webhook-id`). Then:

1. Throughput: --events events (spread over the organisations) are written to the outbox, two
   workers (`celery worker -P solo`, Redis broker) are kicked, and the run ends when the receiver
   has every event. Events per second = events / (last receipt - kick).
2. The same again with the receiver failing --fail-ratio of the requests at random (500): the
   retries wait --retry-base seconds doubling up to --retry-max (GREENLOOP_CRM_RETRY_*_SECONDS;
   production's 5 s to 24 h would make the run last hours: with strict per-organisation order
   a lane waits out each of its failures, so the schedule, not the engine, sets the pace).
3. Latency: with the workers idle-waiting, --latency-samples single events are published one
   at a time through `portal.events.publish()` (the after-commit kick included); commit-to-
   receipt p50/p95/p99.

For each phase it prints events/s, attempts, duplicates the receiver saw, whether every event
arrived in per-organisation order, and the floor measured in the same run: signed POSTs per second
that two threads reach against the same receiver with no database at all (what this machine's
Python HTTP stack allows; the engine cannot beat it). Targets (BRIEF.md): >= 1,000 events/s,
p95 <= 1 s. Exits non-zero when a target is missed.

    .venv/bin/python bench/outbox.py [--events 100000] [--orgs 50] [--fail-ratio 0.5]
        [--retry-base 0.05] [--latency-samples 200] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from redemptions import (  # noqa: E402 - after the path is set
    percentile,
    reachable,
    reset_database,
    server_environment,
    verdict,
)

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/greenloop_bench_outbox"
DEFAULT_BROKER = "redis://127.0.0.1:6379/13"
TARGET_PER_SECOND = 1000
TARGET_P95_SECONDS = 1.0
SECRET = "whsec_" + "YmVuY2gtYmVuY2gtYmVuY2gtYmVuY2gtYmVuY2gtMDE="


def environment(
    url: str, broker: str, var_dir: str, retry_base: float, retry_max: float
) -> dict[str, str]:
    """bench/redemptions.py's production settings, plus the CRM bridge's: the receiver is on
    loopback, and phase 2's shortened retry schedule."""
    return {
        **server_environment(url, broker, 8000, var_dir),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/12"),
        "GREENLOOP_CRM_ALLOWED_NETWORKS": "127.0.0.0/8",
        "GREENLOOP_CRM_RETRY_BASE_SECONDS": str(retry_base),
        "GREENLOOP_CRM_RETRY_MAX_SECONDS": str(retry_max),
    }


def start_workers(env: dict[str, str], count: int, log_dir: str) -> list[subprocess.Popen]:
    workers = []
    for n in range(count):
        log = open(Path(log_dir) / f"worker{n}.log", "wb")  # noqa: SIM115 - closed with the process
        workers.append(
            subprocess.Popen(  # noqa: S603 - our interpreter and arguments
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "portal",
                    "worker",
                    "-P",
                    "solo",
                    "-n",
                    f"bench{n}-{uuid.uuid4().hex[:6]}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-l",
                    "WARNING",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    return workers


def wait_for_workers(count: int, timeout: float = 120) -> None:
    """Until `count` workers answer a ping (they start slowly on a busy machine)."""
    from portal.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(app.control.ping(timeout=1.0)) >= count:
            return
    raise SystemExit(f"{count} workers did not start within {timeout:.0f} s")


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def write_events(orgs: list, count: int) -> None:
    """The rows `portal.events.publish()` writes, in bulk (the benchmark measures delivery)."""
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from portal.models import OutboxEvent

    per_batch = 5000
    for start in range(0, count, per_batch):
        rows = []
        for i in range(start, min(count, start + per_batch)):
            org = orgs[i % len(orgs)]
            rows.append(
                OutboxEvent(
                    source=settings.GREENLOOP_EVENT_SOURCE,
                    type="greenloop.carbon.points_awarded",
                    time=timezone.now(),
                    subject=f"order/{i}",
                    data={"order_id": i, "points": 10},
                    organisation=org,
                )
            )
        with transaction.atomic():
            OutboxEvent.objects.bulk_create(rows)


def in_order(received, endpoint, after_id: int) -> tuple[bool, int]:
    """Did every organisation's events (deliveries after `after_id`) arrive in their lane's
    order? And how many never arrived."""
    from portal.models import Delivery

    expected = defaultdict(list)
    rows = Delivery.objects.filter(endpoint=endpoint, id__gt=after_id).order_by("id")
    for lane, event_id in rows.values_list("lane", "event_id"):
        expected[str(lane)].append(str(event_id))
    got = defaultdict(list)
    for item in received:
        got[item.event.get("greenloopaccount", "0")].append(item.id)
    missing = sum(len(ids) for ids in expected.values()) - sum(len(ids) for ids in got.values())
    # What arrived of each lane must be the start of that lane, in order (a phase cut short by
    # --max-seconds leaves the rest out, which `missing` counts).
    return all(got[lane] == ids[: len(got[lane])] for lane, ids in expected.items()), missing


def transport_floor(receiver_url: str, seconds: float = 5.0) -> float:
    """Signed POSTs per second that two threads reach against the receiver, no database."""
    from django.utils import timezone

    from portal.crm.connectors import WebhookConnector
    from portal.models import CrmEndpoint, OutboxEvent

    endpoint = CrmEndpoint(name="floor", url=receiver_url, secret=SECRET)
    counts = [0, 0]
    deadline = time.monotonic() + seconds

    def loop(slot: int) -> None:
        connector = WebhookConnector(endpoint)
        while time.monotonic() < deadline:
            event = OutboxEvent(
                id=uuid.uuid4(),
                source="urn:bench",
                type="greenloop.bench.floor",
                time=timezone.now(),
                data={"n": counts[slot]},
            )
            connector.send(event)
            counts[slot] += 1
        connector.close()

    threads = [threading.Thread(target=loop, args=(n,)) for n in range(2)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - started)


def run_phase(label, receiver, endpoint, orgs, count, workers_env, log_dir, max_seconds):
    from django.db.models import Max

    from portal.crm.tasks import deliver_outbox
    from portal.models import Delivery, DeliveryAttempt

    receiver.state.received.clear()
    receiver.state.seen.clear()
    receiver.state.duplicates = 0
    attempts_before = DeliveryAttempt.objects.count()
    after_id = Delivery.objects.aggregate(m=Max("id"))["m"] or 0
    t0 = time.perf_counter()
    write_events(orgs, count)
    print(f"[{label}] wrote {count} events in {time.perf_counter() - t0:.1f} s", flush=True)
    workers = start_workers(workers_env, 2, log_dir)
    try:
        wait_for_workers(2)
        kicked = time.time()
        for _ in range(2):
            deliver_outbox.delay()
        deadline = time.monotonic() + max_seconds
        last_report = time.monotonic()
        while len(receiver.state.received) < count and time.monotonic() < deadline:
            time.sleep(0.2)
            if time.monotonic() - last_report > 15:
                print(f"[{label}] {len(receiver.state.received)} received", flush=True)
                last_report = time.monotonic()
    finally:
        stop_workers(workers)
    received = list(receiver.state.received)
    last = max((r.received_at for r in received), default=kicked)
    seconds = max(1e-9, last - kicked)
    ordered, missing = in_order(received, endpoint, after_id)
    attempts = DeliveryAttempt.objects.count() - attempts_before
    rate = len(received) / seconds
    print(
        f"[{label}] {len(received)}/{count} events in {seconds:.1f} s = {rate:,.0f} events/s; "
        f"attempts {attempts:,} ({attempts / max(1, count):.2f} per event); duplicates seen by "
        f"the receiver {receiver.state.duplicates}; not arrived when the phase ended {missing}; "
        f"per-organisation order "
        f"{'kept' if ordered else 'BROKEN'}",
        flush=True,
    )
    return rate, ordered, missing


def latency(receiver, orgs, samples: int, workers_env, log_dir) -> list[float]:
    from django.db import transaction

    from portal.events import publish

    workers = start_workers(workers_env, 2, log_dir)
    delays = []
    try:
        wait_for_workers(2)
        for n in range(samples):
            stamps: list[float] = []
            with transaction.atomic():
                # Registered before the event's own kick, so it runs first, right after COMMIT.
                transaction.on_commit(lambda stamps=stamps: stamps.append(time.time()))
                event = publish(
                    "greenloop.carbon.points_awarded",
                    orgs[n % len(orgs)],
                    f"order/latency-{n}",
                    {"order_id": n, "points": 1},
                )
            committed = stamps[0]
            wanted = str(event.id)
            deadline = time.monotonic() + 10
            arrived = None
            while arrived is None and time.monotonic() < deadline:
                time.sleep(0.001)
                with receiver.state.lock:
                    if wanted in receiver.state.seen:
                        arrived = next(
                            r.received_at
                            for r in reversed(receiver.state.received)
                            if r.id == wanted
                        )
            delays.append(float("inf") if arrived is None else arrived - committed)
            time.sleep(0.05)  # the workers go back to idle-waiting
    finally:
        stop_workers(workers)
    return delays


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL, help="dropped and recreated")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--orgs", type=int, default=50)
    parser.add_argument("--fail-ratio", type=float, default=0.5)
    parser.add_argument("--retry-base", type=float, default=0.05, help="seconds (phase 2)")
    parser.add_argument("--retry-max", type=float, default=1.0, help="seconds (phase 2)")
    parser.add_argument("--latency-samples", type=int, default=200)
    parser.add_argument("--max-seconds", type=float, default=1800, help="per phase")
    parser.add_argument("--broker", default=DEFAULT_BROKER)
    args = parser.parse_args()
    if not reachable("127.0.0.1", 6379):
        raise SystemExit("The benchmark needs Redis at 127.0.0.1:6379 (the workers' broker).")

    var_dir = tempfile.mkdtemp(prefix="greenloop-bench-outbox-")
    env = environment(args.database_url, args.broker, var_dir, args.retry_base, args.retry_max)
    os.environ.update(env)
    # This process writes events and publishes the latency samples: it kicks the workers.
    os.environ["GREENLOOP_CRM_KICK"] = "1"
    print(f"resetting {args.database_url.rsplit('/', 1)[-1]} and migrating ...", flush=True)
    reset_database(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command

    from portal.celery import app
    from portal.crm.receiver import Receiver
    from portal.models import CrmEndpoint, Organisation

    call_command("migrate", verbosity=0)
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
    orgs = [
        Organisation.objects.create(slug=f"bench-{n}", name=f"Bench {n}", country="DE")
        for n in range(args.orgs)
    ]
    receiver = Receiver(SECRET).start()
    endpoint = CrmEndpoint.objects.create(name="Bench CRM", url=receiver.url, secret=SECRET)
    print(f"started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load {os.getloadavg()[0]:.1f}")

    floor = transport_floor(receiver.url)
    receiver.state.received.clear()
    receiver.state.seen.clear()
    print(f"floor: {floor:,.0f} signed POSTs/s from two threads, no database", flush=True)

    rate, ordered, missing = run_phase(
        "healthy receiver", receiver, endpoint, orgs, args.events, env, var_dir, args.max_seconds
    )
    receiver.state.fail_ratio = args.fail_ratio
    flaky_rate, flaky_ordered, flaky_missing = run_phase(
        f"receiver failing {args.fail_ratio:.0%}",
        receiver,
        endpoint,
        orgs,
        args.events,
        env,
        var_dir,
        args.max_seconds,
    )
    receiver.state.fail_ratio = 0.0
    delays = latency(receiver, orgs, args.latency_samples, env, var_dir)
    p50, p95, p99 = (percentile(delays, q) for q in (0.5, 0.95, 0.99))
    print(
        f"[latency] commit to receipt over {len(delays)} events, workers idle-waiting: "
        f"p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms"
    )
    receiver.stop()
    checks = [
        (f"throughput >= {TARGET_PER_SECOND}/s (healthy)", rate >= TARGET_PER_SECOND),
        ("every event arrived, in per-organisation order (healthy)", ordered and not missing),
        (
            "every event arrived, in per-organisation order (flaky)",
            flaky_ordered and not flaky_missing,
        ),
        (f"latency p95 <= {TARGET_P95_SECONDS:.0f} s", p95 <= TARGET_P95_SECONDS),
    ]
    for label, ok in checks:
        print(f"{verdict(ok)}  {label}")
    print(f"(flaky-receiver throughput: {flaky_rate:,.0f} events/s; floor {floor:,.0f}/s)")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
