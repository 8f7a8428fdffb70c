"""The boards wing's event types in the portal's catalogue (portal.event_catalogue). Imported
from BetaProgramConfig.ready().

Ids only: an idea's title and text are a customer's plans (on a private board, confidential
ones), and the CRM's readers are outside the board."""

from __future__ import annotations

from beta_program.boards.models import Importance
from portal.event_catalogue import BOOLEAN, identifier, register

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
