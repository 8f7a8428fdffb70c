"""Benchmark: recompute and persist 100,000 orders / 300,000 legs on PostgreSQL.

Creates (once) an organisation with 100,000 orders of one shipment with three legs each (HGV,
container ship, HGV) and one order line with attributed electricity at a Chinese site with a
verified green-power declaration, then times `carbon.footprint.calculation.recalculate()` for all
of them:
loading, Decimal arithmetic through the engine, 100,000 immutable snapshots bulk-inserted and
100,000 `footprint_calculated` outbox events. Target: <= 60 s.

The database comes from DATABASE_URL (default postgres://postgres@127.0.0.1:5432/greenloop_bench)
and is created when missing. Snapshots and outbox rows of earlier runs are cleared in this
benchmark database only, so that every run persists the full set again.

    .venv/bin/python bench/recalculate.py [--orders 100000] [--batch-size 1000]
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


def seed(n_orders: int) -> object:
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
    from portal.models import Organisation, Site

    call_command("migrate", verbosity=0)
    call_command("load_reference_data", stdout=open(os.devnull, "w"))  # noqa: SIM115
    org, _ = Organisation.objects.get_or_create(
        slug="bench", defaults={"name": "Bench Manufacturing", "country": "CN"}
    )
    have = Order.objects.filter(organisation=org).count()
    if have >= n_orders:
        return org
    site, _ = Site.objects.get_or_create(
        organisation=org, name="Suzhou plant", defaults={"country": "CN", "region": "CN"}
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
                    external_id=f"B-{i:07d}",
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


def clear_previous_results() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        # Benchmark database only: snapshots are immutable evidence everywhere else.
        # CASCADE: points awards and ledger rows point at snapshots; the bench has none to keep.
        cursor.execute("TRUNCATE carbon_calculationsnapshot, portal_outboxevent CASCADE")


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
    from carbon.footprint.calculation import recalculate_parallel
    from carbon.models import CalculationSnapshot, Leg

    org = seed(args.orders)
    clear_previous_results()
    legs = Leg.objects.filter(shipment__order__organisation=org).count()

    def progress(result):
        print(f"\r  {result.processed:,}/{result.total:,} orders", end="", file=sys.stderr)

    started = time.perf_counter()
    result = recalculate_parallel(
        org, batch_size=args.batch_size, workers=args.workers, progress=progress
    )
    elapsed = time.perf_counter() - started
    print(file=sys.stderr)
    stored = CalculationSnapshot.objects.filter(order__organisation=org, is_current=True).count()

    started = time.perf_counter()
    again = recalculate_parallel(org, batch_size=args.batch_size, workers=args.workers)
    unchanged_elapsed = time.perf_counter() - started

    print(
        f"recalculate benchmark: {result.processed:,} orders, {legs:,} legs "
        f"(PostgreSQL, {args.workers} worker processes)"
    )
    print(
        f"  recompute and persist: {elapsed:6.1f} s  "
        f"({result.processed / elapsed:,.0f} orders/s, {legs / elapsed:,.0f} legs/s), "
        f"{result.created:,} snapshots, {len(result.failed)} failed, {stored:,} current"
    )
    print(
        f"  second run, nothing changed: {unchanged_elapsed:6.1f} s "
        f"({again.unchanged:,} unchanged, {again.created} new)"
    )
    verdict = "PASS" if elapsed <= 60 and result.processed >= 100_000 else "FAIL"
    print(f"target: <= 60 s for 100,000 orders / 300,000 legs   {verdict}")


if __name__ == "__main__":
    main()
