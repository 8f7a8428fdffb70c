"""Calculation snapshots: building one from a footprint, the hash of what it was made from,
telling whether a new calculation changed anything, and describing what changed between two
snapshots."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson

from carbon.footprint import declarations as declaration_rules
from carbon.footprint.engine import METHOD_VERSION
from carbon.footprint.factors import FactorBook, FactorTable, choose_tables
from carbon.footprint.model import (
    ZERO,
    Footprint,
)
from carbon.footprint.units import round_stored, stored_text
from carbon.footprint.vintages import Choice
from carbon.models import (
    CalculationSnapshot,
)


@dataclass(slots=True)
class NewSnapshot:
    """A snapshot about to be stored, as the values of its columns (the names of
    `CalculationSnapshot`'s attributes): a bulk recalculation writes these rows without building
    model instances (`carbon.footprint.snapshot_store`)."""

    order_id: int
    method_version: str
    datasets: list[dict[str, Any]]
    inputs: dict[str, Any]
    factors: list[dict[str, Any]]
    results: dict[str, Any]
    tkm: Decimal
    ttw_kg: Decimal
    wtt_kg: Decimal
    wtw_kg: Decimal
    default_share: Decimal
    electricity_kwh: Decimal
    scope2_location_kg: Decimal
    scope2_market_kg: Decimal | None
    input_hash: str
    input_revision: int | None = None
    context_hash: str = ""
    changes: dict[str, Any] = field(default_factory=dict)
    supersedes_id: int | None = None
    is_current: bool = True
    pk: int | None = None  # set once stored, with created_at
    created_at: datetime | None = None


def input_hash(inputs_json: dict[str, Any], table_fingerprint: str) -> str:
    """SHA-256 (hex) of everything a calculation is made from: the method version, the factor
    table (`FactorTable.fingerprint`: its datasets' versions and factors) and the order's inputs
    (legs, electricity, the green-power declaration and its effective ratio). Equal hashes mean
    the calculation would repeat the stored one, so a recalculation skips the order unread."""
    canonical = orjson.dumps(
        [METHOD_VERSION, table_fingerprint, inputs_json], option=orjson.OPT_SORT_KEYS
    )
    return hashlib.sha256(canonical).hexdigest()


def context_hash(
    table_fingerprint: str,
    choices: dict[int, Choice] | None,
    declaration: dict[str, Any] | None,
) -> str:
    """SHA-256 (hex) of what a calculation takes from outside the order: the method version,
    the factor table (`FactorTable.fingerprint`), why its datasets serve the order's activity
    date (the selection notes, with their validity dates) and the green-power declaration
    covering the order with its effective ratio. With an unchanged input revision
    (`carbon_order.input_revision`) an equal context hash means the calculation would repeat
    the stored one."""
    canonical = orjson.dumps(
        [
            METHOD_VERSION,
            table_fingerprint,
            [[pk, c.as_json()] for pk, c in sorted((choices or {}).items())],
            declaration,
        ],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(canonical).hexdigest()


def context_hashes(
    orders: Sequence[Any], table: FactorTable | FactorBook, attributed: dict[int, Decimal]
) -> dict[int, str]:
    """`context_hash` of each order (with `id`, `order_date` and `site_id`), by order id: the
    table its activity date chooses and the declaration covering it (one query, plus the
    reconciliation of declarations not yet in `attributed`), hashed once per distinct context."""
    chosen = choose_tables([o.order_date for o in orders], table)
    declarations = declaration_rules.covering_orders(orders, attributed)
    cache: dict[tuple, str] = {}
    hashes = {}
    for order, (used, choices) in zip(orders, chosen, strict=True):
        declaration = declarations.get(order.id)
        key = (id(used), order.order_date, declaration and declaration["declaration_id"])
        if key not in cache:
            cache[key] = context_hash(used.fingerprint(), choices, declaration)
        hashes[order.id] = cache[key]
    return hashes


def snapshot_of(
    order_id: int,
    inputs_json: dict,
    footprint: Footprint,
    table: FactorTable,
    choices: dict[int, Choice] | None = None,
    *,
    hashed: str = "",
) -> NewSnapshot:
    """The row of order `order_id`'s new current snapshot of `footprint`: its inputs, the
    factors and datasets used (from `table`, each with why it serves the order's activity date
    when `choices` say), the results, the rounded stored totals and the input hash `hashed`."""
    return NewSnapshot(
        order_id=order_id,
        input_hash=hashed,
        method_version=METHOD_VERSION,
        datasets=table.datasets_json(footprint.factors, choices=choices),
        inputs=inputs_json,
        factors=[f.as_json() for f in footprint.factors],
        results=footprint.results_json(),
        tkm=round_stored(footprint.tkm),
        ttw_kg=round_stored(footprint.ttw),
        wtt_kg=round_stored(footprint.wtt),
        wtw_kg=round_stored(footprint.wtw),
        default_share=round_stored(footprint.default_share or ZERO),
        electricity_kwh=round_stored(footprint.scope2.electricity_kwh),
        scope2_location_kg=round_stored(footprint.scope2.location or ZERO),
        scope2_market_kg=(
            round_stored(footprint.scope2.market) if footprint.scope2.market is not None else None
        ),
    )


def same_calculation(old: CalculationSnapshot, new: NewSnapshot) -> bool:
    """Whether `new` repeats `old`: the same method version, inputs, factors and datasets (then
    no new snapshot is stored)."""
    return (
        old.method_version == new.method_version
        and old.inputs == new.inputs
        and old.factors == new.factors
        and [d["label"] for d in old.datasets] == [d["label"] for d in new.datasets]
    )


_TOTAL_FIELDS = (
    "tkm",
    "ttw_kg",
    "wtt_kg",
    "wtw_kg",
    "scope2_location_kg",
    "scope2_market_kg",
)


def describe_changes(old: CalculationSnapshot, new: NewSnapshot) -> dict[str, Any]:
    """What differs between two snapshots of one order: method, datasets, factors, inputs,
    and the totals before and after."""
    reasons = []
    changes: dict[str, Any] = {"supersedes": old.pk}
    if old.method_version != new.method_version:
        reasons.append("method_version")
        changes["method_version"] = {"old": old.method_version, "new": new.method_version}
    old_labels = [d["label"] for d in old.datasets]
    new_labels = [d["label"] for d in new.datasets]
    if old_labels != new_labels:
        reasons.append("datasets")
        changes["datasets"] = {"old": old_labels, "new": new_labels}

    def key(f):
        return (f["category"], f["energy_scope"], f["radiative_forcing"])

    old_f = {key(f): f for f in old.factors}
    new_f = {key(f): f for f in new.factors}
    factor_changes = {
        "added": [new_f[k] for k in new_f.keys() - old_f.keys()],
        "removed": [old_f[k] for k in old_f.keys() - new_f.keys()],
        "changed": [
            {
                "category": k[0],
                "energy_scope": k[1],
                "radiative_forcing": k[2],
                "old": {
                    "id": old_f[k]["id"],
                    "value": old_f[k]["value"],
                    "unit": old_f[k]["unit"],
                    "dataset": old_f[k]["dataset"],
                },
                "new": {
                    "id": new_f[k]["id"],
                    "value": new_f[k]["value"],
                    "unit": new_f[k]["unit"],
                    "dataset": new_f[k]["dataset"],
                },
            }
            for k in sorted(old_f.keys() & new_f.keys())
            if old_f[k] != new_f[k]
        ],
    }
    for name in ("added", "removed"):
        factor_changes[name].sort(key=lambda f: (f["category"], f["energy_scope"]))
    if any(factor_changes.values()):
        reasons.append("factors")
        changes["factors"] = factor_changes
    changed_inputs = sorted(
        k for k in old.inputs.keys() | new.inputs.keys() if old.inputs.get(k) != new.inputs.get(k)
    )
    if changed_inputs:
        reasons.append("inputs")
        changes["inputs"] = changed_inputs
    changes["totals"] = {
        name: {"old": stored_text(getattr(old, name)), "new": stored_text(getattr(new, name))}
        for name in _TOTAL_FIELDS
    }
    changes["reasons"] = reasons
    return changes
