"""Spaces the community creates on its own, in reaction to other plugins' events (staff create
the others in the admin, community.admin_spaces).

A beta cohort's private discussion space: the beta plugin's `greenloop.beta.cohort_created`
(version 2) names the cohort's Django group and whether staff asked for a space. The space is
visible to that group only and is named neutrally after the cohort's id, "Beta cohort 12": the
event carries ids and flags only, and the group's own name holds the programme's slug and the
cohort's name, which are confidential under an NDA. Community lists, search, digests and the
moderation screens are not NDA-gated, so nothing of that text is copied into the community;
staff may rename the space in the admin.
"""

from __future__ import annotations

import logging

from django.contrib.auth.models import Group
from django.db import transaction

from community.models import Audience, Space, WhoCanPost
from portal import audit
from portal.models import User

logger = logging.getLogger(__name__)

COHORT_SPACE_NAME = "Beta cohort {cohort_id}"
COHORT_SPACE_SLUG = "beta-cohort-{cohort_id}"
COHORT_SPACE_DESCRIPTION = (
    "Private discussion space of a beta cohort: only the cohort's members and vendor staff see it."
)


def _free_slug(base: str) -> str:
    slug, n = base, 1
    while Space.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def create_cohort_space(group_id: int, cohort_id: int, created_by_id: int | None) -> Space | None:
    """A private space restricted to the group `group_id`, unless a space restricted to that
    group exists already (archived or renamed ones count): replaying the event, or delivering it
    twice at once (the group's row is locked), creates nothing new. Returns the new space, or
    None when there was nothing to create. Audited as staff's own space creation is, with the
    staff member who created the cohort as the actor."""
    with transaction.atomic():
        group = Group.objects.select_for_update().filter(pk=group_id).first()
        if group is None:
            logger.warning("Cohort %s: group %s is gone; no space created", cohort_id, group_id)
            return None
        if Space.objects.filter(audience=Audience.GROUPS, groups=group).exists():
            return None
        creator = User.objects.filter(pk=created_by_id, is_staff=True, is_active=True).first()
        space = Space.objects.create(
            name=COHORT_SPACE_NAME.format(cohort_id=cohort_id),
            slug=_free_slug(COHORT_SPACE_SLUG.format(cohort_id=cohort_id)),
            description=COHORT_SPACE_DESCRIPTION,
            audience=Audience.GROUPS,
            who_can_post=WhoCanPost.MEMBERS,
            created_by=creator,
        )
        space.groups.add(group)
        audit.record(
            "community.space_created",
            actor=creator,
            obj=space,
            details={
                # The fields the admin's record of a new space holds (community.admin_spaces).
                "name": space.name,
                "slug": space.slug,
                "parent": None,
                "audience": space.audience,
                "tiers": [],
                "who_can_post": space.who_can_post,
                "is_archived": False,
                "groups": [group.pk],
                "cohort_id": cohort_id,
                "reason": "greenloop.beta.cohort_created",
            },
        )
    return space
