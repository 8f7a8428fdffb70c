"""`seed_demo`'s points: an approved policy, awards on the delivered demo orders, a catalogue
with illustrations and two redemptions, all through the ledger so that it reconciles."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from wagtail.images import get_image_model

from carbon.demo import POLICY, demo_services, last_week
from carbon.footprint.provenance import order_points_holds
from carbon.models import (
    EntryKind,
    LedgerEntry,
    Leg,
    Order,
    PointsAward,
    PointsPolicy,
    PolicyStatus,
    Redemption,
    RedemptionStatus,
    Service,
)
from carbon.points import actions, ledger, redemptions
from portal.models import AuditEvent, Organisation, OutboxEvent, Site, User

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {
        "policies": PointsPolicy.objects.count(),
        "awards": PointsAward.objects.count(),
        "entries": LedgerEntry.objects.count(),
        "services": Service.objects.count(),
        "images": get_image_model().objects.count(),
        "redemptions": Redemption.objects.count(),
        "orders": Order.objects.count(),
        "audit": AuditEvent.objects.count(),
        "events": OutboxEvent.objects.count(),
    }


def test_seed_demo_gives_points_a_catalogue_and_redemptions(demo_seed):
    # when the demo is seeded into an empty database
    output = demo_seed
    # then policy v1 is active, drafted by sustainability and approved by someone else
    policy = PointsPolicy.objects.get()
    assert (policy.version, policy.status) == (1, PolicyStatus.ACTIVE)
    assert policy.submitted_by.email == "sustainability@greenloop.example"
    assert policy.approved_by.email == "admin@greenloop.example"
    assert policy.baseline_kg_per_tkm is None
    assert (policy.points_per_kg, policy.pending_days, policy.expiry_months) == (
        POLICY["points_per_kg"],
        14,
        24,
    )
    assert policy.explanation.startswith("You earn points for the emissions your deliveries")
    assert policy.explanation_zh
    assert AuditEvent.objects.filter(action="carbon.points_policy.approved").count() == 1
    # and every delivered demo order with attested data earned an award with its breakdown
    orders = Order.objects.filter(organisation__slug__in=["huadong-pv", "nordwind"])
    assert orders.count() == 25
    awards = PointsAward.objects.filter(order__in=orders, policy=policy, superseded_at__isnull=True)
    assert awards.count() == 24
    assert all(0 <= a.points < 1000 for a in awards)
    # each leg against the baseline of its own service class, with its source
    assert all(leg["baseline_source"] for a in awards for leg in a.breakdown["legs"])
    # Huadong's coastal shipping and rail replace trucks and earn
    huadong_orders = orders.filter(organisation__slug="huadong-pv")
    assert sum(a.points >= 10 for a in awards.filter(order__in=huadong_orders)) >= 10
    # and Nordwind's container loads, reported by the ocean carrier, sail on 8000+ TEU ships
    # (0.01553 kg/t·km WTW) against the average container ship of the deep-sea baseline
    # (0.01977) over the declared 19,800 km sea route: mass x 19,800 x 0.00424 kg
    sea = awards.filter(
        order__external_id__startswith="NW-", breakdown__legs__1__service_class="deep_sea"
    )
    assert sea.count() == 8
    assert {
        (leg["baseline_kg_per_tkm"], leg["reference_km"], leg["reference_basis"])
        for a in sea
        for leg in a.breakdown["legs"][1:2]
    } == {("0.01977", "19800", "sea_declared")}
    assert {a.breakdown["legs"][1]["avoided_kg"] for a in sea} == {
        "1160.552448",  # 13.824 t: 273,715.2 t·km x 0.00424
        "1249.20576",  # 14.88 t
        "2941.67808",  # 35.04 t
        "4742.952192",  # 56.496 t
    }
    sea_legs = Leg.objects.filter(shipment__order__in=sea.values("order"), sequence=2)
    assert set(sea_legs.values_list("category", "source", "data_type")) == {
        ("sea.container.large", "carrier", "carrier_intensity")
    }
    # and their points come from that activity alone: no staff adjustment
    assert not LedgerEntry.objects.filter(kind=EntryKind.ADJUST).exists()
    # and the order Nordwind entered by hand has a footprint and no points until verified
    spares = orders.get(external_id__contains="-SPARES-")
    assert spares.snapshots.get(is_current=True).wtw_kg > 0
    assert not spares.points_awards.exists()
    assert [h.code for h in order_points_holds(spares)] == ["customer_data_unverified"]
    # and Huadong can redeem a maintenance visit while its latest order's points are pending
    visit = Service.objects.get(slug="on-site-maintenance-visit")
    huadong = Organisation.objects.get(slug="huadong-pv")
    balance = ledger.balances(ledger.account_for(huadong))
    latest = orders.filter(organisation=huadong).order_by("-delivery_date").first()
    assert latest.delivery_date == last_week(timezone.localdate())
    assert (
        balance.pending
        == (PointsAward.objects.get(order=latest, superseded_at__isnull=True).points)
        > 0
    )
    assert balance.available >= 2 * visit.points_cost
    assert balance.held == 0
    # and the catalogue has five services in both languages, each with an illustration
    services = Service.objects.order_by("sort_order")
    assert [s.slug for s in services] == [spec["slug"] for spec in demo_services()]
    for service in services:
        assert service.name_zh
        assert service.description_zh
        assert (service.image.width, service.image.height) == (800, 500)
        assert service.image.file.storage.exists(service.image.file.name)
    assert (visit.requires_site, visit.monthly_capacity) == (True, 8)
    # with eligibility that differs between the two customers
    nordwind = Organisation.objects.get(slug="nordwind")
    eligible = {
        org.slug: {o.service.slug for o in redemptions.offers(org) if o.eligible}
        for org in (huadong, nordwind)
    }
    assert eligible == {
        "huadong-pv": {
            "on-site-maintenance-visit",
            "extended-warranty-inverter",
            "operator-training-suzhou",
            "remote-performance-audit",
        },
        "nordwind": {
            "on-site-maintenance-visit",
            "operator-training-hamburg",
            "remote-performance-audit",
        },
    }
    # and Nordwind has one fulfilled redemption and one waiting in the staff queue
    done, waiting = Redemption.objects.filter(organisation=nordwind).order_by("id")
    assert (done.service.slug, done.status) == ("remote-performance-audit", "fulfilled")
    assert done.decided_by.email == "success@greenloop.example"
    assert (waiting.service.slug, waiting.status) == ("on-site-maintenance-visit", "requested")
    assert waiting.site.name == "Werk Hamburg"
    assert waiting.preferred_date == timezone.localdate() + dt.timedelta(days=14)
    nordwind_balance = ledger.balances(ledger.account_for(nordwind))
    assert nordwind_balance.held == waiting.points
    assert LedgerEntry.objects.filter(kind=EntryKind.CAPTURE, redemption_id=done.pk).count() == 1
    # and the ledger reconciles
    assert ledger.reconcile() == []
    call_command("check_ledger", stdout=io.StringIO())
    assert "carbon: catalogue of 5 services" in output

    # when a Huadong member requests a visit to the Suzhou plant
    member = User.objects.get(email="zhang.min@huadong.example")
    redemption, created = actions.request_redemption(
        huadong, visit, member, key="browser-1", site=Site.objects.get(name="苏州工厂")
    )
    # then its points are held and the ledger still reconciles
    assert created
    assert redemption.status == RedemptionStatus.REQUESTED
    after = ledger.balances(ledger.account_for(huadong))
    assert (after.available, after.held) == (balance.available - 400, 400)
    assert ledger.reconcile() == []


def test_seed_demo_twice_changes_no_points_and_restores_the_catalogue(demo_seed):
    # given a seeded demo whose maintenance visit a staff member changed
    first = _counts()
    balances = {
        org.slug: ledger.balances(ledger.account_for(org)) for org in Organisation.objects.all()
    }
    visit = Service.objects.get(slug="on-site-maintenance-visit")
    Service.objects.filter(pk=visit.pk).update(points_cost=9999, is_active=False)
    # when it is seeded again
    _seed()
    # then no award, entry, image, redemption, audit record or event is added
    assert _counts() == first
    assert {
        org.slug: ledger.balances(ledger.account_for(org)) for org in Organisation.objects.all()
    } == balances
    assert ledger.reconcile() == []
    # and the demo's values are back, with the illustration drawn the first time
    restored = Service.objects.get(pk=visit.pk)
    assert (restored.points_cost, restored.is_active, restored.image_id) == (
        400,
        True,
        visit.image_id,
    )


def test_seed_demo_refused_outside_the_demo_writes_no_points(settings):
    settings.GREENLOOP_IS_DEMO = False
    with pytest.raises(CommandError, match="refuses to run"):
        _seed()
    assert PointsPolicy.objects.count() == 0
    assert Service.objects.count() == 0
    assert LedgerEntry.objects.count() == 0
