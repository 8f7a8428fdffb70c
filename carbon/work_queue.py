"""Carbon's rows in the admin home's work queue (portal.admin_work_queue): declarations to verify,
redemptions to fulfil, datasets and policies to approve, each only for the role that acts on it.
Four-eyes queues leave out what the person submitted or checked: they cannot finish it."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from carbon.footprint.permissions import can_manage_datasets, can_verify
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
from carbon.points.permissions import can_fulfil, can_manage_policies
from portal.admin_work_queue import HOOK_NAME, WorkQueueItem


@hooks.register(HOOK_NAME)
def declarations_to_verify(request) -> WorkQueueItem | None:
    user = request.user
    if not can_verify(user):
        return None
    waiting = GreenPowerDeclaration.objects.filter(
        Q(status=DeclarationStatus.PENDING)
        | (Q(status=DeclarationStatus.CHECKED) & ~Q(checked_by=user))
    )
    return WorkQueueItem.from_aggregate(
        "declarations",
        _("Green-power declarations awaiting verification"),
        waiting,
        "submitted_at",
        url=reverse("carbon_declarations:index"),
        order=10,
    )


@hooks.register(HOOK_NAME)
def redemptions_to_fulfil(request) -> WorkQueueItem | None:
    if not can_fulfil(request.user):
        return None
    return WorkQueueItem.from_aggregate(
        "redemptions",
        _("Redemptions to fulfil"),
        Redemption.objects.filter(status=RedemptionStatus.REQUESTED),
        "requested_at",
        url=reverse("points_redemptions:index"),
        order=20,
    )


@hooks.register(HOOK_NAME)
def datasets_to_approve(request) -> WorkQueueItem | None:
    user = request.user
    if not can_manage_datasets(user):
        return None
    return WorkQueueItem.from_aggregate(
        "datasets",
        _("Emission-factor datasets awaiting approval"),
        FactorDataset.objects.filter(status=DatasetStatus.AWAITING_APPROVAL).exclude(
            submitted_by=user
        ),
        "created_at",
        url=reverse("carbon_datasets:index") + f"?status={DatasetStatus.AWAITING_APPROVAL}",
        order=40,
    )


@hooks.register(HOOK_NAME)
def policies_to_approve(request) -> WorkQueueItem | None:
    user = request.user
    if not can_manage_policies(user):
        return None
    return WorkQueueItem.from_aggregate(
        "policies",
        _("Points policies awaiting approval"),
        PointsPolicy.objects.filter(status=PolicyStatus.AWAITING_APPROVAL).exclude(
            submitted_by=user
        ),
        "created_at",
        url=reverse("points_policies:index") + f"?status={PolicyStatus.AWAITING_APPROVAL}",
        order=50,
    )
