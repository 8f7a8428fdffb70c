"""In-app notifications about ideas, through `portal.notifications` (which words them in the
reader's language when they look and e-mails them as each person prefers).

Every notification about an idea goes through `notify_about`, which keeps only the people who
may see the idea (`access.who_may_see`), so a private board's idea never reaches anyone outside
it. Params hold ids and, for ideas on boards every customer sees, the title; never the text."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from wagtail import hooks

from beta_program.boards.access import who_may_see
from beta_program.boards.models import Idea
from beta_program.programmes.models import chinese
from portal import notifications

STATUS_CHANGED = "boards.status_changed"

# Further kinds register their wording here (kind -> function of the params).
WORDING: dict[str, Callable[[Mapping[str, Any]], str]] = {}


def idea_params(idea: Idea) -> dict[str, Any]:
    """The idea's id, and its title where every customer may read it (a public board without an
    NDA): a stored notification is shown outside the page that guards the idea."""
    params: dict[str, Any] = {"idea_id": idea.pk}
    if not idea.board.is_private and idea.board.nda_programme_id is None:
        params["title"] = idea.title[:200]
    return params


def idea_label(params: Mapping[str, Any]) -> str:
    title = params.get("title")
    if title:
        return _("“%(title)s” (#%(id)s)") % {"title": title, "id": params["idea_id"]}
    return _("idea #%(id)s") % {"id": params["idea_id"]}


def notify_about(
    idea: Idea,
    recipients: Iterable[int],
    kind: str,
    *,
    dedupe_key: str,
    params: Mapping[str, Any] | None = None,
    exclude: Iterable[int] = (),
    link: str = "",
) -> int:
    """Notify those of `recipients` who may see `idea` (never those in `exclude`, typically the
    person who acted), linking to the idea or to `link` (a portal path, e.g. the changelog
    entry that shipped it). Returns how many notifications were added."""
    allowed = who_may_see(idea, set(recipients) - set(exclude))
    if not allowed:
        return 0
    return notifications.notify(
        allowed,
        kind,
        dedupe_key=dedupe_key,
        params={**idea_params(idea), **(params or {})},
        link=link or reverse("beta:idea_go", kwargs={"idea_id": idea.pk}),
    )


def status_changed_message(params: Mapping[str, Any]) -> str:
    status = params.get("status_zh") if chinese() and params.get("status_zh") else params["status"]
    if params.get("changelog"):
        return _("%(idea)s has shipped: read what changed") % {"idea": idea_label(params)}
    return _("%(idea)s is now %(status)s") % {"idea": idea_label(params), "status": status}


WORDING[STATUS_CHANGED] = status_changed_message


@hooks.register("greenloop_notification_kinds")
def board_notification_kinds() -> dict:
    return dict(WORDING)
