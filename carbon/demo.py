"""Demo data for carbon: products, about twelve delivered orders per demo organisation with
realistic multi-leg shipments, and a verified green-power declaration for one site.

Idempotent: products are updated in place, orders go through `upsert_order` (unchanged data
writes nothing), the declaration is created once. Dates are anchored to the first day of the
current month, so re-running within a month changes nothing and the dashboard's last-12-months
window always has data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from carbon.declarations import submit_declaration, verify_declaration
from carbon.models import (
    DeclarationStatus,
    FactorDataset,
    GreenPowerDeclaration,
    Instrument,
    Product,
)
from carbon.orders import LegData, LineData, OrderData, ShipmentData, upsert_order
from portal.models import Organisation, User

# SKU, name, kWh of electricity per unit (attributed to the customer's site for Scope 2).
PRODUCTS = (
    ("SUN-110K-G", "SUN-110K-G three-phase string inverter, 110 kW", Decimal("950")),
    ("SUN-50K-G", "SUN-50K-G three-phase string inverter, 50 kW", Decimal("520")),
    ("BAT-LFP-215", "BAT-LFP-215 battery storage cabinet, 215 kWh", Decimal("2400")),
    ("MON-GW-4G", "MON-GW-4G monitoring gateway", Decimal("35")),
)
# Approximate shipping mass per unit including packaging, tonnes.
UNIT_MASS_T = {
    "SUN-110K-G": Decimal("0.095"),
    "SUN-50K-G": Decimal("0.062"),
    "BAT-LFP-215": Decimal("2.35"),
    "MON-GW-4G": Decimal("0.004"),
}


@dataclass(frozen=True)
class Route:
    name: str
    # (category, origin, destination, distance km)
    legs: tuple[tuple[str, str, str, str], ...]


NORDWIND_ROUTES = (
    Route(
        "sea",
        (
            ("road.hgv.articulated", "Suzhou plant", "Shanghai Yangshan port", "130"),
            ("sea.container.average", "Shanghai Yangshan port", "Port of Hamburg", "19800"),
            ("road.hgv.rigid", "Port of Hamburg", "Werk Hamburg", "25"),
        ),
    ),
    Route(
        "rail",
        (
            ("rail.freight", "Suzhou plant", "Duisburg DIT terminal", "10800"),
            ("road.hgv.average_laden", "Duisburg DIT terminal", "Werk Hamburg", "365"),
        ),
    ),
    Route(
        "air",
        (
            ("road.van.diesel", "Suzhou plant", "Shanghai Pudong airport", "110"),
            ("air.international", "Shanghai Pudong airport", "Frankfurt airport", "8900"),
            ("road.hgv.rigid", "Frankfurt airport", "Werk Hamburg", "495"),
        ),
    ),
)
HUADONG_ROUTES = (
    Route(
        "road",
        (("road.hgv.articulated", "Shenzhen plant", "苏州工厂", "1420"),),
    ),
    Route(
        "coastal",
        (
            ("road.hgv.rigid", "Shenzhen plant", "Yantian port", "35"),
            ("sea.container.average", "Yantian port", "Shanghai Waigaoqiao port", "1530"),
            ("road.hgv.articulated", "Shanghai Waigaoqiao port", "苏州工厂", "120"),
        ),
    ),
    Route(
        "rail",
        (
            ("rail.freight", "Shenzhen plant", "Hefei North freight yard", "1290"),
            ("road.hgv.rigid", "Hefei North freight yard", "合肥工厂", "32"),
        ),
    ),
)
# Which routes and sites each demo organisation's orders use, in rotation.
PLANS = {
    "nordwind": ("NW", ("Werk Hamburg",), (0, 0, 1, 0, 1, 0, 0, 2, 0, 1, 0, 0)),
    "huadong-pv": ("HD", ("苏州工厂", "合肥工厂"), (1, 2, 0, 1, 2, 1, 0, 1, 2, 1, 0, 1)),
}
BASKETS = (
    (("SUN-110K-G", 24), ("MON-GW-4G", 6)),
    (("SUN-50K-G", 40),),
    (("SUN-110K-G", 12), ("BAT-LFP-215", 2)),
    (("BAT-LFP-215", 4), ("MON-GW-4G", 4)),
)
GREEN_SITE = ("huadong-pv", "苏州工厂")
# A minimal valid PDF standing in for a green electricity certificate.
DEMO_EVIDENCE = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def anchor() -> date:
    return timezone.localdate().replace(day=1)


def month_back(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, 1)


def ensure_products() -> dict[str, Product]:
    products = {}
    for sku, name, kwh in PRODUCTS:
        product, _ = Product.objects.update_or_create(
            sku=sku, defaults={"name": name, "electricity_kwh_per_unit": kwh}
        )
        products[sku] = product
    return products


def basket_mass(basket) -> Decimal:
    return sum((UNIT_MASS_T[sku] * qty for sku, qty in basket), Decimal(0))


def demo_orders(slug: str, *, today: date | None = None) -> list[OrderData]:
    prefix, sites, routes = PLANS[slug]
    route_set = NORDWIND_ROUTES if slug == "nordwind" else HUADONG_ROUTES
    start = today or anchor()
    orders = []
    for n, route_index in enumerate(routes):
        order_date = month_back(start, 12 - n) + timedelta(days=(n * 5) % 20 + 2)
        route = route_set[route_index]
        basket = BASKETS[n % len(BASKETS)]
        transit = {"sea": 38, "rail": 21, "air": 4}.get(route.name, 3 + n % 4)
        mass = basket_mass(basket)
        # Huadong's rail deliveries go to the Hefei plant, everything else to the first site.
        site = sites[-1] if route.name == "rail" else sites[0]
        orders.append(
            OrderData(
                external_id=f"{prefix}-{start.year % 100:02d}{n + 1:02d}-{1000 + n * 37}",
                order_date=order_date,
                delivery_date=order_date + timedelta(days=transit),
                status="delivered",
                site_name=site,
                lines=[LineData(sku=sku, quantity=Decimal(qty)) for sku, qty in basket],
                shipments=[
                    ShipmentData(
                        reference=f"{prefix}-SHP-{n + 1:03d}",
                        legs=[
                            LegData(
                                category=category,
                                origin=origin,
                                destination=destination,
                                distance_km=Decimal(distance),
                                mass_t=mass,
                                # The ocean and rail carriers report modelled t·km figures.
                                data_tier="modelled"
                                if category.startswith(("sea.", "rail."))
                                else "default",
                            )
                            for category, origin, destination, distance in route.legs
                        ],
                    )
                ],
            )
        )
    return orders


def ensure_declaration(stdout=None) -> GreenPowerDeclaration | None:
    slug, site_name = GREEN_SITE
    organisation = Organisation.objects.filter(slug=slug).first()
    site = organisation.sites.filter(name=site_name).first() if organisation else None
    if site is None:
        return None
    start = month_back(anchor(), 13)
    end = month_back(anchor(), -12) - timedelta(days=1)
    existing = GreenPowerDeclaration.objects.filter(site=site, period_start=start).first()
    if existing is not None:
        return existing
    customer = User.objects.filter(memberships__organisation=organisation).order_by("id").first()
    staff = User.objects.filter(groups__name="Sustainability", is_staff=True).first()
    if customer is None:
        return None
    evidence = ContentFile(DEMO_EVIDENCE, name="gec-certificate-2025.pdf")
    declaration = submit_declaration(
        organisation,
        site,
        start,
        end,
        instrument=Instrument.GEC,
        evidence=evidence,
        by=customer,
        green_kwh=Decimal("3150000"),
        total_kwh=Decimal("4500000"),
    )
    if staff is not None:
        verify_declaration(declaration, staff, note="Demo: GEC certificates checked.")
    if stdout:
        status = DeclarationStatus(declaration.status).label
        stdout.write(f"carbon: green-power declaration for {site_name} ({status})")
    return declaration


def seed(stdout=None) -> None:
    """Products, demo orders for every demo organisation that exists, and one declaration."""
    if not FactorDataset.objects.published().exists():
        call_command("load_reference_data")
    ensure_products()
    ensure_declaration(stdout)
    for slug in PLANS:
        organisation = Organisation.objects.filter(slug=slug).first()
        if organisation is None:
            continue
        orders = demo_orders(slug)
        created = sum(upsert_order(organisation, data)[1] for data in orders)
        if stdout:
            stdout.write(f"carbon: {slug}: {len(orders)} demo orders ({created} new)")
