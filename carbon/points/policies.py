"""Points policies: the parameters a policy sets and the rules of its workflow (a draft is edited
and submitted, then approved by a second staff member). The policy in force at an order's
delivery decides its award (carbon.points.awards). The writes are in carbon.points.actions."""

from __future__ import annotations

from carbon.models import PointsPolicy, PolicyStatus
from carbon.points.exceptions import PolicyError
from portal.models import User

POLICY_FIELDS = [
    "effective_from",
    "baseline_kg_per_tkm",
    "baselines",
    "settlement_period",
    "points_per_kg",
    "include_green_power",
    "pending_days",
    "expiry_months",
    "per_period_cap",
    "explanation",
    "explanation_zh",
]


def check_editable(policy: PointsPolicy) -> None:
    """Only a draft is edited: refused once it has been submitted."""
    if policy.status != PolicyStatus.DRAFT:
        raise PolicyError(
            f"Only a draft policy can be edited; this one is "
            f"{policy.get_status_display().lower()}.",
            code="policy_not_draft",
        )


def check_approval(policy: PointsPolicy, by: User) -> None:
    """Four eyes: only a submitted policy is approved, by a staff member other than its
    submitter (a CHECK constraint backs this)."""
    if policy.status != PolicyStatus.AWAITING_APPROVAL:
        raise PolicyError("Only a submitted policy can be approved.", code="policy_not_submitted")
    if not getattr(by, "is_staff", False):
        raise PolicyError("Only staff can approve a points policy.", code="policy_not_staff")
    if by.pk == policy.submitted_by_id:
        raise PolicyError(
            "A policy must be approved by someone other than its submitter.",
            code="policy_four_eyes",
        )
