"""Benchmark: recompute and persist 100,000 orders / 300,000 legs on PostgreSQL.

Creates (once) an organisation with 100,000 orders of one shipment with three legs each (HGV,
container ship, HGV) and one order line with attributed electricity at a Chinese site with a
verified green-power declaration, then times `carbon.footprint.calculation.recalculate()` for all
of them:
loading, Decimal arithmetic through the engine, 100,000 immutable snapshots streamed with COPY
and one `footprints_recalculated` outbox event per batch. Then runs it again with nothing
changed (every order skipped by its stored input hash), and measures the floor in the same run:
a raw COPY of the same snapshot rows (read back from the table) into a scratch table with no
index, over one connection.

Also prints the CPU time per order of each run, in Python (this process and its worker
processes) and in PostgreSQL (the backends serving the benchmark database, sampled from /proc):
on a shared machine these say more than the seconds.

Targets: <= 60 s per 100,000 orders with 2 workers (with `--orders` below 100,000 the time is
extrapolated linearly, and the output says so); the second run at least 5x faster than the first.

The database comes from DATABASE_URL (default postgres://postgres@127.0.0.1:5432/greenloop_bench)
and is created when missing. Snapshots and outbox rows of earlier runs are cleared in this
benchmark database only, so that every run persists the full set again.

    .venv/bin/python bench/recalculate.py [--orders 100000] [--batch-size 1000] [--workers 2]

Each `--orders` size has its own organisation (slug `bench`, or `bench-<N>` below 100,000), seeded
once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/greenloop_bench"
os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")
# As in production, follow-up work (points for recalculated orders) is queued for the workers,
# not run inline: the benchmark measures the recalculation itself.
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "false")


def ensure_database(url: str) -> None:
    import dj_database_url
    import psycopg
    from psycopg import sql

    config = dj_database_url.parse(url)
    if "postgresql" not in config["ENGINE"]:
        raise SystemExit(f"This benchmark needs PostgreSQL, not {config['ENGINE']}.")
    params = {
        "host": config.get("HOST") or "127.0.0.1",
        "port": config.get("PORT") or 5432,
        "user": config.get("USER") or "postgres",
        "password": config.get("PASSWORD") or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
            print(f"created database {config['NAME']}")


def setup_django() -> None:
    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False  # no query log: it would hold every statement in memory


def seed(n_orders: int, slug: str) -> object:
    from django.core.management import call_command
    from django.db import transaction

    from carbon.models import (
        DeclarationStatus,
        GreenPowerDeclaration,
        Instrument,
        Leg,
        Order,
        OrderLine,
        Product,
        Shipment,
    )
    from portal.models import Organisation, Site, User

    call_command("migrate", verbosity=0)
    call_command("load_reference_data", stdout=open(os.devnull, "w"))  # noqa: SIM115
    org, _ = Organisation.objects.get_or_create(
        slug=slug, defaults={"name": f"Bench Manufacturing ({slug})", "country": "CN"}
    )
    have = Order.objects.filter(organisation=org).count()
    if have >= n_orders:
        return org
    site, _ = Site.objects.get_or_create(
        organisation=org, name="Suzhou plant", defaults={"country": "CN", "region": "CN"}
    )
    # Four eyes: a verified declaration names two different staff members.
    checker, _ = User.objects.get_or_create(
        email="bench.checker@greenloop.example", defaults={"is_staff": True}
    )
    verifier, _ = User.objects.get_or_create(
        email="bench.verifier@greenloop.example", defaults={"is_staff": True}
    )
    GreenPowerDeclaration.objects.get_or_create(
        organisation=org,
        site=site,
        period_start=dt.date(2025, 1, 1),
        defaults={
            "period_end": dt.date(2025, 12, 31),
            "green_ratio": Decimal("0.6"),
            "instrument": Instrument.GEC,
            "status": DeclarationStatus.VERIFIED,
            "checked_by": checker,
            "verified_by": verifier,
        },
    )
    product, _ = Product.objects.get_or_create(
        sku="BENCH-INV", defaults={"name": "Inverter", "electricity_kwh_per_unit": Decimal("850")}
    )
    started = time.perf_counter()
    chunk = 5000
    for start in range(have, n_orders, chunk):
        with transaction.atomic():
            orders = Order.objects.bulk_create(
                Order(
                    organisation=org,
                    external_id=f"{slug}-{i:07d}",
                    order_date=dt.date(2025, 1, 1) + dt.timedelta(days=i % 365),
                    status="delivered",
                    delivery_site=site,
                )
                for i in range(start, min(start + chunk, n_orders))
            )
            OrderLine.objects.bulk_create(
                OrderLine(order=o, product=product, quantity=Decimal(1 + o.pk % 7)) for o in orders
            )
            shipments = Shipment.objects.bulk_create(
                Shipment(order=o, reference=f"S-{o.external_id}") for o in orders
            )
            legs = []
            for s in shipments:
                mass = Decimal(s.pk % 20 + 1) / 2
                legs += [
                    Leg(
                        shipment=s,
                        sequence=1,
                        category="road.hgv.articulated",
                        distance_km=Decimal(100 + s.pk % 400),
                        mass_t=mass,
                    ),
                    Leg(
                        shipment=s,
                        sequence=2,
                        category="sea.container.average",
                        distance_km=Decimal(18000 + s.pk % 2000),
                        mass_t=mass,
                    ),
                    Leg(
                        shipment=s,
                        sequence=3,
                        category="road.hgv.rigid",
                        distance_km=Decimal(50 + s.pk % 300),
                        mass_t=mass,
                    ),
                ]
            Leg.objects.bulk_create(legs)
        print(f"\rseeding orders: {min(start + chunk, n_orders):,}/{n_orders:,}", end="")
    print(f"\nseeded in {time.perf_counter() - started:.1f} s")
    return org


class CpuMeter:
    """CPU seconds spent by this process and its (reaped) worker processes, and by the
    PostgreSQL backends serving this benchmark's database: the backends are sampled from
    /proc every 50 ms while the meter runs (a backend's last few milliseconds may be missed),
    so the figures stay meaningful when other jobs share the cores."""

    def __init__(self, database: str):
        import threading

        self.database = database
        self.seen: dict[int, tuple[float, float]] = {}  # pid -> (first, last) CPU seconds
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def _proc_cpu(pid: int) -> float | None:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _sample(self) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            own = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            while not self.stop.is_set():
                pids = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
                    [self.database, own],
                ).fetchall()
                for (pid,) in pids:
                    cpu = self._proc_cpu(pid)
                    if cpu is not None:
                        first = self.seen.get(pid, (cpu, cpu))[0]
                        self.seen[pid] = (first, cpu)
                self.stop.wait(0.05)

    def __enter__(self) -> CpuMeter:
        self.started = self._own()
        self.thread.start()
        return self

    @staticmethod
    def _own() -> float:
        import resource

        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()
        self.python = self._own() - self.started
        self.postgres = sum(last - first for first, last in self.seen.values())


def clear_previous_results() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        # Benchmark database only: snapshots are immutable evidence everywhere else.
        # CASCADE: points awards and ledger rows point at snapshots; the bench has none to keep.
        cursor.execute("TRUNCATE carbon_calculationsnapshot, portal_outboxevent CASCADE")


def copy_floor(org) -> tuple[float, int, int]:
    """Seconds to COPY the organisation's current snapshot rows, as stored, into a scratch table
    with no index (one connection), with the row count and bytes: the floor of the write."""
    from django.db import connection

    from carbon.models import CalculationSnapshot

    columns = ", ".join(
        connection.ops.quote_name(f.column) for f in CalculationSnapshot._meta.concrete_fields
    )
    table = CalculationSnapshot._meta.db_table
    with connection.cursor() as cursor:
        raw = cursor.cursor
        buffer = bytearray()
        with raw.copy(
            f"COPY (SELECT {columns} FROM {table} WHERE is_current AND order_id IN "  # noqa: S608
            f"(SELECT id FROM carbon_order WHERE organisation_id = {int(org.pk)})) TO STDOUT"
        ) as copy:
            for chunk in copy:
                buffer += chunk
        rows = buffer.count(b"\n")
        cursor.execute("DROP TABLE IF EXISTS bench_copy_floor")
        cursor.execute(f"CREATE TABLE bench_copy_floor (LIKE {table} INCLUDING COMPRESSION)")
        started = time.perf_counter()
        with raw.copy(f"COPY bench_copy_floor ({columns}) FROM STDIN") as copy:
            view = memoryview(buffer)
            for start in range(0, len(view), 1 << 20):
                copy.write(view[start : start + (1 << 20)])
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_copy_floor")
    return elapsed, rows, len(buffer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument(
        "--workers", type=int, default=2, help="processes (recalculate_carbon --workers)"
    )
    args = parser.parse_args()

    ensure_database(os.environ["DATABASE_URL"])
    setup_django()
    from django.db import connection

    from carbon.footprint.calculation import recalculate_parallel
    from carbon.models import CalculationSnapshot, Leg

    slug = "bench" if args.orders == 100_000 else f"bench-{args.orders}"
    org = seed(args.orders, slug)
    clear_previous_results()
    legs = Leg.objects.filter(shipment__order__organisation=org).count()
    load_before = os.getloadavg()

    def progress(result):
        print(f"\r  {result.processed:,}/{result.total:,} orders", end="", file=sys.stderr)

    database = connection.settings_dict["NAME"]
    started = time.perf_counter()
    with CpuMeter(database) as first_cpu:
        result = recalculate_parallel(
            org, batch_size=args.batch_size, workers=args.workers, progress=progress
        )
    elapsed = time.perf_counter() - started
    print(file=sys.stderr)
    stored = CalculationSnapshot.objects.filter(order__organisation=org, is_current=True).count()

    started = time.perf_counter()
    with CpuMeter(database) as second_cpu:
        again = recalculate_parallel(org, batch_size=args.batch_size, workers=args.workers)
    unchanged_elapsed = time.perf_counter() - started
    floor, floor_rows, floor_bytes = copy_floor(org)
    load_after = os.getloadavg()

    n = result.processed
    per_100k = elapsed * 100_000 / n
    speedup = elapsed / unchanged_elapsed
    print(
        f"recalculate benchmark: {n:,} orders, {legs:,} legs "
        f"(PostgreSQL, {args.workers} worker processes, batches of {args.batch_size:,})"
    )
    print(
        "  load average (1, 5, 15 min): "
        f"{' '.join(f'{x:.1f}' for x in load_before)} at the start, "
        f"{' '.join(f'{x:.1f}' for x in load_after)} at the end (2 cores, shared)"
    )
    print(
        f"  recompute and persist: {elapsed:6.1f} s  "
        f"({n / elapsed:,.0f} orders/s, {legs / elapsed:,.0f} legs/s), "
        f"{result.created:,} snapshots, {len(result.failed)} failed, {stored:,} current"
    )
    print(
        f"  second run, nothing changed: {unchanged_elapsed:6.1f} s "
        f"({again.unchanged:,} unchanged, {again.created} new): {speedup:.1f}x faster"
    )
    for name, cpu in (("first run", first_cpu), ("second run", second_cpu)):
        print(
            f"  CPU per order, {name}: {cpu.python * 1000 / n:.3f} ms in Python (this process "
            f"and its workers), {cpu.postgres * 1000 / n:.3f} ms in PostgreSQL (its backends)"
        )
    print(
        f"  floor: raw COPY of the same {floor_rows:,} rows ({floor_bytes / 1e6:,.0f} MB) into a "
        f"scratch table with no index (same compression), one connection: {floor:6.2f} s; "
        f"recalculation = {elapsed / floor:.1f}x the floor"
    )
    note = "" if n == 100_000 else f" (extrapolated linearly from {n:,} orders)"
    verdict = {True: "PASS", False: "FAIL"}
    print("targets:")
    print(
        f"  <= 60 s per 100,000 orders / 300,000 legs: {per_100k:.1f} s{note}   "
        f"{verdict[per_100k <= 60]}"
    )
    print(f"  second run >= 5x faster than the first: {speedup:.1f}x   {verdict[speedup >= 5]}")


if __name__ == "__main__":
    main()
