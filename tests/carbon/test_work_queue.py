"""Carbon's rows in the admin home's work queue: each role sees only the queues it acts on,
with exact counts and the age of the oldest, and four-eyes queues leave out one's own work."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from carbon.models import (
    DatasetStatus,
    DeclarationStatus,
    FactorDataset,
    GreenPowerDeclaration,
    PointsPolicy,
    PolicyStatus,
    Redemption,
    RedemptionStatus,
)
from tests.carbon.factories import (
    FactorDatasetFactory,
    GreenPowerDeclarationFactory,
    ServiceFactory,
)
from tests.factories import UserFactory
from tests.work_queue import work_queue

pytestmark = pytest.mark.django_db


def _age(queryset, field: str, days: int) -> None:
    queryset.update(**{field: timezone.now() - dt.timedelta(days=days)})


@pytest.fixture
def waiting(org_a, org_b):
    """Across two organisations: two pending declarations (5 and 2 days old), one checked by
    someone else, one verified; a requested redemption 3 days old and a fulfilled one."""
    pending = [
        GreenPowerDeclarationFactory(
            organisation=org, status=DeclarationStatus.PENDING, checked_by=None, verified_by=None
        )
        for org in (org_a, org_b)
    ]
    _age(GreenPowerDeclaration.objects.filter(pk=pending[0].pk), "submitted_at", 5)
    _age(GreenPowerDeclaration.objects.filter(pk=pending[1].pk), "submitted_at", 2)
    GreenPowerDeclarationFactory(
        organisation=org_a, status=DeclarationStatus.CHECKED, verified_by=None
    )
    GreenPowerDeclarationFactory(organisation=org_b)
    service = ServiceFactory()
    month = timezone.localdate().replace(day=1)
    Redemption.objects.create(organisation=org_a, service=service, points=500, capacity_month=month)
    Redemption.objects.create(
        organisation=org_b, service=service, points=500, capacity_month=month,
        status=RedemptionStatus.FULFILLED, decided_at=timezone.now(), decided_by=UserFactory(),
        scheduled_for=timezone.localdate(),
    )  # fmt: skip
    _age(Redemption.objects.all(), "requested_at", 3)


def test_sustainability_staff_see_declarations_datasets_and_policies(
    client, sustainability, waiting
):
    client.force_login(sustainability)
    rows = work_queue(client)
    assert sorted(rows) == ["datasets", "declarations", "policies"]
    assert rows["declarations"] == (
        "Green-power declarations awaiting verification",
        "3",
        "5 days",
        "/admin/carbon_declarations/",
    )
    assert rows["datasets"][1:3] == ("0", "—")
    assert rows["policies"][1:3] == ("0", "—")


def test_customer_success_staff_see_redemptions_to_fulfil_only(client, staff_success, waiting):
    client.force_login(staff_success)
    assert work_queue(client) == {
        "redemptions": ("Redemptions to fulfil", "1", "3 days", "/admin/points_redemptions/")
    }


def test_a_checker_does_not_count_what_they_checked_themselves(client, sustainability, org_a):
    # given a declaration this person checked (a second verifier must finish it) and one
    # checked by a colleague
    GreenPowerDeclarationFactory(
        organisation=org_a, status=DeclarationStatus.CHECKED, checked_by=sustainability,
        verified_by=None,
    )  # fmt: skip
    GreenPowerDeclarationFactory(
        organisation=org_a, status=DeclarationStatus.CHECKED, verified_by=None
    )
    client.force_login(sustainability)
    assert work_queue(client)["declarations"][1] == "1"


def test_datasets_and_policies_submitted_by_someone_else_wait_for_this_approver(
    client, sustainability
):
    colleague = UserFactory(is_staff=True)
    for who in (colleague, sustainability):
        FactorDatasetFactory(status=DatasetStatus.AWAITING_APPROVAL, submitted_by=who)
    _age(FactorDataset.objects.all(), "created_at", 1)
    for version, who in ((7, colleague), (8, sustainability)):
        PointsPolicy.objects.create(
            version=version, effective_from=dt.date(2025, 1, 1), points_per_kg=1, pending_days=1,
            expiry_months=1, status=PolicyStatus.AWAITING_APPROVAL, submitted_by=who,
        )  # fmt: skip
    client.force_login(sustainability)
    rows = work_queue(client)
    assert rows["datasets"] == (
        "Emission-factor datasets awaiting approval",
        "1",
        "1 day",
        "/admin/carbon_datasets/?status=awaiting_approval",
    )
    assert rows["policies"][:2] == ("Points policies awaiting approval", "1")
    assert rows["policies"][3] == "/admin/points_policies/?status=awaiting_approval"


def test_the_queue_links_open_for_the_role(client, sustainability, staff_success, waiting):
    for user in (sustainability, staff_success):
        client.force_login(user)
        for _label, _count, _age_text, link in work_queue(client).values():
            assert client.get(link).status_code == 200, link
