"""The community's reactions to other plugins' events (it never imports them: the contract is
the event catalogue). Handlers run after the publishing change commits (portal.events) and
hand the work to a Celery task, which takes ids and is safe to run twice.

`greenloop.beta.cohort_created` (version 2) with `create_space`: a private discussion space for
the cohort's group (community.space_actions explains its neutral name).
"""

from __future__ import annotations

from community.tasks import create_cohort_space
from portal import events
from portal.models import OutboxEvent

# The beta plugin's event type, by name.
COHORT_CREATED = "greenloop.beta.cohort_created"


def _identifier(value: object) -> int | None:
    # bool is an int in Python; an id is not.
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def on_cohort_created(event: OutboxEvent) -> None:
    data = event.data or {}
    group_id, cohort_id = _identifier(data.get("group_id")), _identifier(data.get("cohort_id"))
    # Version 1 had no flag: such an event asks for nothing.
    if data.get("create_space") is True and group_id and cohort_id:
        create_cohort_space.delay(group_id, cohort_id, _identifier(data.get("created_by")))


def register() -> None:
    events.subscribe(COHORT_CREATED, on_cohort_created)
