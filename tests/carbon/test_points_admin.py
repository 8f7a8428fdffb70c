"""Points screens in the Wagtail admin: policies (draft, submit, four-eyes approval), the service
catalogue, the redemption queue (fulfil, reject), balances and the ledger with manual
adjustments; who may see and do what."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import carbon.points.admin  # noqa: F401 - its staff grants must exist before the groups are made
from carbon.models import (
    EntryKind,
    LedgerEntry,
    PointsAccount,
    PointsPolicy,
    PolicyStatus,
    Redemption,
    RedemptionStatus,
    Service,
)
from carbon.points import actions, ledger
from carbon.points.baselines import default_baseline_settings
from carbon.points.forms_admin import new_adjustment_key
from portal.models import AuditEvent
from portal.staff_roles import StaffRole, ensure_staff_groups
from tests.carbon.factories import ServiceFactory, fund, published_dataset
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

HOME = reverse("wagtailadmin_home")
POLICY_DATA = {
    "effective_from": "2026-01-01",
    "baseline_kg_per_tkm": "",
    "points_per_kg": "0.5",
    "include_green_power": "on",
    "pending_days": "14",
    "expiry_months": "24",
    "baselines": json.dumps(default_baseline_settings()),
    "settlement_period": "month",
    "per_period_cap": "1000",
    "explanation": "You earn half a point for every kg of CO2e your deliveries avoided.",
    "explanation_zh": "",
}


def url(viewset: str, name: str, *args) -> str:
    return reverse(f"{viewset}:{name}", args=args)


def _staff(email: str, role: str | None, enable_totp, **extra):
    ensure_staff_groups()
    user = UserFactory(email=email, is_staff=True, **extra)
    if role:
        user.groups.add(Group.objects.get(name=role))
    enable_totp(user)
    return user


@pytest.fixture
def sustainability(db, enable_totp):
    return _staff("sus@greenloop.example", StaffRole.SUSTAINABILITY, enable_totp)


@pytest.fixture
def sustainability_2(db, enable_totp):
    return _staff("sus2@greenloop.example", StaffRole.SUSTAINABILITY, enable_totp)


@pytest.fixture
def success(db, enable_totp):
    return _staff("cs@greenloop.example", StaffRole.CUSTOMER_SUCCESS, enable_totp)


@pytest.fixture
def product_staff(db, enable_totp):
    return _staff("product@greenloop.example", StaffRole.PRODUCT, enable_totp)


@pytest.fixture
def service():
    return ServiceFactory(name="Maintenance visit", points_cost=500, monthly_capacity=3)


@pytest.fixture
def requested(org_a, member_a, service):
    fund(org_a, 2000)
    redemption, _created = actions.request_redemption(
        org_a,
        service,
        member_a,
        key="admin-test-1",
        preferred_date=timezone.localdate() + dt.timedelta(days=10),
        note="Please come in the morning.",
    )
    return redemption


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _account(org) -> PointsAccount:
    return PointsAccount.objects.get(organisation=org)


# --- who sees what


SUSTAINABILITY_SCREENS = [
    ("points_policies", "index"),
    ("points_policies", "add"),
    ("points_ledger", "index"),
    ("points_ledger", "adjust"),
    ("points_accounts", "index"),
]
SUCCESS_SCREENS = [
    ("points_services", "index"),
    ("points_services", "add"),
    ("points_redemptions", "index"),
]


def test_sustainability_staff_see_policies_ledger_and_read_the_queue(
    client, sustainability, requested
):
    client.force_login(sustainability)
    for viewset, name in SUSTAINABILITY_SCREENS:
        assert client.get(url(viewset, name)).status_code == 200, (viewset, name)
    # the queue and the catalogue are readable, without the fulfil and reject actions
    assert client.get(url("points_services", "index")).status_code == 200
    html = client.get(url("points_redemptions", "index")).content.decode()
    assert "Maintenance visit" in html
    assert url("points_redemptions", "fulfil", requested.pk) not in html
    html = client.get(url("points_redemptions", "inspect", requested.pk)).content.decode()
    assert "Please come in the morning." in html
    assert url("points_redemptions", "fulfil", requested.pk) not in html
    assert url("points_redemptions", "reject", requested.pk) not in html
    assert client.get(url("points_services", "add")).status_code == 302


def test_customer_success_see_catalogue_and_queue_but_not_policies_or_ledger(
    client, success, requested
):
    client.force_login(success)
    for viewset, name in SUCCESS_SCREENS:
        assert client.get(url(viewset, name)).status_code == 200, (viewset, name)
    html = client.get(url("points_redemptions", "index")).content.decode()
    assert url("points_redemptions", "fulfil", requested.pk) in html
    assert url("points_redemptions", "reject", requested.pk) in html
    html = client.get(url("points_redemptions", "inspect", requested.pk)).content.decode()
    assert url("points_redemptions", "fulfil", requested.pk) in html
    # the organisation's balance next to the request: 2000 funded, 500 held
    assert "1500 available, 0 pending, 500 held" in html
    for viewset, name in SUSTAINABILITY_SCREENS:
        response = client.get(url(viewset, name))
        assert response.status_code == 302, (viewset, name)
        assert response["Location"] == HOME


def test_the_points_menu_lists_what_each_role_may_open(client, sustainability, success):
    client.force_login(sustainability)
    html = client.get(HOME).content.decode()
    for viewset in ("points_policies", "points_ledger", "points_accounts", "points_redemptions"):
        assert url(viewset, "index") in html, viewset
    client.force_login(success)
    html = client.get(HOME).content.decode()
    assert url("points_redemptions", "index") in html
    assert url("points_services", "index") in html
    assert url("points_policies", "index") not in html
    assert url("points_ledger", "index") not in html


def test_other_staff_and_customers_are_kept_out(client, product_staff, admin_a, requested):
    screens = [url(viewset, name) for viewset, name in SUSTAINABILITY_SCREENS + SUCCESS_SCREENS]
    inspect = url("points_redemptions", "inspect", requested.pk)
    screens += [
        url("points_redemptions", "fulfil", requested.pk),
        url("points_redemptions", "reject", requested.pk),
    ]
    targets = [*screens, inspect]
    client.force_login(product_staff)
    for target in screens:
        response = client.post(target, {"reason": "x", "assignee": "x"})
        assert response.status_code == 302, target
        assert response["Location"] == HOME, target
    client.force_login(admin_a)
    for target in targets:
        response = client.post(target, {"reason": "x", "assignee": "x"})
        assert response.status_code == 302, target
        assert response["Location"].startswith("/accounts/login/"), target
    assert Redemption.objects.get().status == RedemptionStatus.REQUESTED
    assert PointsPolicy.objects.count() == 0


@pytest.mark.postgres
def test_row_level_security_hides_a_redemption_from_staff_who_serve_no_customer(
    client, product_staff, requested
):
    # Not account-facing staff: row-level security (PostgreSQL only) hides the customer's
    # redemption itself, so its page is not found before any permission is asked.
    client.force_login(product_staff)
    inspect = url("points_redemptions", "inspect", requested.pk)
    assert client.post(inspect, {"reason": "x", "assignee": "x"}).status_code == 404
    assert Redemption.objects.get().status == RedemptionStatus.REQUESTED


# --- points policies


def test_policy_draft_submit_and_approval_by_another_staff_member(
    client, sustainability, sustainability_2
):
    published_dataset()
    PointsPolicy.objects.create(
        version=4, effective_from=dt.date(2025, 1, 1), points_per_kg=1, pending_days=1,
        expiry_months=1,
    )  # fmt: skip
    client.force_login(sustainability)
    # when a draft is created, it gets the next version and its author
    response = client.post(url("points_policies", "add"), POLICY_DATA)
    policy = PointsPolicy.objects.get(version=5)
    assert response.status_code == 302
    assert response["Location"] == url("points_policies", "inspect", policy.pk)
    assert (policy.status, policy.created_by, policy.points_per_kg, policy.per_period_cap) == (
        PolicyStatus.DRAFT,
        sustainability,
        Decimal("0.5"),
        1000,
    )
    # the inspect view shows the baseline of each service class with its cited source
    html = client.get(response["Location"]).content.decode()
    assert "deep-sea shipping: 0.01977 kgCO2e/t·km (DESNZ 2025 conversion factors" in html
    assert "modal shift: rail up to 1500 km against overland road" in html
    assert url("points_policies", "submit", policy.pk) in html
    # a draft can be edited
    response = client.post(
        url("points_policies", "edit", policy.pk), {**POLICY_DATA, "pending_days": "30"}
    )
    assert response.status_code == 302
    assert PointsPolicy.objects.get(pk=policy.pk).pending_days == 30
    # submitted, it is no longer editable and its author may not approve it
    response = client.post(url("points_policies", "submit", policy.pk))
    assert PointsPolicy.objects.get(pk=policy.pk).status == PolicyStatus.AWAITING_APPROVAL
    client.get(url("points_policies", "inspect", policy.pk))  # shows the queued messages
    html = client.get(url("points_policies", "inspect", policy.pk)).content.decode()
    assert url("points_policies", "approve", policy.pk) not in html
    assert url("points_policies", "edit", policy.pk) not in html
    response = client.post(url("points_policies", "approve", policy.pk))
    assert response.status_code == 302
    assert "A policy must be approved by someone other than its submitter." in _messages(response)
    response = client.get(url("points_policies", "approve", policy.pk))
    assert response.status_code == 302
    assert PointsPolicy.objects.get(pk=policy.pk).status == PolicyStatus.AWAITING_APPROVAL
    response = client.post(
        url("points_policies", "edit", policy.pk), {**POLICY_DATA, "pending_days": "1"}
    )
    assert response.status_code == 302
    assert PointsPolicy.objects.get(pk=policy.pk).pending_days == 30
    # when another sustainability staff member approves it
    client.force_login(sustainability_2)
    html = client.get(url("points_policies", "inspect", policy.pk)).content.decode()
    assert url("points_policies", "approve", policy.pk) in html
    assert client.get(url("points_policies", "approve", policy.pk)).status_code == 200
    response = client.post(url("points_policies", "approve", policy.pk))
    # then it is active, with the approval in the audit trail
    stored = PointsPolicy.objects.get(pk=policy.pk)
    assert (stored.status, stored.submitted_by, stored.approved_by) == (
        PolicyStatus.ACTIVE,
        sustainability,
        sustainability_2,
    )
    assert "Approved version 5. It applies to orders delivered from 2026-01-01." in _messages(
        response
    )
    approval = AuditEvent.objects.get(action="carbon.points_policy.approved")
    assert (approval.actor, approval.object_id) == (sustainability_2, str(policy.pk))
    assert AuditEvent.objects.filter(action="carbon.points_policy.created").count() == 1
    index = client.get(url("points_policies", "index")).content.decode()
    assert "Active" in index


def test_a_new_draft_starts_from_an_active_version_and_leaves_it_unchanged(client, sustainability):
    active = PointsPolicy.objects.create(
        version=1, effective_from=dt.date(2025, 1, 1), points_per_kg=1, pending_days=14,
        expiry_months=12, explanation="One point per kg.", status=PolicyStatus.ACTIVE,
        submitted_by=UserFactory(is_staff=True), approved_by=sustainability,
        approved_at=timezone.now(),
    )  # fmt: skip
    client.force_login(sustainability)
    html = client.get(url("points_policies", "inspect", active.pk)).content.decode()
    assert url("points_policies", "copy", active.pk) in html
    assert url("points_policies", "edit", active.pk) not in html
    form = client.get(url("points_policies", "copy", active.pk)).content.decode()
    assert "One point per kg." in form
    response = client.post(
        url("points_policies", "copy", active.pk),
        {**POLICY_DATA, "points_per_kg": "2", "effective_from": "2027-01-01"},
    )
    assert response.status_code == 302
    draft = PointsPolicy.objects.get(version=2)
    assert (draft.status, draft.points_per_kg, draft.approved_by, draft.created_by) == (
        PolicyStatus.DRAFT,
        Decimal(2),
        None,
        sustainability,
    )
    unchanged = PointsPolicy.objects.get(pk=active.pk)
    assert (unchanged.status, unchanged.points_per_kg) == (PolicyStatus.ACTIVE, Decimal(1))


def test_a_policy_with_a_negative_rate_is_refused(client, sustainability):
    client.force_login(sustainability)
    response = client.post(url("points_policies", "add"), {**POLICY_DATA, "points_per_kg": "-1"})
    assert response.status_code == 200
    assert "Cannot be negative." in response.content.decode()
    assert PointsPolicy.objects.count() == 0


def test_customer_success_cannot_submit_or_approve(client, success, sustainability):
    policy = PointsPolicy.objects.create(
        version=1, effective_from=dt.date(2026, 1, 1), points_per_kg=1, pending_days=1,
        expiry_months=1, status=PolicyStatus.AWAITING_APPROVAL, submitted_by=sustainability,
    )  # fmt: skip
    client.force_login(success)
    for name in ("submit", "approve", "inspect"):
        response = client.post(url("points_policies", name, policy.pk))
        assert response.status_code == 302
        assert response["Location"] == HOME
    assert PointsPolicy.objects.get(pk=policy.pk).status == PolicyStatus.AWAITING_APPROVAL


# --- service catalogue


SERVICE_DATA = {
    "name": "Extended warranty",
    "name_zh": "",
    "slug": "",
    "kind": "extended_warranty",
    "description": "One more year of warranty on a delivered product.",
    "description_zh": "",
    "points_cost": "800",
    "monthly_capacity": "",
    "eligible_tiers": ["gold", "strategic"],
    "eligible_countries": "de, at CH",
    "is_active": "on",
    "active_from": "",
    "active_until": "",
    "sort_order": "0",
}


@pytest.fixture
def image(settings, tmp_path):
    from wagtail.images.models import Image
    from wagtail.images.tests.utils import get_test_image_file

    settings.MEDIA_ROOT = tmp_path
    return Image.objects.create(title="Warranty", file=get_test_image_file())


def test_customer_success_create_a_service_with_an_image(client, success, image):
    client.force_login(success)
    html = client.get(url("points_services", "add")).content.decode()
    assert "Choose an image" in html
    response = client.post(url("points_services", "add"), {**SERVICE_DATA, "image": image.pk})
    assert response.status_code == 302
    service = Service.objects.get()
    assert (service.slug, service.image, service.points_cost) == (
        "extended-warranty",
        image,
        800,
    )
    assert service.eligible_tiers == ["gold", "strategic"]
    assert service.eligible_countries == ["AT", "CH", "DE"]
    # the edit form shows the codes as they are typed
    html = client.get(url("points_services", "edit", service.pk)).content.decode()
    assert 'value="AT, CH, DE"' in html


def test_creating_and_changing_a_service_goes_to_the_audit_trail(client, success):
    client.force_login(success)
    # when customer success add a service to the catalogue
    assert client.post(url("points_services", "add"), SERVICE_DATA).status_code == 302
    service = Service.objects.get()
    # and then raise its cost and limit it to 5 places a month
    changes = {"slug": service.slug, "points_cost": "900", "monthly_capacity": "5"}
    response = client.post(url("points_services", "edit", service.pk), {**SERVICE_DATA, **changes})
    assert response.status_code == 302
    # then both steps are on the audit trail, by whom and with what changed
    trail = AuditEvent.objects.filter(action__startswith="carbon.service_").order_by("pk")
    created, changed = trail
    assert (created.action, created.actor, created.object_id) == (
        "carbon.service_created",
        success,
        str(service.pk),
    )
    assert created.details["slug"] == "extended-warranty"
    assert created.details["points_cost"] == 800
    assert created.details["eligible_countries"] == ["AT", "CH", "DE"]
    assert created.details["image"] is None
    assert (changed.action, changed.actor) == ("carbon.service_changed", success)
    assert sorted(changed.details["changed"]) == ["monthly_capacity", "points_cost"]
    assert (changed.details["points_cost"], changed.details["monthly_capacity"]) == (900, 5)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"eligible_countries": "DE, DEU, x1"}, "DEU, X1: use two-letter ISO 3166-1 codes"),
        ({"points_cost": "0"}, "A service costs at least one point."),
        (
            {"active_from": "2026-05-01", "active_until": "2026-04-01"},
            "The end of the window is before its start.",
        ),
        ({"eligible_tiers": ["platinum"]}, "Select a valid choice."),
    ],
)
def test_bad_service_input_is_refused_with_a_clear_message(client, success, changes, message):
    client.force_login(success)
    response = client.post(url("points_services", "add"), {**SERVICE_DATA, **changes})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Service.objects.count() == 0


def test_the_catalogue_lists_cost_capacity_and_use_this_month(client, success, requested):
    ServiceFactory(name="Training seat", is_active=False)
    client.force_login(success)
    html = client.get(url("points_services", "index")).content.decode()
    rows = re.findall(r"<tr.*?</tr>", html, re.S)
    row = next(r for r in rows if "Maintenance visit" in r)
    cells = re.findall(r"<td[^>]*>\s*(.*?)\s*</td>", row, re.S)
    assert cells[2:5] == ["500", "3", "1"]
    assert "Training seat" in html


# --- redemption queue


def test_customer_success_fulfil_a_request(
    client, success, superuser, requested, member_a, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(success)
    form = client.get(url("points_redemptions", "fulfil", requested.pk))
    assert form.status_code == 200
    assert "Please come in the morning." in form.content.decode()
    day = timezone.localdate() + dt.timedelta(days=12)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("points_redemptions", "fulfil", requested.pk),
            {"scheduled_for": day.isoformat(), "assignee": "Jan Becker", "note": "Bring the key"},
        )
    assert response.status_code == 302
    assert response["Location"] == url("points_redemptions", "index")
    assert any(m.startswith("Fulfilled:") for m in _messages(response))
    stored = Redemption.objects.get(pk=requested.pk)
    assert (stored.status, stored.scheduled_for, stored.assignee, stored.staff_note) == (
        RedemptionStatus.FULFILLED,
        day,
        "Jan Becker",
        "Bring the key",
    )
    assert stored.decided_by == success
    assert (
        LedgerEntry.objects.filter(redemption_id=requested.pk, kind=EntryKind.CAPTURE).count() == 1
    )
    account = _account(requested.organisation)
    assert (account.available, account.held) == (1500, 0)
    assert [m.to for m in mailoutbox] == [[member_a.email]]
    # the ledger links its entries to the redemption
    client.force_login(superuser)
    html = client.get(url("points_ledger", "index")).content.decode()
    assert url("points_redemptions", "inspect", requested.pk) in html
    client.force_login(success)
    # the queue (open requests by default) is empty now
    html = client.get(url("points_redemptions", "index")).content.decode()
    assert url("points_redemptions", "inspect", requested.pk) not in html


def test_customer_success_reject_a_request(
    client, success, requested, member_a, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(success)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("points_redemptions", "reject", requested.pk),
            {"reason": "No engineer is free in your region this month."},
        )
    assert response.status_code == 302
    assert response["Location"] == url("points_redemptions", "index")
    stored = Redemption.objects.get(pk=requested.pk)
    assert (stored.status, stored.staff_note) == (
        RedemptionStatus.REJECTED,
        "No engineer is free in your region this month.",
    )
    assert (
        LedgerEntry.objects.filter(redemption_id=requested.pk, kind=EntryKind.RELEASE).count() == 1
    )
    account = _account(requested.organisation)
    assert (account.available, account.held) == (2000, 0)
    assert [m.to for m in mailoutbox] == [[member_a.email]]


def test_fulfil_needs_a_date_and_an_assignee_and_changes_nothing_otherwise(
    client, success, requested
):
    client.force_login(success)
    response = client.post(
        url("points_redemptions", "fulfil", requested.pk), {"scheduled_for": "", "assignee": " "}
    )
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert Redemption.objects.get(pk=requested.pk).status == RedemptionStatus.REQUESTED
    assert _account(requested.organisation).held == 500


def test_a_decided_redemption_cannot_be_decided_again(client, success, requested):
    client.force_login(success)
    client.post(url("points_redemptions", "reject", requested.pk), {"reason": "Not possible."})
    response = client.post(
        url("points_redemptions", "fulfil", requested.pk),
        {"scheduled_for": "2030-01-01", "assignee": "Jan"},
    )
    assert response.status_code == 302
    assert response["Location"] == url("points_redemptions", "inspect", requested.pk)
    assert "This redemption is already rejected." in _messages(response)
    assert Redemption.objects.get(pk=requested.pk).status == RedemptionStatus.REJECTED
    assert LedgerEntry.objects.filter(redemption_id=requested.pk).count() == 2


def test_sustainability_staff_cannot_fulfil(client, sustainability, requested):
    client.force_login(sustainability)
    response = client.post(
        url("points_redemptions", "fulfil", requested.pk),
        {"scheduled_for": "2030-01-01", "assignee": "Jan"},
    )
    assert response.status_code == 302
    assert response["Location"] == HOME
    assert Redemption.objects.get(pk=requested.pk).status == RedemptionStatus.REQUESTED


def _redeem(organisation, service, by, n):
    for i in range(n):
        actions.request_redemption(
            organisation, service, by, key=f"{organisation.pk}-{service.pk}-{i}"
        )


def test_the_queue_shows_open_requests_oldest_first_and_filters(
    client, success, org_a, org_b, member_a, member_b
):
    first, second = ServiceFactory(name="Visit A"), ServiceFactory(name="Visit B")
    fund(org_a, 5000)
    fund(org_b, 5000)
    older, _ = actions.request_redemption(org_a, first, member_a, key="1")
    newer, _ = actions.request_redemption(org_b, second, member_b, key="2")
    closed, _ = actions.request_redemption(org_a, second, member_a, key="3")
    actions.cancel(closed, member_a)
    client.force_login(success)
    html = client.get(url("points_redemptions", "index")).content.decode()
    inspect = [url("points_redemptions", "inspect", r.pk) for r in (older, newer, closed)]
    assert inspect[0] in html
    assert inspect[1] in html
    assert inspect[2] not in html
    assert html.index(inspect[0]) < html.index(inspect[1])
    html = client.get(url("points_redemptions", "index"), {"status": "all"}).content.decode()
    assert all(link in html for link in inspect)
    html = client.get(
        url("points_redemptions", "index"), {"organisation": org_b.pk}
    ).content.decode()
    assert inspect[1] in html
    assert inspect[0] not in html
    html = client.get(
        url("points_redemptions", "index"), {"status": "all", "service": second.pk}
    ).content.decode()
    assert inspect[1] in html
    assert inspect[2] in html
    assert inspect[0] not in html


def test_the_queue_runs_no_query_per_row(client, success, django_assert_max_num_queries):
    client.force_login(success)
    service = ServiceFactory(monthly_capacity=None, points_cost=10)
    organisations = [OrganisationFactory() for _ in range(12)]
    for organisation in organisations:
        fund(organisation, 100)
    _redeem(organisations[0], service, None, 2)
    # Signing in saves the last login, which forgets the person's kept row: the first page
    # reads it from the database, the next ones from the shared cache. Compare the latter.
    client.get(url("points_redemptions", "index"))
    with CaptureQueriesContext(connection) as few:
        assert client.get(url("points_redemptions", "index")).status_code == 200
    for organisation in organisations[1:]:
        _redeem(organisation, service, None, 2)
    with CaptureQueriesContext(connection) as many:
        html = client.get(url("points_redemptions", "index")).content.decode()
    assert html.count(url("points_redemptions", "fulfil", 1)[:-2]) >= 24
    assert len(many) == len(few)
    with django_assert_max_num_queries(len(few)):
        client.get(url("points_redemptions", "index"))


# --- balances, ledger and manual adjustments


def test_a_manual_adjustment_submitted_twice_writes_once(client, sustainability, org_a):
    client.force_login(sustainability)
    form = client.get(url("points_ledger", "adjust"), {"organisation": org_a.pk})
    html = form.content.decode()
    key = re.search(r'name="key" value="([^"]+)"', html).group(1)
    assert f'<option value="{org_a.pk}" selected>' in html
    data = {"organisation": org_a.pk, "points": "-40", "reason": "Duplicate order", "key": key}
    fund(org_a, 100)
    first = client.post(url("points_ledger", "adjust"), data)
    second = client.post(url("points_ledger", "adjust"), data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == url("points_ledger", "index") + f"?organisation={org_a.pk}"
    entry = LedgerEntry.objects.get(kind=EntryKind.ADJUST, reason="Duplicate order")
    assert (entry.points, entry.available_delta, entry.approved_by) == (40, -40, sustainability)
    assert _account(org_a).available == 60
    assert (
        AuditEvent.objects.filter(action="carbon.points.adjusted", actor=sustainability).count()
        == 1
    )
    # the ledger, filtered to the organisation, shows the entry and the balances
    html = client.get(first["Location"]).content.decode()
    assert "Duplicate order (approved by" in html
    assert "60 available, 0 pending, 0 held" in html
    # a new rendering of the form gets a new key
    again = client.get(url("points_ledger", "adjust")).content.decode()
    assert key not in again


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"points": "0"}, "An adjustment must change the balance."),
        ({"reason": "   "}, "This field is required."),
        ({"key": "admin-adjust:forged"}, "This form has expired; open it again."),
    ],
)
def test_a_bad_adjustment_writes_nothing(client, sustainability, org_a, changes, message):
    client.force_login(sustainability)
    data = {
        "organisation": org_a.pk,
        "points": "10",
        "reason": "Goodwill",
        "key": new_adjustment_key(),
    }
    response = client.post(url("points_ledger", "adjust"), {**data, **changes})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert LedgerEntry.objects.count() == 0


def test_only_sustainability_staff_approve_adjustments(client, success, superuser, org_a):
    data = {
        "organisation": org_a.pk,
        "points": "10",
        "reason": "Goodwill",
        "key": new_adjustment_key(),
    }
    client.force_login(success)
    response = client.post(url("points_ledger", "adjust"), data)
    assert response.status_code == 302
    assert response["Location"] == HOME
    assert LedgerEntry.objects.count() == 0
    client.force_login(superuser)
    assert client.post(url("points_ledger", "adjust"), data).status_code == 302
    assert LedgerEntry.objects.get().approved_by == superuser


def test_balances_list_and_account_show_the_summed_balances(client, sustainability, org_a, org_b):
    fund(org_a, 250)
    fund(org_b, 70)
    client.force_login(sustainability)
    html = client.get(url("points_accounts", "index")).content.decode()
    assert org_a.name in html
    assert org_b.name in html
    account = _account(org_a)
    html = client.get(url("points_accounts", "inspect", account.pk)).content.decode()
    assert "250 available, 0 pending, 0 held" in html
    assert "Test funding" in html
    assert reverse("points_ledger:adjust") + f"?organisation={org_a.pk}" in html
    html = client.get(url("points_ledger", "index"), {"kind": "adjust"}).content.decode()
    assert html.count("Test funding") == 2
    assert ledger.balances(account).available == 250


@pytest.mark.parametrize("organisation", ["²", "1²"])
def test_an_organisation_id_in_other_digits_is_ignored_not_a_500(
    client, sustainability, organisation
):
    # given digits that str.isdigit() accepts but int() does not
    client.force_login(sustainability)
    # when the adjustment form and the ledger are opened with them / then nothing breaks
    assert (
        client.get(url("points_ledger", "adjust"), {"organisation": organisation}).status_code
        == 200
    )
    assert (
        client.get(url("points_ledger", "index"), {"organisation": organisation}).status_code == 200
    )
