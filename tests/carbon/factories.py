"""Factories for carbon tests, shared by every carbon test module.

`published_dataset()` builds a small, published freight dataset whose factors are made-up round
numbers (the worked examples against the real DESNZ 2025 table use the fixture file instead), and
`grid_dataset()` the grid-electricity factors for Scope 2; `reference_dataset()` loads the real
published ones from fixtures/.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import factory
from django.core.management import call_command
from django.db import transaction
from factory.django import DjangoModelFactory

from carbon.models import (
    CalculationSnapshot,
    DatasetStatus,
    DeclarationStatus,
    EmissionFactor,
    EnergyScope,
    FactorDataset,
    FactorKind,
    GreenPowerDeclaration,
    Instrument,
    LedgerEntry,
    Leg,
    LegSource,
    Order,
    OrderLine,
    PointsAccount,
    Product,
    Service,
    ServiceKind,
    Shipment,
)
from carbon.points import actions, ledger
from tests.factories import OrganisationFactory, SiteFactory, UserFactory

FREIGHT_UNIT = "kgCO2e / (tonne * km)"


class FactorDatasetFactory(DjangoModelFactory):
    class Meta:
        model = FactorDataset
        django_get_or_create = ("slug", "version")

    slug = factory.Sequence(lambda n: f"dataset-{n}")
    version = 1
    title = factory.LazyAttribute(lambda o: f"Test factors {o.slug}")
    publisher = "Test publisher"
    publication_date = dt.date(2025, 6, 10)
    licence = "Open Government Licence v3.0"
    source_url = "https://example.org/factors"
    gwp_basis = "AR5"
    distance_basis = "Actual distance; uplift included in the factors"
    status = DatasetStatus.DRAFT


class EmissionFactorFactory(DjangoModelFactory):
    class Meta:
        model = EmissionFactor

    dataset = factory.SubFactory(FactorDatasetFactory)
    category = "road.hgv.average_laden"
    kind = FactorKind.FREIGHT
    description = factory.LazyAttribute(lambda o: f"{o.category} {o.energy_scope}")
    energy_scope = EnergyScope.TTW
    radiative_forcing = False
    value = Decimal("0.1")
    unit = FREIGHT_UNIT
    region = "GLO"
    valid_from = dt.date(2025, 1, 1)
    source_label = factory.LazyAttribute(lambda o: f"Test row {o.category} {o.energy_scope}")


# Made-up freight factors (kgCO2e per tonne.km): (TTW, WTT, TTW with RF or None).
TEST_FREIGHT = {
    "road.hgv.average_laden": ("0.1", "0.025", None),
    "road.van.diesel": ("0.5", "0.125", None),
    "rail.freight": ("0.03", "0.007", None),
    "sea.container.average": ("0.016", "0.004", None),
    "air.long_haul": ("0.6", "0.14", "1.02"),
}
# Made-up fuel factors: kgCO2e per litre of diesel (TTW, WTT).
TEST_FUEL = {"diesel": ("2.5", "0.6")}
# Grid factors per kWh: region -> (location, residual or None). China's MEE publishes CO2 only.
TEST_GRID = {"CN": ("0.5366", "0.5856"), "DE": ("0.38", None)}
TEST_GRID_UNITS = {"CN": "kgCO2 / kWh"}


def published_dataset(
    slug: str = "test-freight",
    version: int = 1,
    *,
    freight: dict | None = None,
    fuel: dict | None = None,
    is_default: bool = True,
    status: str = DatasetStatus.PUBLISHED,
) -> FactorDataset:
    """A freight dataset with TTW/WTT factors per category, then published (immutable)."""
    dataset = FactorDatasetFactory(slug=slug, version=version, is_default=is_default)
    for category, (ttw, wtt, ttw_rf) in (TEST_FREIGHT if freight is None else freight).items():
        EmissionFactorFactory(dataset=dataset, category=category, value=Decimal(ttw))
        EmissionFactorFactory(
            dataset=dataset, category=category, energy_scope=EnergyScope.WTT, value=Decimal(wtt)
        )
        if ttw_rf is not None:
            EmissionFactorFactory(
                dataset=dataset, category=category, radiative_forcing=True, value=Decimal(ttw_rf)
            )
    for fuel_type, (ttw, wtt) in (TEST_FUEL if fuel is None else fuel).items():
        for scope, value in ((EnergyScope.TTW, ttw), (EnergyScope.WTT, wtt)):
            EmissionFactorFactory(
                dataset=dataset,
                category=f"fuel.{fuel_type}",
                kind=FactorKind.FUEL,
                energy_scope=scope,
                value=Decimal(value),
                unit="kgCO2e / litre",
            )
    FactorDataset.objects.filter(pk=dataset.pk).update(status=status)
    dataset.refresh_from_db()
    return dataset


def reference_dataset(slug: str) -> FactorDataset:
    """The published datasets shipped in fixtures/ (loaded quietly: the command reports each
    file), returning the one named by slug."""
    call_command("load_reference_data", stdout=io.StringIO())
    return FactorDataset.objects.get(slug=slug)


def grid_dataset(
    slug: str = "grid-electricity", version: int = 1, *, grid: dict | None = None
) -> FactorDataset:
    dataset = FactorDatasetFactory(slug=slug, version=version, is_default=False)
    for region, (location, residual) in (TEST_GRID if grid is None else grid).items():
        for kind, value in (("location", location), ("residual", residual)):
            if value is not None:
                EmissionFactorFactory(
                    dataset=dataset,
                    category=f"electricity.{region}.{kind}",
                    kind=FactorKind.ELECTRICITY,
                    value=Decimal(value),
                    unit=TEST_GRID_UNITS.get(region, "kgCO2e / kWh"),
                    region=region,
                )
    FactorDataset.objects.filter(pk=dataset.pk).update(status=DatasetStatus.PUBLISHED)
    dataset.refresh_from_db()
    return dataset


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("sku",)

    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.LazyAttribute(lambda o: f"Product {o.sku}")
    electricity_kwh_per_unit = None


class OrderFactory(DjangoModelFactory):
    class Meta:
        model = Order

    organisation = factory.SubFactory(OrganisationFactory)
    external_id = factory.Sequence(lambda n: f"PO-{n:06d}")
    order_date = dt.date(2025, 3, 14)
    delivery_site = None


class OrderLineFactory(DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = Decimal(1)


class ShipmentFactory(DjangoModelFactory):
    class Meta:
        model = Shipment

    order = factory.SubFactory(OrderFactory)
    reference = factory.Sequence(lambda n: f"SHP-{n}")


class LegFactory(DjangoModelFactory):
    class Meta:
        model = Leg

    shipment = factory.SubFactory(ShipmentFactory)
    sequence = 1
    category = "road.hgv.average_laden"
    origin = "Shenzhen"
    destination = "Yantian"
    distance_km = Decimal("100")
    mass_t = Decimal("2")
    # Test orders stand for the CRM's data (attested), as the demo's do; tests of customer
    # entries say source=LegSource.CUSTOMER.
    source = LegSource.CRM


class GreenPowerDeclarationFactory(DjangoModelFactory):
    class Meta:
        model = GreenPowerDeclaration

    organisation = factory.SubFactory(OrganisationFactory)
    site = factory.SubFactory(SiteFactory, organisation=factory.SelfAttribute("..organisation"))
    period_start = dt.date(2025, 1, 1)
    period_end = dt.date(2025, 12, 31)
    green_ratio = Decimal("0.6")
    # Metered and certified kWh agreeing with the ratio (certified = ratio x metered).
    total_kwh = Decimal("1000000")
    green_kwh = factory.LazyAttribute(lambda d: d.green_ratio * d.total_kwh)
    instrument = Instrument.GEC
    status = DeclarationStatus.VERIFIED
    # Four eyes: two different reviewers (a database constraint for verified declarations).
    checked_by = factory.SubFactory(UserFactory)
    verified_by = factory.SubFactory(UserFactory)


def order_with_legs(organisation, legs: list[dict], **order_fields) -> Order:
    """One order with one shipment holding `legs` (dicts of Leg fields), in sequence."""
    order = OrderFactory(organisation=organisation, **order_fields)
    shipment = ShipmentFactory(order=order)
    for n, fields in enumerate(legs, start=1):
        LegFactory(shipment=shipment, sequence=n, **fields)
    return order


def current_snapshot(order) -> CalculationSnapshot:
    return CalculationSnapshot.objects.get(order=order, is_current=True)


class ServiceFactory(DjangoModelFactory):
    class Meta:
        model = Service

    name = factory.Sequence(lambda n: f"Maintenance visit {n}")
    slug = factory.Sequence(lambda n: f"maintenance-visit-{n}")
    kind = ServiceKind.MAINTENANCE_VISIT
    description = "An engineer visits one of your sites for a day of preventive maintenance."
    points_cost = 500


def fund(organisation, points: int, approver=None) -> PointsAccount:
    """Give an organisation `points` available points through an approved manual adjustment
    (the ledger's own path, so balances and entries agree)."""
    from tests.factories import UserFactory

    account = ledger.account_for(organisation)
    approver = approver or UserFactory(is_staff=True)
    actions.adjust(
        account,
        points,
        "Test funding",
        approver,
        key=f"fund:{organisation.pk}:{points}:{approver.pk}",
    )
    account.refresh_from_db()
    return account


def hold(account: PointsAccount, points: int, key: str, redemption_id: int) -> LedgerEntry:
    """Hold `points` for redemption `redemption_id` the way a redemption request does
    (`ledger.hold_for_redemption`, in a transaction of its own here) and return the hold's
    ledger entry."""
    from carbon.points import ledger

    with transaction.atomic():
        ledger.hold_for_redemption(account.organisation, points, key, redemption_id)
    return LedgerEntry.objects.get(account_id=account.pk, idempotency_key=key)
