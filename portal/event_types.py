"""The portal's own event types in the catalogue (portal.event_catalogue). Imported from
PortalConfig.ready(); plugins register theirs in their own `events.py`."""

from __future__ import annotations

from portal.event_catalogue import (
    BOOLEAN,
    DATE,
    DATETIME,
    choice,
    identifier,
    integer,
    nullable,
    register,
    string,
)
from portal.models import Role

MEMBER_INVITED = "greenloop.account.member_invited"
MEMBER_JOINED = "greenloop.account.member_joined"
MEMBER_REMOVED = "greenloop.account.member_removed"
MEMBER_ROLE_CHANGED = "greenloop.account.member_role_changed"
PERSONAL_DATA_EXPORTED = "greenloop.account.personal_data_exported"
PERSONAL_DATA_ERASED = "greenloop.account.personal_data_erased"
ACCOUNT_SIGNALS = "greenloop.account.signals"

USER_SUBJECT = r"users/\d+"
ROLE = choice(Role.values, "the membership's role")
PERSON = identifier("person (portal user)")

register(
    MEMBER_INVITED,
    version=2,
    subject=r"invitations/\d+",
    description="An admin invited someone into the organisation (the address stays in the portal).",
    owner="portal",
    properties={"invitation_id": identifier("invitation"), "role": ROLE},
)
register(
    MEMBER_JOINED,
    version=2,
    subject=USER_SUBJECT,
    description="An invited person accepted and became a member.",
    owner="portal",
    properties={"user_id": PERSON, "role": ROLE},
)
register(
    MEMBER_REMOVED,
    version=1,
    subject=USER_SUBJECT,
    description="A member left, was removed by an admin, or erased their account.",
    owner="portal",
    properties={
        "user_id": PERSON,
        "left": {**BOOLEAN, "description": "the person left on their own"},
        "erased": {**BOOLEAN, "description": "as part of erasing their personal data"},
    },
)
register(
    MEMBER_ROLE_CHANGED,
    version=1,
    subject=USER_SUBJECT,
    description="An admin changed a member's role.",
    owner="portal",
    properties={"user_id": PERSON, "from": ROLE, "to": ROLE},
)
register(
    PERSONAL_DATA_EXPORTED,
    version=1,
    subject=USER_SUBJECT,
    description="A person downloaded their personal data (one event per organisation).",
    owner="portal",
    properties={"user_id": PERSON},
)
register(
    PERSONAL_DATA_ERASED,
    version=1,
    subject=USER_SUBJECT,
    description="A person's account was erased (one event per organisation they belonged to).",
    owner="portal",
    properties={"user_id": PERSON},
)

SCORE = {**integer("0-100; null when nothing could be scored", minimum=0), "maximum": 100}
_COMPONENT = {
    "type": "object",
    "properties": {
        "key": string("component key, e.g. active_users", pattern=r"^[a-z][a-z0-9_]*$"),
        "score": nullable(SCORE),
        "weight": {"type": "number", "minimum": 0},
        "source": string("the app that contributed it"),
        "signals": {
            "type": "object",
            "description": "the raw figures behind the score (numbers, dates, null)",
            "additionalProperties": {"type": ["number", "string", "null", "boolean"]},
        },
    },
    "required": ["key", "score", "weight", "source", "signals"],
    "additionalProperties": False,
}
register(
    ACCOUNT_SIGNALS,
    version=1,
    subject=r"organisations/[a-z0-9-]+",
    description=(
        "The organisation's daily account signals and 0-100 health score (README: health score)."
    ),
    owner="portal",
    properties={
        "day": DATE,
        "computed_at": DATETIME,
        "score": nullable(SCORE),
        "components": {"type": "array", "items": _COMPONENT},
    },
)
register(
    "greenloop.crm.endpoint_tested",
    version=1,
    subject=r"crm-endpoints/\d+",
    description=(
        "The made-up event an integration admin sends from the admin to check an endpoint; sent "
        "straight to that endpoint, never written to the outbox."
    ),
    owner="portal",
    properties={"endpoint": string("the endpoint's name, as staff wrote it")},
    free_text=["endpoint"],
)
