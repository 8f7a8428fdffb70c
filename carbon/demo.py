"""Demo data for carbon: products, twelve delivered orders per demo organisation with realistic
multi-leg shipments (Nordwind's sea orders reported by the ocean carrier, on 8000+ TEU ships),
one order Nordwind entered by hand (a footprint, no points until GreenLoop staff verify it), a
verified green-power declaration for one site, an approved points policy with the points it
awards, a catalogue of services with illustrations, and two redemptions funded by those points.

Idempotent: products and services are updated in place, orders go through `upsert_order`
(unchanged data writes nothing), the declaration, policy and images are created once, and the
points go through the ledger's own idempotent actions. Dates are anchored to the first day of the
current month, so the dashboard's last-12-months window always has data; only the latest order
of each organisation is anchored to the week before the current one, so that some of its points
are still pending after seeding. Re-running within the same week and month changes nothing.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.core.management import call_command
from django.utils import timezone
from wagtail.images import get_image_model

from carbon.demo_art import service_art
from carbon.footprint.actions import (
    check_declaration,
    recalculate_declaration_orders,
    submit_declaration,
    upsert_order,
    verify_declaration,
)
from carbon.footprint.declarations import InstrumentData
from carbon.footprint.orders import LegData, LineData, OrderData, ShipmentData
from carbon.footprint.provenance import unverified_legs
from carbon.footprint.units import Q_
from carbon.models import (
    DeclarationStatus,
    FactorDataset,
    GreenPowerDeclaration,
    Instrument,
    LegSource,
    Order,
    OrderStatus,
    PointsPolicy,
    PolicyStatus,
    Product,
    RedemptionStatus,
    Service,
)
from carbon.points import actions, ledger
from carbon.points.exceptions import IdempotencyConflict
from portal.models import Organisation, User
from portal.permissions import act_for_staff

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
    # Units per basket unit: sea orders are full container loads, rail and air ones smaller.
    scale: int = 1
    # Who reports the route's legs: the vendor's CRM, or the carrier's system (attested, its
    # own vessel and intensity data: carbon.footprint.provenance).
    source: str = LegSource.CRM
    incoterm: str = ""


NORDWIND_ROUTES = (
    Route(
        "sea",
        (
            ("road.hgv.articulated", "Suzhou plant", "Shanghai Yangshan port", "130"),
            # Asia - North Europe loops are sailed by 8000+ TEU ships: the carrier reports the
            # vessel, so the leg takes DESNZ's 8000+ TEU row (0.01553 kg CO2e/t·km WTW) and
            # earns against the average container ship of the deep-sea baseline (0.01977).
            ("sea.container.large", "Shanghai Yangshan port", "Port of Hamburg", "19800"),
            ("road.hgv.rigid", "Port of Hamburg", "Werk Hamburg", "25"),
        ),
        scale=6,
        source=LegSource.CARRIER,
        # GreenLoop books the ocean carrier (cost, insurance and freight to Hamburg).
        incoterm="CIF",
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
        (("road.hgv.articulated", "深圳工厂", "苏州工厂", "1420"),),
    ),
    Route(
        "coastal",
        (
            ("road.hgv.rigid", "深圳工厂", "盐田港", "35"),
            ("sea.container.average", "盐田港", "上海外高桥港", "1530"),
            ("road.hgv.articulated", "上海外高桥港", "苏州工厂", "120"),
        ),
    ),
    Route(
        "rail",
        (
            ("rail.freight", "深圳工厂", "合肥北货场", "1290"),
            ("road.hgv.rigid", "合肥北货场", "合肥工厂", "32"),
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


def last_week(today: date) -> date:
    """The Sunday before the current (ISO) week: 1 to 7 days ago, the same all week."""
    return today - timedelta(days=today.weekday() + 1)


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


def demo_orders(slug: str, *, today: date | None = None) -> list[tuple[OrderData, str]]:
    """Each demo order of organisation `slug` with the source that reports it."""
    prefix, sites, routes = PLANS[slug]
    route_set = NORDWIND_ROUTES if slug == "nordwind" else HUADONG_ROUTES
    today = today or timezone.localdate()
    start = today.replace(day=1)
    orders = []
    for n, route_index in enumerate(routes):
        route = route_set[route_index]
        basket = tuple((sku, qty * route.scale) for sku, qty in BASKETS[n % len(BASKETS)])
        transit = {"sea": 38, "rail": 21, "air": 4}.get(route.name, 3 + n % 4)
        order_date = month_back(start, 12 - n) + timedelta(days=(n * 5) % 20 + 2)
        if n == len(routes) - 1:
            # Delivered in the week before this one: still inside the points policy's pending
            # period after seeding, so the demo shows pending points beside available ones.
            order_date = last_week(today) - timedelta(days=transit)
        mass = basket_mass(basket)
        # Huadong's rail deliveries go to the Hefei plant, everything else to the first site.
        site = sites[-1] if route.name == "rail" else sites[0]
        data = OrderData(
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
            incoterm=route.incoterm,
        )
        orders.append((data, route.source))
    return orders


def customer_order(today: date) -> OrderData:
    """Spare parts Nordwind collected from GreenLoop's Rotterdam warehouse with its own
    forwarder (FCA: the customer pays the main carriage, its Scope 3 category 4), entered by
    hand in the portal: a footprint at once, points only once GreenLoop staff have checked the
    forwarder's documents (carbon.footprint.verification)."""
    delivered = month_back(today.replace(day=1), 1) + timedelta(days=9)
    basket = (("BAT-LFP-215", 8), ("MON-GW-4G", 8))
    return OrderData(
        external_id=f"NW-{today.year % 100:02d}-SPARES-01",
        order_date=delivered - timedelta(days=2),
        delivery_date=delivered,
        status="delivered",
        site_name="Werk Hamburg",
        lines=[LineData(sku=sku, quantity=Decimal(qty)) for sku, qty in basket],
        shipments=[
            ShipmentData(
                reference="NW-FWD-7731",
                legs=[
                    LegData(
                        category="road.hgv.articulated",
                        origin="NLRTM",
                        destination="Werk Hamburg",
                        distance_km=Decimal("480"),
                        mass_t=basket_mass(basket),
                    )
                ],
            )
        ],
        incoterm="FCA",
    )


CUSTOMER_ORDER = ("nordwind", "anna.schmidt@nordwind.example")


def ensure_customer_order(organisation: Organisation, today: date) -> int:
    """Nordwind's hand-entered order (`customer_order`), entered by its admin: customer data,
    unattested until staff verify it. 1 when it was created now."""
    slug, email = CUSTOMER_ORDER
    by = User.objects.filter(email=email).first()
    if organisation.slug != slug or by is None:
        return 0
    return int(
        upsert_order(organisation, customer_order(today), by=by, source=LegSource.CUSTOMER)[1]
    )


def ensure_declaration(stdout=None) -> GreenPowerDeclaration | None:
    """Huadong's Suzhou plant: 4,500 MWh metered over the period, 3,150 MWh of it backed by GEC
    certificates retired for the site (ratio 0.7, derived), checked by the sustainability team
    and verified by a second reviewer (four eyes)."""
    slug, site_name = GREEN_SITE
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is None:
        return None
    site = organisation.sites.filter(name=site_name).first()
    if site is None:
        return None
    start = month_back(anchor(), 13)
    end = month_back(anchor(), -12) - timedelta(days=1)
    checker = _staff(POLICY_SUBMITTER)
    verifier = _staff(POLICY_APPROVER)
    declaration = GreenPowerDeclaration.objects.filter(site=site, period_start=start).first()
    if declaration is None:
        customer = (
            User.objects.filter(memberships__organisation=organisation).order_by("id").first()
        )
        if customer is None:
            return None
        declaration = submit_declaration(
            organisation,
            site,
            start,
            end,
            consumption=Q_(Decimal("4500"), "MWh"),
            instruments=[
                InstrumentData(
                    kind=Instrument.GEC,
                    registry="中国绿色电力证书交易平台（国家能源局）",
                    serial_from="GEC-DEMO-320500-0000001",
                    serial_to="GEC-DEMO-320500-0003150",
                    mwh=Q_(Decimal("3150"), "MWh"),
                    generation_start=start,
                    generation_end=end,
                    country="CN",
                    grid_region="East China Grid (华东电网)",
                    proof=ContentFile(DEMO_EVIDENCE, name="gec-retirement-statement.pdf"),
                )
            ],
            by=customer,
        )
    if declaration.status == DeclarationStatus.PENDING and checker is not None:
        check_declaration(declaration, checker, note="演示：已核对绿证编号段及注销记录。")
    if declaration.status == DeclarationStatus.CHECKED and verifier is not None:
        verify_declaration(declaration, verifier, note="演示：已复核绿证注销证明。")
    if stdout:
        status = DeclarationStatus(declaration.status).label
        stdout.write(f"carbon: green-power declaration for {site_name} ({status})")
    return declaration


# --- points


POLICY_SUBMITTER = "sustainability@greenloop.example"
POLICY_APPROVER = "admin@greenloop.example"
# One baseline left empty: each leg is compared with the cited baseline of its own transport
# service class (carbon.points.baselines), and points are computed on each organisation's total
# per calendar month of delivery, at most 5,000 points per organisation and month.
POLICY = {
    "points_per_kg": Decimal("0.05"),
    "include_green_power": True,
    "pending_days": 14,
    "expiry_months": 24,
    "per_period_cap": 5000,
    "explanation": (
        "You earn points for the emissions your deliveries avoid compared with the average "
        "vehicle of the same kind of transport (or with the truck that rail or coastal "
        "shipping replaced), and for the verified green power your sites use."
    ),
    "explanation_zh": (
        "与同类运输的平均水平相比（或与铁路、沿海航运所替代的货车相比），"
        "您的交付所避免的排放，以及您的厂区使用的经核证绿色电力，都会为您赢得积分。"
    ),
}


def _staff(email: str) -> User | None:
    return act_for_staff(User.objects.filter(email=email, is_staff=True).first())


def ensure_policy(stdout=None) -> PointsPolicy | None:
    """Points policy v1: drafted and submitted by the sustainability team, approved by another
    staff member (four eyes), in force from before the first demo delivery."""
    submitter, approver = _staff(POLICY_SUBMITTER), _staff(POLICY_APPROVER)
    if submitter is None or approver is None:
        return None
    policy = PointsPolicy.objects.filter(version=1).first()
    if policy is None:
        draft = PointsPolicy(effective_from=month_back(anchor(), 13), **POLICY)
        policy = actions.create_draft_policy(draft, by=submitter)
    if policy.status == PolicyStatus.DRAFT:
        policy = actions.submit_policy(policy, submitter)
    if policy.status == PolicyStatus.AWAITING_APPROVAL:
        policy = actions.approve_policy(policy, approver)
        if stdout:
            stdout.write(f"carbon: points policy v{policy.version} approved")
    return policy


def award_points(slugs, today: date) -> int:
    """Award every delivered demo order that has no award yet (through the ledger, so a
    subscriber that awards on its own finds them done), then activate what is due today."""
    orders = (
        Order.objects.filter(
            organisation__slug__in=slugs,
            status=OrderStatus.DELIVERED,
            delivery_date__lte=today,
            snapshots__is_current=True,
            points_awards__isnull=True,
        )
        # Customer-entered data earns once staff have verified it (carbon.footprint.provenance).
        .exclude(pk__in=unverified_legs().values("shipment__order"))
        .select_related("organisation")
        .order_by("delivery_date", "id")
    )
    awarded = 0
    for order in orders:
        if PointsPolicy.objects.in_force(order.delivery_date) is not None:
            actions.award_order(order)
            awarded += 1
    actions.activate_due(today)
    return awarded


# --- catalogue

SERVICES_FILE = Path(settings.BASE_DIR) / "fixtures" / "demo-services.json"


def demo_services() -> list[dict]:
    return json.loads(SERVICES_FILE.read_text(encoding="utf-8"))["services"]


def ensure_catalogue(stdout=None) -> dict[str, Service]:
    """The demo services, restored to their fixture values; each gets its illustration (a
    Wagtail image in the default collection) once."""
    image_model = get_image_model()
    services = {}
    for spec in demo_services():
        spec = dict(spec)
        art = spec.pop("art")
        service, _ = Service.objects.update_or_create(
            slug=spec.pop("slug"), defaults={**spec, "is_active": True}
        )
        if service.image_id is None:
            name = f"service-{service.slug}.png"
            image = image_model(title=service.name, description=service.name)
            image.file = ImageFile(io.BytesIO(service_art(**art)), name=name)
            image.save()
            service.image = image
            service.save(update_fields=["image", "updated_at"])
        services[service.slug] = service
    if stdout:
        stdout.write(f"carbon: catalogue of {len(services)} services")
    return services


# --- redemptions


@dataclass(frozen=True)
class DemoRedemption:
    organisation: str
    service: str
    requested_by: str
    key: str
    site: str | None
    note: str
    preferred_in_days: int | None = None
    fulfilled_by: tuple[str, str] | None = None  # (assignee, note to the customer)


DEMO_REDEMPTIONS = (
    DemoRedemption(
        "nordwind",
        "remote-performance-audit",
        "jonas.weber@nordwind.example",
        "demo-nordwind-audit",
        None,
        "Roof arrays on halls 2 and 3 seem to underperform since spring.",
        fulfilled_by=(
            "Lukas Berg, GreenLoop service",
            "Monitoring data received; your report follows within a week.",
        ),
    ),
    DemoRedemption(
        "nordwind",
        "on-site-maintenance-visit",
        "jonas.weber@nordwind.example",
        "demo-nordwind-visit",
        "Werk Hamburg",
        "Inverter 7 reports insulation faults after heavy rain; please bring a spare fan kit.",
        preferred_in_days=14,
    ),
)
FULFILLED_BY = "success@greenloop.example"


def ensure_redemptions(services: dict[str, Service], today: date, stdout=None) -> int:
    """One fulfilled and one open request, so the history and the staff queue are not empty.
    Each is requested once under a fixed key and fulfilled only while still requested."""
    staff = _staff(FULFILLED_BY)
    made = 0
    for spec in DEMO_REDEMPTIONS:
        organisation = Organisation.objects.filter(slug=spec.organisation).first()
        by = User.objects.filter(email=spec.requested_by).first()
        if organisation is None or by is None:
            continue
        site = organisation.sites.filter(name=spec.site).first() if spec.site else None
        preferred = (
            today + timedelta(days=spec.preferred_in_days) if spec.preferred_in_days else None
        )
        try:
            redemption, created = actions.request_redemption(
                organisation,
                services[spec.service],
                by,
                key=spec.key,
                site=site,
                preferred_date=preferred,
                note=spec.note,
                today=today,
            )
        except IdempotencyConflict:
            continue  # requested on an earlier day (another preferred date): leave it as it is
        made += created
        if spec.fulfilled_by and staff and redemption.status == RedemptionStatus.REQUESTED:
            assignee, staff_note = spec.fulfilled_by
            actions.fulfil(
                redemption,
                staff,
                scheduled_for=today + timedelta(days=7),
                assignee=assignee,
                note=staff_note,
            )
    if stdout and made:
        stdout.write(f"carbon: {made} demo redemptions")
    return made


def seed(stdout=None) -> None:
    """Products, demo orders for every demo organisation that exists, one declaration, the
    points policy with its awards, the service catalogue and two redemptions."""
    today = timezone.localdate()
    if not FactorDataset.objects.published().exists():
        call_command("load_reference_data")
    ensure_products()
    declaration = ensure_declaration(stdout)
    seeded = []
    for slug in PLANS:
        organisation = Organisation.objects.filter(slug=slug).first()
        if organisation is None:
            continue
        orders = demo_orders(slug, today=today)
        # The demo's orders stand for what the vendor's CRM and the ocean carrier's system send
        # in: attested data.
        created = sum(upsert_order(organisation, data, source=source)[1] for data, source in orders)
        created += ensure_customer_order(organisation, today)
        seeded.append(organisation)
        if stdout:
            stdout.write(f"carbon: {slug}: {len(orders)} demo orders ({created} new)")
    if declaration is not None and declaration.status == DeclarationStatus.VERIFIED:
        # The green share of each order depends on every order of the declaration's period
        # (the reconciliation): settle the footprints before the points, or the recalculation
        # the verification asks for after commit re-settles every award as pending again.
        recalculate_declaration_orders(declaration)
    if ensure_policy(stdout) is not None:
        award_points([o.slug for o in seeded], today)
    services = ensure_catalogue(stdout)
    ensure_redemptions(services, today, stdout)
    if stdout:
        for organisation in seeded:
            b = ledger.balances(ledger.account_for(organisation), today)
            stdout.write(
                f"carbon: {organisation.slug}: points pending {b.pending}, available "
                f"{b.available}, held {b.held}"
            )
