"""Green-power declarations: customers submit a site's metered consumption for a period and the
instruments backing its green share (certificates with their ids and retirement proof, or PPAs
and green tariffs with their supplier's emission factor). The ratio is derived, certified MWh /
metered MWh at most 1, never typed. Which certificate types count for a site is data: the cited
table in fixtures/green-power-instruments.csv (a GO cannot back a Chinese site).

Two sustainability staff review it (a first check, then a different person verifies); a verified
ratio drives the market-based Scope 2 figure of the site's orders in the period, scaled down when
those orders are attributed more kWh than the certificates cover. A verified declaration can be
revoked with a reason: the orders are restated and the green-power reward they earned is
reversed (`carbon.points`). Submitting and reviewing are actions (`carbon.footprint.actions`);
this module holds the rules.

Evidence files are checked by their content signature (PDF, PNG, JPEG only, at most 10 MB,
images within the pixel cap of `portal.images`),
stored in private storage under a random name, and served only through a permission-checked view.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import pint
from django.conf import settings
from django.db.models import F, Sum

from carbon.footprint.exceptions import DeclarationError
from carbon.footprint.units import DIMENSIONS, convert, plain_decimal
from carbon.models import (
    CONTRACT_INSTRUMENTS,
    DeclarationStatus,
    GreenPowerDeclaration,
    Instrument,
    Order,
    OrderLine,
)
from portal import images

RULES_FILE = Path(settings.BASE_DIR) / "fixtures" / "green-power-instruments.csv"
RATIO_PLACES = Decimal("0.000001")
MWH_PLACES = Decimal("0.000001")
ENERGY_DIMENSION = DIMENSIONS["energy"]

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
# Content signature -> (extension, content type). The extension of the upload must agree.
SIGNATURES = (
    (b"%PDF-", "pdf", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
)
EXTENSIONS = {"pdf": "pdf", "png": "png", "jpg": "jpg", "jpeg": "jpg"}
CONTENT_TYPES = {ext: ctype for _, ext, ctype in SIGNATURES}


def evidence_kind(upload) -> str:
    """The evidence's real type ("pdf", "png" or "jpg") from its first bytes and its name;
    raises DeclarationError for anything else, for a name that disagrees with the content,
    for a file over 10 MB, or for an image that does not open or is over the pixel cap."""
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
    if size > MAX_EVIDENCE_BYTES:
        raise DeclarationError("The evidence file is larger than 10 MB.", field="evidence")
    if size == 0:
        raise DeclarationError("The evidence file is empty.", field="evidence")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    detected = next((ext for magic, ext, _ in SIGNATURES if head.startswith(magic)), None)
    if detected is None:
        raise DeclarationError(
            "Evidence must be a PDF, PNG or JPEG file; this file's content is none of them.",
            field="evidence",
        )
    name = getattr(upload, "name", "") or ""
    claimed = EXTENSIONS.get(name.rsplit(".", 1)[-1].lower()) if "." in name else None
    if claimed != detected:
        raise DeclarationError(
            f"The file name says .{name.rsplit('.', 1)[-1] if '.' in name else '?'} but the "
            f"content is {detected.upper()}; upload the original document.",
            field="evidence",
        )
    if detected != "pdf":
        # A PNG of 100 KB can declare billions of pixels: refuse it from its header.
        images.check_image(upload, name=name, field="evidence", error=DeclarationError)
    return detected


@dataclass(frozen=True)
class InstrumentData:
    """One instrument as submitted: `mwh` is a Pint quantity of energy (any energy unit; stored in
    MWh), `emission_factor` the supplier's kgCO2e/kWh for a PPA or green tariff."""

    kind: str
    registry: str
    mwh: pint.Quantity
    generation_start: dt.date
    generation_end: dt.date
    country: str
    proof: Any
    certificate_ids: str = ""
    serial_from: str = ""
    serial_to: str = ""
    grid_region: str = ""
    supplier: str = ""
    emission_factor: Decimal | None = None


@dataclass(frozen=True)
class CertificateRule:
    """One row of fixtures/green-power-instruments.csv."""

    instrument: str
    countries: frozenset[str]
    generation_from: dt.date
    generation_to: dt.date | None
    issuing_body: str
    registry: str
    source_url: str

    def covers(self, country: str, start: dt.date, end: dt.date) -> bool:
        return (
            country in self.countries
            and start >= self.generation_from
            and (self.generation_to is None or end <= self.generation_to)
        )


@functools.cache
def certificate_rules() -> tuple[CertificateRule, ...]:
    """The cited table of certificate types per country and generation date."""
    with RULES_FILE.open(encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return tuple(
            CertificateRule(
                instrument=row["instrument"],
                countries=frozenset(row["countries"].split()),
                generation_from=dt.date.fromisoformat(row["generation_from"]),
                generation_to=(
                    dt.date.fromisoformat(row["generation_to"]) if row["generation_to"] else None
                ),
                issuing_body=row["issuing_body"],
                registry=row["registry"],
                source_url=row["source_url"],
            )
            for row in rows
        )


def check_instrument(
    item: InstrumentData, index: int, site_country: str, start: dt.date, end: dt.date
) -> Decimal:
    """Refuse an instrument that cannot back the site's consumption (DeclarationError naming
    `instruments[index].<field>`); return its energy in MWh."""
    where = f"instruments[{index}]"
    if item.kind not in Instrument.values:
        raise DeclarationError(f"{where}: unknown instrument type '{item.kind}'.", field="kind")
    if not isinstance(item.mwh, pint.Quantity) or item.mwh.dimensionality != ENERGY_DIMENSION:
        raise DeclarationError(
            f"{where}: the certified energy must be an energy such as '500 MWh' "
            f"(got {item.mwh!r}).",
            field="mwh",
        )
    mwh = convert(Decimal(str(item.mwh.magnitude)), str(item.mwh.units), "MWh")
    mwh = mwh.quantize(MWH_PLACES)
    if mwh <= 0:
        raise DeclarationError(f"{where}: the certified energy must be above zero.", field="mwh")
    if item.generation_end < item.generation_start:
        raise DeclarationError(
            f"{where}: the generation period ends before it starts.", field="generation_end"
        )
    if item.generation_start < start or item.generation_end > end:
        raise DeclarationError(
            f"{where}: generated {item.generation_start} to {item.generation_end}, outside the "
            f"declared period {start} to {end}; only electricity generated in the period can "
            "back its consumption.",
            field="generation_start",
        )
    if not (item.registry or "").strip():
        raise DeclarationError(f"{where}: name the registry.", field="registry")
    if item.proof is None:
        raise DeclarationError(
            f"{where}: the retirement or cancellation statement is required.", field="proof"
        )
    country = (item.country or "").upper()
    if item.kind in CONTRACT_INSTRUMENTS:
        if not (item.supplier or "").strip() or item.emission_factor is None:
            raise DeclarationError(
                f"{where}: a {Instrument(item.kind).label} names its supplier or generator and "
                "that supply's emission factor (kg CO2e/kWh); it is not assumed zero.",
                field="supplier",
            )
        if item.emission_factor < 0:
            raise DeclarationError(
                f"{where}: the emission factor cannot be negative.", field="emission_factor"
            )
        if country != site_country:
            raise DeclarationError(
                f"{where}: the supply is in {country}, the site in {site_country}; a contract "
                "counts only within the site's market.",
                field="country",
            )
        return mwh
    if not (item.certificate_ids or "").strip() and not (
        (item.serial_from or "").strip() and (item.serial_to or "").strip()
    ):
        raise DeclarationError(
            f"{where}: give the certificate ids or the first and last serial number.",
            field="certificate_ids",
        )
    site_rules = [r for r in certificate_rules() if site_country in r.countries]
    accepted = sorted({r.instrument for r in site_rules})
    rule = next((r for r in site_rules if r.instrument == item.kind), None)
    if rule is None:
        raise DeclarationError(
            f"{where}: a {item.kind} cannot back a site in {site_country}; accepted there: "
            + (", ".join(accepted) if accepted else "no certificate type on file")
            + ".",
            field="kind",
        )
    if not rule.covers(country, item.generation_start, item.generation_end):
        if country not in rule.countries:
            raise DeclarationError(
                f"{where}: the certificates were issued for generation in {country}, outside the "
                f"market of a site in {site_country}.",
                field="country",
            )
        until = f" to {rule.generation_to}" if rule.generation_to else ""
        raise DeclarationError(
            f"{where}: {item.kind} for {site_country} covers generation from "
            f"{rule.generation_from}{until} ({rule.issuing_body}); these were generated "
            f"{item.generation_start} to {item.generation_end}.",
            field="generation_start",
        )
    return mwh


@dataclass(frozen=True)
class Derived:
    certified_kwh: Decimal
    ratio: Decimal
    instrument_factor: Decimal


def derive(mwh: list[Decimal], factors: list[Decimal | None], consumed_kwh: Decimal) -> Derived:
    """The green ratio = certified kWh / metered kWh, at most 1 (6 places, rounded down so it
    never claims more than is certified), and the kgCO2e/kWh of the covered share: the
    MWh-weighted factor of the instruments, certificates counting 0."""
    if consumed_kwh <= 0:
        raise DeclarationError(
            "The site's metered consumption for the period must be above zero.", field="total_kwh"
        )
    certified = sum(mwh, Decimal(0)) * 1000
    ratio = min(Decimal(1), (certified / consumed_kwh).quantize(RATIO_PLACES, ROUND_DOWN))
    weighted = sum((m * (f or 0) for m, f in zip(mwh, factors, strict=True)), Decimal(0))
    factor = (weighted / sum(mwh, Decimal(0))).quantize(RATIO_PLACES) if mwh else Decimal(0)
    return Derived(certified, ratio, factor)


@dataclass(frozen=True)
class Reconciliation:
    """kWh of a declaration's period: metered, certified, attributed to orders, and the green
    kWh those orders are credited with (never more than certified)."""

    consumed_kwh: Decimal
    certified_kwh: Decimal
    attributed_kwh: Decimal
    effective_ratio: Decimal

    @property
    def green_attributed_kwh(self) -> Decimal:
        return self.attributed_kwh * self.effective_ratio

    @property
    def unused_certified_kwh(self) -> Decimal:
        return self.certified_kwh - self.green_attributed_kwh


def effective_ratio(ratio: Decimal, certified_kwh: Decimal, attributed_kwh: Decimal) -> Decimal:
    """The ratio the orders of the period get: the declared one, scaled down (6 places, rounded
    down) when the orders together are attributed more kWh than the certificates cover."""
    if attributed_kwh <= 0 or attributed_kwh * ratio <= certified_kwh:
        return ratio
    return (certified_kwh / attributed_kwh).quantize(RATIO_PLACES, ROUND_DOWN)


def attributed_kwh(declarations: list[GreenPowerDeclaration]) -> dict[int, Decimal]:
    """kWh attributed to the orders each declaration covers (order lines x kWh per unit), one
    query per declaration (a batch touches a handful)."""
    out = {}
    for d in declarations:
        total = OrderLine.objects.filter(
            order__organisation_id=d.organisation_id,
            order__delivery_site_id=d.site_id,
            order__order_date__gte=d.period_start,
            order__order_date__lte=d.period_end,
            product__electricity_kwh_per_unit__isnull=False,
        ).aggregate(kwh=Sum(F("quantity") * F("product__electricity_kwh_per_unit")))["kwh"]
        out[d.pk] = total or Decimal(0)
    return out


def reconcile(declaration: GreenPowerDeclaration) -> Reconciliation:
    attributed = attributed_kwh([declaration])[declaration.pk]
    certified = declaration.green_kwh or Decimal(0)
    return Reconciliation(
        consumed_kwh=declaration.total_kwh or Decimal(0),
        certified_kwh=certified,
        attributed_kwh=attributed,
        effective_ratio=effective_ratio(declaration.green_ratio, certified, attributed),
    )


def event_data(declaration: GreenPowerDeclaration) -> dict:
    """The payload of the declaration's events (submitted, verified, rejected)."""
    return {
        "declaration_id": declaration.pk,
        "site": declaration.site.name,
        "site_id": declaration.site_id,
        "period_start": declaration.period_start,
        "period_end": declaration.period_end,
        "green_ratio": declaration.green_ratio,
        "instrument": declaration.instrument,
        "status": declaration.status,
    }


def orders_covered(declaration: GreenPowerDeclaration):
    """The orders of the declaration's site in its period: those its ratio applies to."""
    return Order.objects.filter(
        organisation_id=declaration.organisation_id,
        delivery_site_id=declaration.site_id,
        order_date__gte=declaration.period_start,
        order_date__lte=declaration.period_end,
    )


def covering_orders(
    orders: Sequence[Any], attributed: dict[int, Decimal]
) -> dict[int, dict[str, Any]]:
    """For orders (each with `id`, `site_id`, `order_date`): the verified green-power
    declaration covering each order's date at its site, with the
    ratio its orders get, in one query plus one per declaration found and not yet in
    `attributed` (the reconciliation: kWh attributed by declaration id, which a bulk
    recalculation keeps for its whole run, so that a declaration covering 100,000 orders is
    summed once, not once per batch, and all its orders get the same ratio in that run).

    Same choice as `GreenPowerDeclaration.objects.verified_covering(site, day)`: verified only,
    period covering the order date, the latest-starting (then newest) one wins; pending, checked,
    rejected and revoked declarations are ignored. The ratio is the declared one unless the
    period's orders are attributed more kWh than the certificates cover; then it is scaled down
    so the green kWh credited to orders never exceed the certified MWh.
    """
    with_site = [o for o in orders if o.site_id]
    if not with_site:
        return {}
    rows = list(
        GreenPowerDeclaration.objects.filter(
            site_id__in={o.site_id for o in with_site},
            status=DeclarationStatus.VERIFIED,
            period_start__lte=max(o.order_date for o in with_site),
            period_end__gte=min(o.order_date for o in with_site),
        ).order_by("-period_start", "-id")
    )
    attributed.update(attributed_kwh([d for d in rows if d.pk not in attributed]))
    chosen = {}
    for o in with_site:
        for d in rows:
            if d.site_id == o.site_id and d.period_start <= o.order_date <= d.period_end:
                certified = d.green_kwh or Decimal(0)
                chosen[o.id] = {
                    "declaration_id": d.pk,
                    "green_ratio": plain_decimal(
                        effective_ratio(d.green_ratio, certified, attributed[d.pk])
                    ),
                    "declared_ratio": plain_decimal(d.green_ratio),
                    "instrument": d.instrument,
                    "instrument_factor": plain_decimal(d.instrument_factor),
                    "certified_kwh": plain_decimal(certified),
                    "consumed_kwh": plain_decimal(d.total_kwh),
                    "attributed_kwh": plain_decimal(attributed[d.pk]),
                    "period_start": d.period_start.isoformat(),
                    "period_end": d.period_end.isoformat(),
                }
                break
    return chosen
