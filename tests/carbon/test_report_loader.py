"""The period inventory read from the database (carbon.reports.loader): the figures are the sums
of the orders' stored snapshots, and the number of queries does not grow with the orders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from carbon.footprint.calculation import calculate_order
from carbon.models import (
    CalculationSnapshot,
    FactorDataset,
    OrderStatus,
    PointsPolicy,
    PolicyStatus,
)
from carbon.reports.inventory import Exclusion
from carbon.reports.loader import dataset_sources, load_inventory, points_policies
from carbon.reports.period import ReportingPeriod
from tests.carbon.factories import (
    TEST_FREIGHT,
    GreenPowerDeclarationFactory,
    OrderLineFactory,
    ProductFactory,
    fund,
    grid_dataset,
    order_with_legs,
    published_dataset,
)
from tests.factories import OrganisationFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db


def approved() -> dict:
    """What an approved policy records: submitted by one staff member, approved by another."""
    return {
        "submitted_by": UserFactory(is_staff=True),
        "approved_by": UserFactory(is_staff=True),
        "approved_at": timezone.now(),
    }


DELIVERED_ON = dt.date(2026, 2, 10)
LEGS = [
    {"category": "road.hgv.average_laden", "data_tier": "primary"},
    {"category": "air.long_haul", "radiative_forcing": True, "data_tier": "primary"},
    {"category": "road.van.diesel", "data_tier": "default"},
]


@pytest.fixture
def setting():
    published_dataset()
    grid_dataset()
    organisation = OrganisationFactory()
    site = SiteFactory(organisation=organisation, country="CN")
    declaration = GreenPowerDeclarationFactory(
        organisation=organisation,
        site=site,
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 12, 31),
    )
    product = ProductFactory(electricity_kwh_per_unit=Decimal("10"))
    return organisation, site, declaration, product


def make_orders(organisation, site, product, count: int, **fields) -> list:
    orders = []
    for _ in range(count):
        order = order_with_legs(
            organisation,
            LEGS,
            order_date=dt.date(2026, 1, 20),
            delivery_site=site,
            **({"status": OrderStatus.DELIVERED, "delivery_date": DELIVERED_ON} | fields),
        )
        OrderLineFactory(order=order, product=product, quantity=Decimal("3"))
        calculate_order(order)
        orders.append(order)
    return orders


def period() -> ReportingPeriod:
    # from the start of 2026 to today, so that the ledger entries written now fall inside
    return ReportingPeriod.custom(dt.date(2026, 1, 1), max(timezone.localdate(), DELIVERED_ON))


def test_the_inventory_is_the_sum_of_the_current_snapshots(setting):
    organisation, site, declaration, product = setting
    counted = make_orders(organisation, site, product, 3)
    cancelled = make_orders(organisation, site, product, 1, status=OrderStatus.CANCELLED)[0]
    later = make_orders(organisation, site, product, 1, delivery_date=dt.date(2025, 12, 31))[0]
    # another organisation's order never shows
    make_orders(OrganisationFactory(), None, product, 1)
    fund(organisation, 250)

    inventory = load_inventory(organisation, period())

    snapshots = list(CalculationSnapshot.objects.filter(order__in=counted, is_current=True))
    assert inventory.order_ids == tuple(sorted(o.pk for o in counted))
    for name in ("tkm", "ttw_kg", "wtt_kg", "wtw_kg"):
        assert getattr(inventory, name) == sum(getattr(s, name) for s in snapshots), name
    assert inventory.scope2.location_kg == sum(s.scope2_location_kg for s in snapshots)
    assert inventory.scope2.market_kg == sum(s.scope2_market_kg or 0 for s in snapshots)
    assert inventory.scope2.market_kg > 0
    assert inventory.wtw_kg == inventory.ttw_kg + inventory.wtt_kg
    assert inventory.radiative_forcing_kg == sum(
        Decimal(s.results["totals"]["radiative_forcing_kg"]) for s in snapshots
    )
    assert inventory.radiative_forcing_kg > 0
    assert [m.key for m in inventory.by_mode] == ["air", "road"]
    assert sum(m.tkm for m in inventory.by_mode) == inventory.tkm
    # every order: 3 legs of 200 t·km (100 km x 2 t), the van leg on default factors
    assert inventory.data_quality.default_tkm_share == Decimal("0.333333")
    assert inventory.data_quality.primary_tkm_share == Decimal("0.666667")
    assert [d.declaration_id for d in inventory.scope2.declarations] == [declaration.pk]
    assert inventory.scope2.orders_without_market == 0
    assert {(o.order_id, o.reason) for o in inventory.data_quality.excluded} == {
        (cancelled.pk, Exclusion.NOT_DELIVERED),
        (later.pk, Exclusion.DELIVERED_OUTSIDE_PERIOD),
    }
    assert inventory.points.balance.available == 250
    # read again, the same figures give the same data hash
    assert load_inventory(organisation, period()).data_hash == inventory.data_hash


def test_an_order_without_a_calculation_is_excluded_and_all_customers_are_read(setting):
    organisation, site, _, product = setting
    never_calculated = order_with_legs(
        organisation,
        LEGS[:1],
        order_date=dt.date(2026, 1, 20),
        status=OrderStatus.DELIVERED,
        delivery_date=DELIVERED_ON,
    )
    other = make_orders(OrganisationFactory(), None, product, 1)[0]

    inventory = load_inventory(None, period())

    assert inventory.order_ids == (other.pk,)
    assert [(o.order_id, o.reason) for o in inventory.data_quality.excluded] == [
        (never_calculated.pk, Exclusion.NO_CURRENT_SNAPSHOT)
    ]


def test_the_number_of_queries_does_not_grow_with_the_orders(
    setting, django_assert_max_num_queries
):
    organisation, site, _, product = setting
    make_orders(organisation, site, product, 3)
    with django_assert_max_num_queries(3):
        assert load_inventory(organisation, period()).orders == 3

    make_orders(organisation, site, product, 27)
    with django_assert_max_num_queries(3):
        assert load_inventory(organisation, period()).orders == 30
    # figures as of a moment: one more query (the pinned snapshots)
    with django_assert_max_num_queries(4):
        assert load_inventory(organisation, period(), as_of=timezone.now()).orders == 30


def test_the_orders_table_carries_each_leg_with_its_factors_and_the_site(setting):
    organisation, site, _, product = setting
    order = make_orders(organisation, site, product, 1)[0]
    snapshot = CalculationSnapshot.objects.get(order=order, is_current=True)

    inventory = load_inventory(organisation, period())

    (line,) = inventory.lines
    assert (line.order_id, line.snapshot_id, line.site) == (order.pk, snapshot.pk, site.name)
    assert line.organisation_name == organisation.name
    assert line.delivery_date == DELIVERED_ON
    assert [leg.category for leg in line.legs] == [
        "road.hgv.average_laden",
        "air.long_haul",
        "road.van.diesel",
    ]
    hgv = line.legs[0]
    stored = snapshot.results["legs"][0]
    assert dict(hgv.factor_ids) == {k: v for k, v in stored["factors"].items() if v is not None}
    assert {role for role, _ in hgv.factor_ids} >= {"ttw", "wtt"}
    assert (hgv.mass_t, hgv.distance_km, hgv.method) == (Decimal("2"), Decimal("100"), "distance")
    assert [s.site for s in inventory.by_site] == [site.name]
    # the ledger entry written today falls in this month's line
    fund(organisation, 40)
    month = timezone.localdate().strftime("%Y-%m")
    by_month = {m.month: m for m in load_inventory(organisation, period()).by_month}
    assert by_month["2026-02"].orders == 1
    assert month in by_month


def test_figures_read_as_of_a_moment_ignore_later_recalculations(setting):
    organisation, site, _, product = setting
    orders = make_orders(organisation, site, product, 2)
    first = load_inventory(organisation, period())
    as_of = timezone.now()

    # a new default freight dataset with every factor doubled, and the orders recalculated
    FactorDataset.objects.filter(slug="test-freight").update(is_default=False)
    doubled = {
        category: tuple(str(Decimal(v) * 2) if v else None for v in values)
        for category, values in TEST_FREIGHT.items()
    }
    published_dataset(version=2, freight=doubled)
    for order in orders:
        calculate_order(order)

    current = load_inventory(organisation, period())
    pinned = load_inventory(organisation, period(), as_of=as_of)

    assert current.wtw_kg == first.wtw_kg * 2
    assert current.data_hash != first.data_hash
    assert pinned.wtw_kg == first.wtw_kg
    assert [line.snapshot_id for line in pinned.lines] == [line.snapshot_id for line in first.lines]
    assert pinned.data_hash == first.data_hash


def test_the_sources_are_the_datasets_the_figures_used(setting, django_assert_max_num_queries):
    organisation, site, _, product = setting
    make_orders(organisation, site, product, 1)
    inventory = load_inventory(organisation, period())

    assert inventory.datasets == ("grid-electricity@1", "test-freight@1")
    with django_assert_max_num_queries(1):
        sources = dataset_sources(inventory.datasets + ("unknown@3", "no-version"))
    assert [(s.label, s.version) for s in sources] == [
        ("grid-electricity@1", 1),
        ("test-freight@1", 1),
    ]
    freight = FactorDataset.objects.get(slug="test-freight")
    assert (sources[1].publisher, sources[1].url, sources[1].licence) == (
        freight.publisher,
        freight.source_url,
        freight.licence,
    )


def test_the_points_policies_in_force_during_a_period(django_assert_max_num_queries):
    def policy(version, effective, status=PolicyStatus.ACTIVE):
        PointsPolicy.objects.create(
            version=version, effective_from=effective, points_per_kg=version, pending_days=14,
            expiry_months=12, status=status, explanation=f"v{version}",
            **(approved() if status != PolicyStatus.DRAFT else {}),
        )  # fmt: skip

    policy(1, dt.date(2024, 1, 1), PolicyStatus.RETIRED)
    policy(2, dt.date(2025, 3, 1))  # in force on 2026-01-01
    policy(3, dt.date(2026, 6, 1))  # takes effect within 2026
    policy(4, dt.date(2026, 9, 1), PolicyStatus.DRAFT)  # never approved
    policy(5, dt.date(2027, 1, 1))  # after the period

    with django_assert_max_num_queries(1):
        used = points_policies(ReportingPeriod.year(2026))
    assert [(p.version, p.explanation) for p in used] == [(2, "v2"), (3, "v3")]
    assert [p.version for p in points_policies(ReportingPeriod.year(2024))] == [1]
    assert points_policies(ReportingPeriod.year(2023)) == ()
