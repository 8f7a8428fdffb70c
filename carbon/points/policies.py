"""Points policies: drafting, editing a draft, submitting, and approval by a second person. The
policy in force at an order's delivery decides its award (carbon.points.ledger)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from carbon.models import (
    PointsPolicy,
    PolicyStatus,
)
from carbon.points.exceptions import PolicyError
from portal import audit
from portal.models import User

POLICY_FIELDS = [
    "effective_from",
    "baseline_kg_per_tkm",
    "points_per_kg",
    "include_green_power",
    "pending_days",
    "expiry_months",
    "per_order_cap",
    "explanation",
    "explanation_zh",
]


def create_draft_policy(policy: PointsPolicy, by: User) -> PointsPolicy:
    """Store `policy` (its parameters filled in) as a new draft with the next version number.
    The unique version backs the numbering; a concurrent draft that took the number first makes
    this one retry with the next."""
    for attempt in range(3):
        try:
            with transaction.atomic():
                latest = PointsPolicy.objects.aggregate(v=Max("version"))["v"] or 0
                policy.version = latest + 1
                policy.status = PolicyStatus.DRAFT
                policy.created_by = by
                policy.submitted_by = policy.approved_by = policy.approved_at = None
                policy.save()
                audit.record(
                    "carbon.points_policy.created",
                    actor=by,
                    obj=policy,
                    details={"version": policy.version},
                )
            return policy
        except IntegrityError:
            if attempt == 2:
                raise
            policy.pk = None
    return policy  # pragma: no cover - the loop returns or raises


def update_draft_policy(policy: PointsPolicy, by: User) -> PointsPolicy:
    """Save the edited parameters of a draft; refused once it has been submitted (checked under
    the row lock, so an edit cannot slip in after a submission)."""
    with transaction.atomic():
        current = PointsPolicy.objects.select_for_update().get(pk=policy.pk)
        if current.status != PolicyStatus.DRAFT:
            raise PolicyError(
                f"Only a draft policy can be edited; this one is "
                f"{current.get_status_display().lower()}.",
                code="policy_not_draft",
            )
        policy.save(update_fields=POLICY_FIELDS)
        audit.record(
            "carbon.points_policy.updated",
            actor=by,
            obj=policy,
            details={"version": policy.version},
        )
    return policy


def submit_policy(policy: PointsPolicy, by: User) -> PointsPolicy:
    """Send a draft policy for approval by another staff member."""
    with transaction.atomic():
        policy = PointsPolicy.objects.select_for_update().get(pk=policy.pk)
        if policy.status != PolicyStatus.DRAFT:
            raise PolicyError("Only a draft policy can be submitted.", code="policy_not_draft")
        policy.status = PolicyStatus.AWAITING_APPROVAL
        policy.submitted_by = by
        policy.save(update_fields=["status", "submitted_by"])
        audit.record("carbon.points_policy.submitted", actor=by, obj=policy)
    return policy


def approve_policy(policy: PointsPolicy, by: User) -> PointsPolicy:
    """Activate a submitted policy from its `effective_from`. Four eyes: the approver must be a
    staff member other than the submitter (a CHECK constraint backs this)."""
    with transaction.atomic():
        policy = PointsPolicy.objects.select_for_update().get(pk=policy.pk)
        if policy.status != PolicyStatus.AWAITING_APPROVAL:
            raise PolicyError(
                "Only a submitted policy can be approved.", code="policy_not_submitted"
            )
        if not getattr(by, "is_staff", False):
            raise PolicyError("Only staff can approve a points policy.", code="policy_not_staff")
        if by.pk == policy.submitted_by_id:
            raise PolicyError(
                "A policy must be approved by someone other than its submitter.",
                code="policy_four_eyes",
            )
        policy.status = PolicyStatus.ACTIVE
        policy.approved_by = by
        policy.approved_at = timezone.now()
        policy.save(update_fields=["status", "approved_by", "approved_at"])
        audit.record(
            "carbon.points_policy.approved",
            actor=by,
            obj=policy,
            details={"version": policy.version, "effective_from": str(policy.effective_from)},
        )
    return policy
