"""Benchmark: the CRM bridge delivering outbox events to a local webhook receiver with two Celery
workers, on PostgreSQL with production settings.

Drops and recreates a PostgreSQL database (--database-url, default
postgres://postgres@127.0.0.1:5432/greenloop_bench_outbox; its name must contain "bench", so that
no other database is ever dropped), migrates it, creates --orgs organisations and one webhook
endpoint pointing at a receiver in a process of its own (portal/crm/receiver.py: it verifies
every signature with the `standardwebhooks` library and de-duplicates on `webhook-id`; it reports
what arrived to this process, which checks counts and order). Then:

1. Throughput: --events events (spread over the organisations) are written to the outbox, two
   workers (`celery worker -P solo`, Redis broker) are kicked, and the run ends when the receiver
   has every event. Events per second = events / (last receipt - kick).
2. The same again with the receiver failing --fail-ratio of the requests at random (500): the
   retries wait --retry-base seconds doubling up to --retry-max (GREENLOOP_CRM_RETRY_*_SECONDS;
   production's 5 s to 24 h would make the run last hours: with strict per-organisation order
   a lane waits out each of its failures, so the schedule, not the engine, sets the pace).
3. Latency: once what phase 2 left (cut short by --max-seconds) is delivered, with the workers
   idle-waiting, --latency-samples single events are published one at a time through
   `portal.events.publish()` (the after-commit kick included); commit-to-receipt p50/p95/p99.

For each phase it prints events/s, attempts, duplicates the receiver saw, whether every event
arrived in per-organisation order, and the CPU time each event cost the workers, the receiver and
the PostgreSQL backends (what the machine's load cannot change: with C microseconds per event,
N idle cores deliver at most N x 10^6 / C events/s). And the floor measured in the same run:
signed POSTs per second that two processes (as many threads each as a worker sends lanes side by
side) reach against the same receiver process with no database at all (what this machine's
Python HTTP stack allows; the engine cannot beat it). Targets (BRIEF.md): >= 1,000 events/s,
p95 <= 1 s. Exits non-zero when a target is missed.

    .venv/bin/python bench/outbox.py [--events 100000] [--orgs 50] [--fail-ratio 0.5]
        [--retry-base 0.05] [--latency-samples 200] [--database-url URL]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from redemptions import (  # noqa: E402 - after the path is set
    percentile,
    process_cpu_seconds,
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


def in_order(received: list[Arrival], endpoint, after_id: int) -> tuple[bool, int]:
    """Did every organisation's events (deliveries after `after_id`) arrive in their lane's
    order? And how many never arrived."""
    from portal.models import Delivery

    expected = defaultdict(list)
    rows = Delivery.objects.filter(endpoint=endpoint, id__gt=after_id).order_by("id")
    for lane, event_id in rows.values_list("lane", "event_id"):
        expected[str(lane)].append(str(event_id))
    got = defaultdict(list)
    for item in received:
        got[item.account].append(item.id)
    missing = sum(len(ids) for ids in expected.values()) - sum(len(ids) for ids in got.values())
    # What arrived of each lane must be the start of that lane, in order (a phase cut short by
    # --max-seconds leaves the rest out, which `missing` counts).
    return all(got[lane] == ids[: len(got[lane])] for lane, ids in expected.items()), missing


@dataclass
class Arrival:
    id: str
    account: str  # the CloudEvent's greenloopaccount ("0": no organisation)
    received_at: float  # time.time() in the receiver process


def serve_receiver(secret: str, channel: Connection) -> None:
    """The receiver process: portal/crm/receiver.py's Receiver (it verifies and de-duplicates),
    reporting what arrives in batches every few milliseconds; commands come on the same pipe."""
    from portal.crm.receiver import Receiver

    lock = threading.Lock()
    pending: list[tuple[str, str, float]] = []

    def on_event(item: Any) -> None:
        with lock:
            pending.append((item.id, item.event.get("greenloopaccount", "0"), item.received_at))

    receiver = Receiver(secret, on_event=on_event).start()
    channel.send(receiver.port)

    def report() -> None:
        while True:
            time.sleep(0.005)
            with lock:
                batch = pending[:]
                pending.clear()
            if batch:
                channel.send(("events", batch, receiver.state.duplicates))

    threading.Thread(target=report, daemon=True).start()
    while True:
        command, value = channel.recv()
        if command == "fail_ratio":
            receiver.state.fail_ratio = value
        elif command == "stop":
            receiver.stop()
            return


class ReceiverProcess:
    """The receiver in its own process (so it does not share a GIL with anything it measures),
    mirrored here: what arrived, in order of receipt, and how many duplicates it refused."""

    def __init__(self, secret: str) -> None:
        context = multiprocessing.get_context("spawn")
        self.channel, child = context.Pipe()
        self.process = context.Process(target=serve_receiver, args=(secret, child), daemon=True)
        self.process.start()
        self.url = f"http://127.0.0.1:{self.channel.recv()}/hook"
        self.lock = threading.Lock()
        self.received: list[Arrival] = []
        self.arrived: dict[str, float] = {}
        self.duplicates_total = 0
        self.duplicates_before = 0
        threading.Thread(target=self._listen, daemon=True).start()

    def _listen(self) -> None:
        while True:
            try:
                _kind, batch, duplicates = self.channel.recv()
            except (EOFError, OSError):
                return
            with self.lock:
                for event_id, account, at in batch:
                    self.received.append(Arrival(event_id, account, at))
                    self.arrived[event_id] = at
                self.duplicates_total = duplicates

    @property
    def pid(self) -> int:
        return self.process.pid or 0

    @property
    def duplicates(self) -> int:
        return self.duplicates_total - self.duplicates_before

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def reset(self) -> None:
        with self.lock:
            self.received.clear()
            self.duplicates_before = self.duplicates_total

    def set_fail_ratio(self, ratio: float) -> None:
        self.channel.send(("fail_ratio", ratio))

    def stop(self) -> None:
        self.channel.send(("stop", None))
        self.process.join(timeout=10)


def backend_pids() -> list[int]:
    """The PostgreSQL backends serving the workers (every connection to the benchmark's database
    but this process's own)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


class CpuMeter:
    """CPU time the workers, the receiver and the PostgreSQL backends use between start() and
    stop(). The workers' connections come and go (one per task), so the backends are sampled
    with every sample() call and each counts from its first sight (from zero if it connected
    after start())."""

    def __init__(self, receiver: ReceiverProcess, workers: list[subprocess.Popen]) -> None:
        self.groups = {"workers": [w.pid for w in workers], "receiver": [receiver.pid]}
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.backends: set[int] = set()

    def _read(self, pids: list[int], new_from_zero: bool) -> None:
        for pid in pids:
            used = process_cpu_seconds(pid)
            if pid not in self.first:
                self.first[pid] = 0.0 if new_from_zero else used
            if used:
                self.last[pid] = used

    def start(self) -> None:
        backends = backend_pids()
        self.backends.update(backends)
        self._read([pid for pids in self.groups.values() for pid in pids] + backends, False)

    def sample(self) -> None:
        backends = backend_pids()
        self.backends.update(backends)
        self._read(backends, True)

    def stop(self) -> None:
        self.sample()
        self._read([pid for pids in self.groups.values() for pid in pids], False)

    def describe(self, events: int) -> str:
        groups = {**self.groups, "PostgreSQL": sorted(self.backends)}
        per_event = {
            group: sum(self.last.get(pid, 0.0) - self.first.get(pid, 0.0) for pid in pids)
            / max(1, events)
            * 1e6
            for group, pids in groups.items()
        }
        total = sum(per_event.values())
        parts = ", ".join(f"{group} {us:,.0f}" for group, us in per_event.items())
        cores = os.cpu_count() or 1
        return (
            f"CPU per event: {parts} = {total:,.0f} us (at most "
            f"{cores * 1e6 / max(1.0, total):,.0f} events/s on {cores} idle cores)"
        )


def floor_sender(url: str, threads: int, ready, go, seconds: float, counts) -> None:
    """One floor process: `threads` threads sending signed POSTs, no database."""
    import django

    django.setup()
    from django.utils import timezone

    from portal.crm.connectors import WebhookConnector
    from portal.models import CrmEndpoint, OutboxEvent

    endpoint = CrmEndpoint(name="floor", url=url, secret=SECRET)
    sent = [0] * threads

    def loop(slot: int) -> None:
        connector = WebhookConnector(endpoint)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            event = OutboxEvent(
                id=uuid.uuid4(),
                source="urn:bench",
                type="greenloop.bench.floor",
                time=timezone.now(),
                data={"n": sent[slot]},
            )
            if connector.send(event).ok:
                sent[slot] += 1
        connector.close()

    ready.release()
    go.wait()
    workers = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    counts.put(sum(sent))


def transport_floor(receiver_url: str, seconds: float = 5.0) -> float:
    """Signed POSTs per second that two processes reach against the receiver, no database: each
    with as many threads as a worker sends lanes side by side (GREENLOOP_CRM parallel_lanes)."""
    from portal.crm.config import crm_settings

    context = multiprocessing.get_context("spawn")
    ready, go, counts = context.Semaphore(0), context.Event(), context.Queue()
    threads = crm_settings()["parallel_lanes"]
    senders = [
        context.Process(
            target=floor_sender, args=(receiver_url, threads, ready, go, seconds, counts)
        )
        for _ in range(2)
    ]
    for sender in senders:
        sender.start()
    for _ in senders:
        ready.acquire()
    started = time.monotonic()
    go.set()
    total = sum(counts.get() for _ in senders)
    elapsed = time.monotonic() - started
    for sender in senders:
        sender.join()
    return total / elapsed


def run_phase(
    label, receiver: ReceiverProcess, endpoint, orgs, count, workers_env, log_dir, max_seconds
):
    from django.db.models import Max

    from portal.crm.tasks import deliver_outbox
    from portal.models import Delivery, DeliveryAttempt

    receiver.reset()
    attempts_before = DeliveryAttempt.objects.count()
    after_id = Delivery.objects.aggregate(m=Max("id"))["m"] or 0
    t0 = time.perf_counter()
    write_events(orgs, count)
    print(f"[{label}] wrote {count} events in {time.perf_counter() - t0:.1f} s", flush=True)
    workers = start_workers(workers_env, 2, log_dir)
    meter = CpuMeter(receiver, workers)
    try:
        wait_for_workers(2)
        meter.start()
        kicked = time.time()
        for _ in range(2):
            deliver_outbox.delay()
        deadline = time.monotonic() + max_seconds
        last_report = time.monotonic()
        while receiver.count() < count and time.monotonic() < deadline:
            time.sleep(0.2)
            meter.sample()
            if time.monotonic() - last_report > 15:
                print(f"[{label}] {receiver.count()} received", flush=True)
                last_report = time.monotonic()
        meter.stop()
    finally:
        stop_workers(workers)
    with receiver.lock:
        received = list(receiver.received)
    last = max((r.received_at for r in received), default=kicked)
    seconds = max(1e-9, last - kicked)
    ordered, missing = in_order(received, endpoint, after_id)
    attempts = DeliveryAttempt.objects.count() - attempts_before
    rate = len(received) / seconds
    print(
        f"[{label}] {len(received)}/{count} events in {seconds:.1f} s = {rate:,.0f} events/s; "
        f"attempts {attempts:,} ({attempts / max(1, count):.2f} per event); duplicates seen by "
        f"the receiver {receiver.duplicates}; not arrived when the phase ended {missing}; "
        f"per-organisation order "
        f"{'kept' if ordered else 'BROKEN'}",
        flush=True,
    )
    print(f"[{label}] {meter.describe(len(received))}", flush=True)
    return rate, ordered, missing


def latency(receiver: ReceiverProcess, orgs, samples: int, workers_env, log_dir) -> list[float]:
    from django.db import transaction

    from portal.crm.tasks import deliver_outbox
    from portal.events import publish
    from portal.models import Delivery, DeliveryState, OutboxEvent

    workers = start_workers(workers_env, 2, log_dir)
    delays = []
    try:
        wait_for_workers(2)
        # What a phase cut short by --max-seconds left is delivered first (the receiver accepts
        # everything again): the samples measure idle workers, not that backlog.
        for _ in range(2):
            deliver_outbox.delay()
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and (
            Delivery.objects.exclude(state=DeliveryState.DELIVERED).exists()
            or OutboxEvent.objects.filter(routed_at__isnull=True).exists()
        ):
            time.sleep(0.5)
        time.sleep(1)  # the workers' last passes end
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
                with receiver.lock:
                    arrived = receiver.arrived.get(wanted)
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
    from portal.models import CrmEndpoint, Organisation

    call_command("migrate", verbosity=0)
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge("celery")
    orgs = [
        Organisation.objects.create(slug=f"bench-{n}", name=f"Bench {n}", country="DE")
        for n in range(args.orgs)
    ]
    receiver = ReceiverProcess(SECRET)
    endpoint = CrmEndpoint.objects.create(name="Bench CRM", url=receiver.url, secret=SECRET)
    print(f"started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load {os.getloadavg()[0]:.1f}")

    floor = transport_floor(receiver.url)
    print(
        f"floor: {floor:,.0f} signed POSTs/s from two processes to the receiver's, no database",
        flush=True,
    )

    rate, ordered, missing = run_phase(
        "healthy receiver", receiver, endpoint, orgs, args.events, env, var_dir, args.max_seconds
    )
    receiver.set_fail_ratio(args.fail_ratio)
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
    receiver.set_fail_ratio(0.0)
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
