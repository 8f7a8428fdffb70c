"""Benchmark: the emission engine over 1,000,000 synthetic legs.

Compares three ways of doing the same arithmetic (t·km = mass x distance; TTW and WTT = t·km x
intensity of the leg's category; WTW = TTW + WTT; per-order sums), then the same with each
order's points included (avoided logistics emissions against a baseline plus avoided Scope 2,
floored and capped: `carbon.points.formulas.points_many`):

1. `carbon.footprint.engine` on float64 arrays wrapped in Pint quantities (units checked once per
batch);
2. the same arithmetic in bare numpy (the floor);
3. a per-leg scalar Pint loop (one Quantity per value), run on a sample and extrapolated.

Targets (docs/BRIEF "Numbers we hold ourselves to"): <= 2 s on one core, within 3x of bare
numpy (emissions alone, and with points), >= 100x faster than a per-leg scalar Pint loop.

    .venv/bin/python bench/engine.py [--legs 1000000] [--scalar-sample 20000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")
# One core, as the target says (numpy's own threads would otherwise flatter the figure).
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import django  # noqa: E402

django.setup()

from carbon.footprint import engine  # noqa: E402
from carbon.footprint.units import FREIGHT_INTENSITY, Q_  # noqa: E402
from carbon.points.formulas import points_many  # noqa: E402

LEGS_PER_ORDER = 3
# Round DESNZ-like intensities (kgCO2e per t·km) for 20 categories: TTW, WTT.
TTW_TABLE = np.array([0.078, 0.101, 0.127, 0.631, 0.0278, 0.0161, 0.0035, 0.0133, 0.531, 1.12] * 2)
WTT_TABLE = TTW_TABLE * 0.23
# Points policy: baseline kgCO2e per t·km (road HGV average), points per kg avoided, per-order cap.
BASELINE, POINTS_PER_KG, CAP = 0.107, 0.5, 5_000


def synthetic(n: int, seed: int = 2026):
    rng = np.random.default_rng(seed)
    n_orders = -(-n // LEGS_PER_ORDER)
    location = rng.uniform(0.0, 500.0, n_orders)  # Scope 2 kgCO2e per order
    market = location * rng.uniform(0.2, 1.1, n_orders)
    market[rng.random(n_orders) < 0.5] = np.nan  # no verified declaration: no market figure
    return {
        "mass": rng.uniform(0.05, 25.0, n),  # tonnes
        "distance": rng.uniform(5.0, 20_000.0, n),  # km
        "category": rng.integers(0, len(TTW_TABLE), n),
        "order": np.arange(n) // LEGS_PER_ORDER,
        "location": location,
        "market": market,
    }


def _engine_totals(data):
    n_orders = int(data["order"][-1]) + 1
    legs = engine.leg_emissions(
        Q_(data["mass"], "tonne"),
        Q_(data["distance"], "km"),
        Q_(TTW_TABLE[data["category"]], FREIGHT_INTENSITY),
        Q_(WTT_TABLE[data["category"]], FREIGHT_INTENSITY),
    )
    tkm, _, _, wtw = engine.grouped_totals(data["order"], legs, n_orders)
    return tkm, wtw


def with_engine(data) -> float:
    return float(_engine_totals(data)[1].sum())


def with_engine_and_points(data) -> float:
    tkm, wtw = _engine_totals(data)
    points = points_many(tkm, wtw, data["location"], data["market"], BASELINE, POINTS_PER_KG, CAP)
    return float(wtw.sum()) + float(points.sum())


def _numpy_totals(data):
    n_orders = int(data["order"][-1]) + 1
    tkm = data["mass"] * data["distance"]
    ttw = tkm * TTW_TABLE[data["category"]]
    wtt = tkm * WTT_TABLE[data["category"]]
    sums = [np.bincount(data["order"], weights=v, minlength=n_orders) for v in (tkm, ttw, wtt)]
    return sums[0], sums[1] + sums[2]


def with_numpy(data) -> float:
    return float(_numpy_totals(data)[1].sum())


def with_numpy_and_points(data) -> float:
    tkm, wtw = _numpy_totals(data)
    avoided = np.maximum(0.0, tkm * BASELINE - wtw)
    scope2 = data["location"] - data["market"]
    avoided += np.where(np.isnan(scope2), 0.0, np.maximum(0.0, scope2))
    points = np.minimum(np.floor(avoided * POINTS_PER_KG).astype(np.int64), CAP)
    return float(wtw.sum()) + float(points.sum())


def with_scalar_pint(data, n: int) -> float:
    ttw_i = [Q_(float(v), FREIGHT_INTENSITY) for v in TTW_TABLE]
    wtt_i = [Q_(float(v), FREIGHT_INTENSITY) for v in WTT_TABLE]
    totals: dict[int, object] = {}
    for i in range(n):
        tkm = Q_(float(data["mass"][i]), "tonne") * Q_(float(data["distance"][i]), "km")
        c = int(data["category"][i])
        wtw = (tkm * ttw_i[c]).to("kgCO2e") + (tkm * wtt_i[c]).to("kgCO2e")
        order = int(data["order"][i])
        totals[order] = totals[order] + wtw if order in totals else wtw
    return sum(q.magnitude for q in totals.values())


def best_of(repeat: int, fn, *args) -> tuple[float, float]:
    times, result = [], 0.0
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn(*args)
        times.append(time.perf_counter() - started)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--legs", type=int, default=1_000_000)
    parser.add_argument("--scalar-sample", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    data = synthetic(args.legs)
    with_engine(synthetic(1000))  # warm up Pint's caches
    t_engine, r_engine = best_of(args.repeat, with_engine, data)
    t_numpy, r_numpy = best_of(args.repeat, with_numpy, data)
    t_points, r_points = best_of(args.repeat, with_engine_and_points, data)
    t_numpy_points, r_numpy_points = best_of(args.repeat, with_numpy_and_points, data)
    sample = args.scalar_sample
    t_sample, r_sample = best_of(1, with_scalar_pint, data, sample)
    t_scalar = t_sample * args.legs / sample
    # The three must agree, or the timings compare different work.
    sample_check = with_numpy({k: v[:sample] for k, v in data.items()})
    if (
        abs(r_engine - r_numpy) > 1e-9 * abs(r_numpy)
        or abs(r_sample - sample_check) > 1e-9 * abs(sample_check)
        or abs(r_points - r_numpy_points) > 1e-9 * abs(r_numpy_points)
    ):
        raise SystemExit(
            f"results differ: {r_engine} {r_numpy} {r_sample} {sample_check} "
            f"{r_points} {r_numpy_points}"
        )

    ratio_numpy = t_engine / t_numpy
    ratio_points = t_points / t_numpy_points
    ratio_scalar = t_scalar / t_engine
    print(f"engine benchmark: {args.legs:,} legs, {args.legs // LEGS_PER_ORDER:,} orders")
    load = os.getloadavg()
    print(f"  load average (1, 5, 15 min): {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (2 cores)")
    print(
        f"  carbon.footprint.engine (Pint + numpy float64): {t_engine:8.3f} s"
        f"   (best of {args.repeat})"
    )
    print(f"  bare numpy, same arithmetic:          {t_numpy:8.3f} s   (best of {args.repeat})")
    print(f"  engine + points (formulas.points_many):  {t_points:8.3f} s   (best of {args.repeat})")
    print(
        f"  bare numpy + points, same arithmetic: {t_numpy_points:8.3f} s   (best of {args.repeat})"
    )
    print(
        f"  scalar Pint loop:                     {t_scalar:8.1f} s   "
        f"(extrapolated from {sample:,} legs in {t_sample:.2f} s)"
    )
    print("targets:")
    print(
        f"  <= 2 s for 1,000,000 legs:  {t_engine:.3f} s   {_ok(t_engine * 1e6 / args.legs <= 2)}"
    )
    print(f"  within 3x of bare numpy:    {ratio_numpy:.2f}x   {_ok(ratio_numpy <= 3)}")
    print(
        f"  with points <= 2 s:         {t_points:.3f} s   {_ok(t_points * 1e6 / args.legs <= 2)}"
    )
    print(
        f"  with points within 3x of bare numpy + points: {ratio_points:.2f}x   "
        f"{_ok(ratio_points <= 3)}"
    )
    print(f"  >= 100x faster than scalar: {ratio_scalar:,.0f}x   {_ok(ratio_scalar >= 100)}")


def _ok(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


if __name__ == "__main__":
    main()
