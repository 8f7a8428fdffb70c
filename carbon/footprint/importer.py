"""Order import from CSV: one row per transport leg, order-level columns repeated.

The whole file is read and validated first; every problem goes into an error report (row,
column, value, reason) and nothing is stored unless the whole file is valid. A valid file is
then written by `carbon.footprint.actions.store_orders` (the write path of the API upsert too)
in one transaction with bulk inserts, and the footprints are calculated. The import itself
(`start_import`, `run_import`) is an action of `carbon.footprint.actions`; this module reads
and checks the file. Files above `BACKGROUND_ABOVE_ROWS` rows run as a Celery task; the job
row carries the progress.

The column reference is in README.md, section "CSV import".
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

from django.db.models import Q

from carbon.footprint import incoterms
from carbon.footprint.exceptions import OrdersRejected, QuantityError
from carbon.footprint.legs import (
    INPUT_FIELD,
    LEG_FIELDS,
    LegData,
    parse_leg,
    parse_line_quantity,
)
from carbon.footprint.orders import (
    LineData,
    OrderData,
    ShipmentData,
    lookups,
    validate_order,
)
from carbon.models import ImportJob, OrderStatus
from portal.models import Organisation
from portal.text import storable, text_problem

BACKGROUND_ABOVE_ROWS = 2000
MAX_ROWS = 1_000_000
PROGRESS_EVERY = 5000

# A leg's columns are its input fields, named and ordered as the API body names them.
COLUMNS = [
    "order_id",
    "order_date",
    "delivery_date",
    "status",
    "site",
    "sku",
    "quantity",
    "shipment",
    "leg",
    *LEG_FIELDS,
]
# Columns a file may add: the order's Incoterms 2020 rule (empty or absent: not stated).
OPTIONAL_COLUMNS = ["incoterm"]
KNOWN_COLUMNS = [*COLUMNS, *OPTIONAL_COLUMNS]
REQUIRED_COLUMNS = ["order_id", "order_date"]
# When each column must have a value, as the import page explains it (the parser below is the
# rule): "always", "leg" (a row with a transport leg), "line" (a row with a product line), or
# "optional".
COLUMN_NEEDS = {
    "order_id": "always",
    "order_date": "always",
    "delivery_date": "optional",
    "status": "optional",
    "site": "optional",
    "sku": "line",
    "quantity": "line",
    "shipment": "optional",
    "leg": "optional",
    "category": "leg",
    "origin": "optional",
    "destination": "optional",
    "distance": "leg",
    "mass": "leg",
    "data_tier": "optional",
    "fuel_type": "optional",
    "fuel_used": "optional",
    "radiative_forcing": "optional",
    "incoterm": "optional",
}
ORDER_COLUMNS = ["order_date", "delivery_date", "status", "site", "incoterm"]
LEG_COLUMNS = list(LEG_FIELDS)
# Field names of carbon.footprint.orders validation -> CSV column: a leg's columns are named as
# its input fields (carbon.footprint.legs.LEG_FIELDS), whatever LegData calls them.
_LEG_FIELD_COLUMN = {f.name: INPUT_FIELD.get(f.name, f.name) for f in fields(LegData)}
_ORDER_FIELD_COLUMN = {
    "external_id": "order_id",
    "status": "status",
    "delivery_date": "delivery_date",
    "site_name": "site",
    "incoterm": "incoterm",
}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Progress = Callable[[str, int, int], None]


@dataclass
class RowError:
    row: int
    column: str
    value: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        # The report is stored as JSON and shown; refused text is echoed in storable form.
        return {
            "row": self.row,
            "column": storable(self.column),
            "value": storable(self.value),
            "reason": storable(self.reason),
        }


@dataclass
class ParsedOrder:
    """An order assembled from its rows, with the row each line and leg came from."""

    first_row: int
    values: dict[str, str]
    data: OrderData
    line_rows: list[int] = field(default_factory=list)
    leg_rows: list[list[int]] = field(default_factory=list)  # per shipment
    shipment_index: dict[str, int] = field(default_factory=dict)
    leg_keys: set[tuple[str, int]] = field(default_factory=set)


@dataclass
class ValidationResult:
    orders: list[OrderData]
    errors: list[RowError]
    rows: int
    parsed: dict[str, ParsedOrder] = field(default_factory=dict)


def _read_rows(stream: Iterable[str]):
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        return None, iter(())
    return [h.strip().lower() for h in header], reader


def _date(text: str) -> date:
    if not _DATE.match(text):
        raise ValueError("a date like 2025-03-31 (YYYY-MM-DD) is required")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError("not a calendar date") from exc


def validate_csv(
    organisation: Organisation,
    stream: Iterable[str],
    *,
    progress: Progress | None = None,
    total: int = 0,
) -> ValidationResult:
    """Read and check every row and field of an order CSV; nothing is written.

    Row numbers are those a spreadsheet shows: the header is row 1, the first order row is 2.
    """
    errors: list[RowError] = []
    header, reader = _read_rows(stream)
    if header is None:
        return ValidationResult([], [RowError(1, "", "", "the file is empty")], 0)
    unknown = [h for h in header if h not in KNOWN_COLUMNS]
    for name in unknown:
        errors.append(RowError(1, name, name, f"unknown column; known: {', '.join(KNOWN_COLUMNS)}"))
    for name in REQUIRED_COLUMNS:
        if name not in header:
            errors.append(RowError(1, name, "", "required column is missing"))
    if len(set(header)) != len(header):
        errors.append(RowError(1, "", ",".join(header), "a column appears twice"))
    if errors:
        return ValidationResult([], errors, 0)

    index = {name: i for i, name in enumerate(header)}
    orders: dict[str, ParsedOrder] = {}
    rows = 0
    for row_number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue  # blank lines are not rows
        rows += 1
        if rows > MAX_ROWS:
            errors.append(RowError(row_number, "", "", f"at most {MAX_ROWS:,} rows per file"))
            break
        if progress and rows % PROGRESS_EVERY == 0:
            progress("validating", rows, total)
        if len(cells) != len(header):
            errors.append(
                RowError(
                    row_number,
                    "",
                    ",".join(cells)[:200],
                    f"has {len(cells)} cells, the header has {len(header)}",
                )
            )
            continue
        values = {name: cells[i].strip() for name, i in index.items()}
        _parse_row(row_number, values, orders, errors)

    if progress:
        progress("validating", rows, total or rows)
    if not rows and not errors:
        errors.append(RowError(1, "", "", "the file has a header but no order rows"))

    # Checks that need the database (SKUs, sites) or the whole order (dates), in batch.
    parsed = list(orders.values())
    products, sites = lookups(organisation, [p.data for p in parsed])
    for order in parsed:
        for field_name, reason in validate_order(order.data, products=products, sites=sites):
            errors.append(_locate(order, field_name, reason))
    errors = _dedupe(errors)
    errors.sort(
        key=lambda e: (
            e.row,
            KNOWN_COLUMNS.index(e.column) if e.column in KNOWN_COLUMNS else -1,
        )
    )
    return ValidationResult([p.data for p in parsed], errors, rows, orders)


def _parse_row(
    row: int,
    values: dict[str, str],
    orders: dict[str, ParsedOrder],
    errors: list[RowError],
) -> None:
    def bad(column: str, reason: str) -> None:
        errors.append(RowError(row, column, values.get(column, ""), reason))

    start = len(errors)
    for column, value in values.items():
        problem = text_problem(value)
        if problem:
            bad(column, problem)
    if len(errors) > start:
        return
    external_id = values["order_id"]
    if not external_id:
        bad("order_id", "an order number is required")
        return
    if len(external_id) > 100:
        bad("order_id", "at most 100 characters")
        return

    order = orders.get(external_id)
    if order is None:
        order_date = delivery_date = None
        try:
            order_date = _date(values["order_date"])
        except ValueError as exc:
            bad("order_date", str(exc))
        if values.get("delivery_date"):
            try:
                delivery_date = _date(values["delivery_date"])
            except ValueError as exc:
                bad("delivery_date", str(exc))
        status = (values.get("status") or OrderStatus.DELIVERED).lower()
        if status not in OrderStatus.values:
            bad("status", f"unknown status; one of {', '.join(OrderStatus.values)}")
        incoterm = incoterms.normalise(values.get("incoterm"))
        if (reason := incoterms.problem(incoterm)) is not None:
            bad("incoterm", reason)
        if len(errors) > start or order_date is None:
            return  # the order's own columns are wrong; its lines and legs are not read
        order = ParsedOrder(
            first_row=row,
            values={c: values.get(c, "") for c in ORDER_COLUMNS},
            data=OrderData(
                external_id=external_id,
                order_date=order_date,
                delivery_date=delivery_date,
                status=status,
                site_name=values.get("site") or None,
                incoterm=incoterm,
            ),
        )
        orders[external_id] = order
    else:
        for column in ORDER_COLUMNS:
            if values.get(column, "") != order.values[column] and column in values:
                bad(
                    column,
                    f"differs from row {order.first_row} of the same order "
                    f"('{order.values[column]}'); order columns must repeat unchanged",
                )
        if len(errors) > start:
            return

    line = _parse_line(values, bad)
    leg, shipment_ref, sequence = _parse_leg(values, bad)
    if len(errors) > start:
        return
    if line is not None:
        previous = next((i for i, x in enumerate(order.data.lines) if x.sku == line.sku), None)
        if previous is None:
            order.data.lines.append(line)
            order.line_rows.append(row)
        elif order.data.lines[previous].quantity != line.quantity:
            bad(
                "quantity",
                f"SKU {line.sku} has quantity {order.data.lines[previous].quantity} on row "
                f"{order.line_rows[previous]}; one SKU is one line",
            )
    if leg is not None:
        s = order.shipment_index.get(shipment_ref)
        if s is None:
            s = len(order.data.shipments)
            order.shipment_index[shipment_ref] = s
            order.data.shipments.append(ShipmentData(reference=shipment_ref, legs=[]))
            order.leg_rows.append([])
        legs = order.data.shipments[s].legs
        sequence = sequence or len(legs) + 1
        if (shipment_ref, sequence) in order.leg_keys:
            bad("leg", f"leg {sequence} of shipment '{shipment_ref}' is already on another row")
            return
        order.leg_keys.add((shipment_ref, sequence))
        # Keep legs in their sequence order, whatever the row order.
        position = sum(1 for key in order.leg_keys if key[0] == shipment_ref and key[1] < sequence)
        legs.insert(position, leg)
        order.leg_rows[s].insert(position, row)
    if line is None and leg is None:
        bad("category", "the row has neither a product line (sku) nor a transport leg (category)")


def _parse_line(values: dict[str, str], bad) -> LineData | None:
    sku, quantity_text = values.get("sku", ""), values.get("quantity", "")
    if not sku and not quantity_text:
        return None
    if not sku:
        bad("sku", "a quantity needs its SKU")
        return None
    if len(sku) > 64:
        bad("sku", "at most 64 characters")
        return None
    if not quantity_text:
        bad("quantity", "a quantity greater than zero is required")
        return None
    try:
        quantity = parse_line_quantity(quantity_text, "quantity")
    except QuantityError as exc:
        bad("quantity", exc.message)
        return None
    return LineData(sku=sku, quantity=quantity)


def _parse_leg(values: dict[str, str], bad) -> tuple[LegData | None, str, int | None]:
    """The row's leg, read by the parser the API uses too (carbon.footprint.legs.parse_leg),
    with the shipment and the leg number, which only a file has."""
    shipment_ref = values.get("shipment", "")
    if not any(values.get(c) for c in LEG_COLUMNS):
        if values.get("leg"):
            bad("category", "a leg needs its transport category")
        return None, shipment_ref, None
    ok = True
    sequence = None
    if values.get("leg"):
        try:
            sequence = int(values["leg"])
            if not 1 <= sequence <= 999:
                raise ValueError
        except ValueError:
            bad("leg", "a leg number from 1 to 999 is required")
            ok = False
    if len(shipment_ref) > 100:
        bad("shipment", "at most 100 characters")
        ok = False
    leg, problems = parse_leg({c: values.get(c, "") for c in LEG_COLUMNS})
    for problem in problems:
        bad(problem.field, problem.reason)
    return (leg if ok else None), shipment_ref, sequence


_PATH = re.compile(r"^(lines|shipments)\[(\d+)\](?:\.legs(?:\[(\d+)\])?)?(?:\.(\w+))?$")


def _locate(order: ParsedOrder, field_name: str, reason: str) -> RowError:
    """Map a validation field name (e.g. shipments[0].legs[1].category) to its row and column."""
    row, column = order.first_row, _ORDER_FIELD_COLUMN.get(field_name, "order_id")
    if field_name == "shipments":
        # The order's freight activity as a whole: on the row of its first leg.
        rows = order.leg_rows[0] if order.leg_rows else [row]
        return RowError(rows[0], "shipment", "", reason)
    match = _PATH.match(field_name)
    if match:
        kind, i, g, attr = match.groups()
        if kind == "lines":
            row, column = order.line_rows[int(i)], attr or "sku"
        else:
            rows = order.leg_rows[int(i)]
            row = rows[int(g)] if g is not None else rows[0] if rows else row
            column = _LEG_FIELD_COLUMN.get(attr or "", "shipment")
    value = order.values.get(column, "") if column in order.values else ""
    if column == "order_id":
        value = order.data.external_id
    elif match and match.group(1) == "lines":
        value = getattr(order.data.lines[int(match.group(2))], column, "")
    elif match and match.group(1) == "shipments" and column == "shipment":
        value = order.data.shipments[int(match.group(2))].reference
    elif match and match.group(3) is not None and column in _LEG_FIELD_COLUMN.values():
        leg = order.data.shipments[int(match.group(2))].legs[int(match.group(3))]
        attr = next(k for k, v in _LEG_FIELD_COLUMN.items() if v == column)
        value = getattr(leg, attr, "")
    return RowError(row, column, str(value if value is not None else ""), reason)


def _dedupe(errors: list[RowError]) -> list[RowError]:
    seen: set[tuple[int, str]] = set()
    unique = []
    for error in errors:
        key = (error.row, error.column)
        if key not in seen:
            seen.add(key)
            unique.append(error)
    return unique


# --- storing


def rejected_rows(
    rejected: OrdersRejected, orders: list[OrderData], parsed: dict[str, ParsedOrder]
) -> list[RowError]:
    """The problems `store_orders` found, on the rows and columns they came from."""
    errors = []
    for problem in rejected.problems:
        external_id = orders[problem.index].external_id
        where = parsed.get(external_id)
        if where is None:
            errors.append(RowError(0, "order_id", external_id, problem.reason))
        else:
            errors.append(_locate(where, problem.field or "external_id", problem.reason))
    return _dedupe(errors)


# --- jobs


def count_rows(file) -> int:
    """Data rows of an uploaded CSV, counted fast (quoted line breaks may overcount slightly)."""
    file.seek(0)
    lines = 0
    last = b"\n"
    for chunk in iter(lambda: file.read(1 << 20), b""):
        if isinstance(chunk, str):
            chunk = chunk.encode()
        lines += chunk.count(b"\n")
        last = chunk[-1:]
    file.seek(0)
    if last != b"\n":
        lines += 1
    return max(lines - 1, 0)


def job_progress(job: ImportJob, echo: Progress | None = None) -> Progress:
    """A progress callback that records the phase and the rows done on the job's row (and
    passes them on to `echo`)."""

    def update(phase: str, done: int, total: int) -> None:
        job.phase = phase
        job.rows_done = done if phase == "validating" else job.rows_total
        if phase == "validating" and total:
            job.rows_total = max(total, done)
        ImportJob.objects.filter(pk=job.pk).update(
            phase=job.phase, rows_done=job.rows_done, rows_total=job.rows_total
        )
        if echo:
            echo(phase, done, total)

    return update


def validate_job_file(job: ImportJob, progress: Progress) -> ValidationResult:
    """`validate_csv` over the job's stored file; a file that is not UTF-8 CSV text is one
    error on row 1."""
    with job.file.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        try:
            return validate_csv(job.organisation, text, progress=progress, total=job.rows_total)
        except UnicodeDecodeError:
            return ValidationResult(
                [], [RowError(1, "", "", "the file is not UTF-8 encoded text")], 0
            )
        except csv.Error as exc:
            return ValidationResult([], [RowError(1, "", "", f"not a CSV file: {exc}")], 0)


def purge_jobs(cutoff: datetime) -> int:
    """Delete the import jobs that finished before `cutoff`, or started before it and never
    finished, with their files; returns how many (the action
    `carbon.footprint.actions.purge_old_import_files` sets the cutoff)."""
    old = ImportJob.objects.filter(
        Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff)
    )
    deleted = 0
    for job in old.iterator(chunk_size=200):
        if job.file:
            # The file first: a row without its file is harmless, a file without its row is
            # never found again.
            job.file.delete(save=False)
        job.delete()
        deleted += 1
    return deleted
