"""Benchmark: import 100,000 order rows from CSV with full validation, on PostgreSQL.

    .venv/bin/python bench/import_orders.py [--rows 100000]

Creates a throwaway test database (PostgreSQL when reachable, as in the test settings; it says
which), generates a CSV of 3-leg orders (HGV to port, container ship, HGV; quantities with
mixed units), then times the three phases of `carbon.footprint.importer`: read + validate every row
and
field, store (bulk inserts, one transaction), and calculate the footprints (snapshots).
Target (BRIEF.md): <= 60 s for 100,000 rows with full validation.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

ROUTE = (
    ("road.hgv.articulated", "Suzhou plant", "Shanghai Yangshan port", 80, 180),
    ("sea.container.average", "Shanghai Yangshan port", "Port of Hamburg", 18000, 21000),
    ("road.hgv.rigid", "Port of Hamburg", "Werk Hamburg", 10, 60),
)
HEADER = (
    "order_id,order_date,delivery_date,status,site,sku,quantity,shipment,leg,category,origin,"
    "destination,distance,mass,data_tier,fuel_type,fuel_used,radiative_forcing\n"
)


def generate(rows: int, seed: int = 14083) -> str:
    rnd = random.Random(seed)
    out = io.StringIO()
    out.write(HEADER)
    n = 0
    order = 0
    while n < rows:
        order += 1
        month = 1 + order % 12
        day = 1 + order % 28
        mass = (
            f"{rnd.uniform(0.5, 20):.3f} t" if order % 3 else f'"{rnd.randint(1000, 40000):,} lb"'
        )
        for leg, (category, origin, destination, lo, hi) in enumerate(ROUTE, start=1):
            if n >= rows:
                break
            distance = rnd.uniform(lo, hi)
            distance_text = f'"{distance:,.1f} km"' if leg == 2 else f"{distance / 1.609344:.2f} mi"
            sku, quantity = ("SUN-110K-G", str(rnd.randint(1, 80))) if leg == 1 else ("", "")
            tier = "modelled" if leg == 2 else "default"
            out.write(
                f"BENCH-{order:07d},2025-{month:02d}-{day:02d},,delivered,Werk Hamburg,{sku},"
                f"{quantity},S1,{leg},{category},{origin},{destination},{distance_text},"
                f"{mass},{tier},,,\n"
            )
            n += 1
    return out.getvalue()


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"benchmark check failed: {message}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(args.rows)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(rows: int) -> None:
    from carbon.demo import ensure_products
    from carbon.footprint import actions, importer
    from carbon.models import CalculationSnapshot, Leg, Order
    from portal.models import Organisation, Site

    call_command("load_reference_data")
    ensure_products()
    org = Organisation.objects.create(slug="bench", name="Bench GmbH", country="DE")
    Site.objects.create(organisation=org, name="Werk Hamburg", country="DE", region="DE")
    text = generate(rows)
    print(f"database: {connection.vendor}; CSV: {rows:,} rows, {len(text) / 1e6:.1f} MB")

    t0 = time.perf_counter()
    result = importer.validate_csv(org, io.StringIO(text, newline=""), total=rows)
    t1 = time.perf_counter()
    check(not result.errors, str(result.errors[:5]))
    marks: dict[str, float] = {}

    def progress(phase: str, done: int, total: int) -> None:
        marks.setdefault(phase, time.perf_counter())

    summary = actions.store_orders(org, result.orders, progress=progress).summary
    t2 = time.perf_counter()
    check(summary["created"] == len(result.orders), "all orders created")
    check(Leg.objects.count() == rows, "one leg per row")
    check(
        CalculationSnapshot.objects.filter(is_current=True).count() == len(result.orders),
        "one current snapshot per order",
    )
    print(f"validate (read, parse units, check every field, 2 lookups): {t1 - t0:6.2f} s")
    store = marks["calculating"] - t1
    calculate = t2 - marks["calculating"]
    print(f"store ({len(result.orders):,} orders, {rows:,} legs, bulk inserts):     {store:6.2f} s")
    print(f"calculate footprints (snapshots + events, same transaction): {calculate:6.2f} s")
    print(
        f"import, validated and stored: {t1 - t0 + store:6.2f} s (target <= 60 s); "
        f"with footprints: {t2 - t0:6.2f} s; {rows / (t2 - t0):,.0f} rows/s"
    )

    # A file with one bad row per 1,000: everything reported, nothing stored.
    lines = text.splitlines(keepends=True)
    for i in range(1, len(lines), 1000):
        lines[i] = (
            lines[i]
            .replace("road.hgv.rigid", "road.hgv.hovercraft")
            .replace("sea.container.average", "sea.container.averge")
            .replace("road.hgv.articulated", "road.hgv.artic")
        )
    before = Order.objects.count()
    t3 = time.perf_counter()
    bad = importer.validate_csv(org, io.StringIO("".join(lines), newline=""), total=rows)
    t4 = time.perf_counter()
    check(len(bad.errors) == len(range(1, len(lines), 1000)), "every bad row reported")
    check(Order.objects.count() == before, "nothing stored")
    print(f"validate a file with {len(bad.errors)} bad rows (all reported): {t4 - t3:6.2f} s")


if __name__ == "__main__":
    main()
