"""The boards wing's event types in the portal's catalogue (portal.event_catalogue). Imported
from BetaProgramConfig.ready().

Ids only: an idea's title and text are a customer's plans (on a private board, confidential
ones), and the CRM's readers are outside the board."""

from __future__ import annotations

from beta_program.boards.models import Importance, StatusKind
from portal.event_catalogue import BOOLEAN, choice, identifier, nullable, register, string

OWNER = "beta_program"

register(
    "greenloop.boards.idea_created",
    version=1,
    subject=r"boards/ideas/\d+",
    description=(
        "A customer proposed an idea on an R&D board (`private_board`: a co-development board "
        "of chosen organisations)."
    ),
    owner=OWNER,
    properties={
        "idea_id": identifier("idea"),
        "board_id": identifier("board"),
        "author_id": identifier("author (portal user)"),
        "private_board": BOOLEAN,
    },
)
register(
    "greenloop.boards.idea_voted",
    version=1,
    subject=r"boards/ideas/\d+",
    description=(
        "A customer voted on an idea, or changed their vote (`changed`), with an importance of "
        "1 (nice to have), 2 (important) or 3 (critical); `on_behalf`: product staff recorded "
        "the vote for the organisation."
    ),
    owner=OWNER,
    properties={
        "idea_id": identifier("idea"),
        "vote_id": identifier("vote"),
        "voter_id": identifier("voter (portal user; staff for a vote on behalf)"),
        "importance": {"type": "integer", "enum": list(Importance.values)},
        "changed": BOOLEAN,
        "on_behalf": BOOLEAN,
    },
)
register(
    "greenloop.boards.idea_status_changed",
    version=1,
    subject=r"boards/ideas/\d+",
    description=(
        "Product staff moved an idea along the workflow: `from` and `to` are the keys of the "
        "statuses staff configure, `kind` what the new one means (open, planned, active, "
        "shipped, declined, duplicate). Written on the record of the organisation that proposed "
        "it."
    ),
    owner=OWNER,
    properties={
        "idea_id": identifier("idea"),
        "board_id": identifier("board"),
        "from": string("status key", pattern=r"^[-a-zA-Z0-9_]+$"),
        "to": string("status key", pattern=r"^[-a-zA-Z0-9_]+$"),
        "kind": choice(StatusKind.values),
        "changed_by": identifier("staff member (portal user)"),
    },
)
register(
    "greenloop.boards.idea_shipped",
    version=1,
    subject=r"boards/ideas/\d+",
    description=(
        "An idea shipped. One event on the record of each organisation that asked for it (its "
        "author's and its voters'), so account owners see their customers' requests ship; "
        "`organisation_ids` lists them all, `changelog_page_id` the changelog entry that "
        "announced it (null: none)."
    ),
    owner=OWNER,
    properties={
        "idea_id": identifier("idea"),
        "board_id": identifier("board"),
        "changelog_page_id": nullable(identifier("changelog entry (Wagtail page)")),
        "organisation_ids": {"type": "array", "items": identifier("organisation")},
    },
)
