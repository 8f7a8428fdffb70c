"""The R&D boards' place in the portal: the top-bar link. Imported from
BetaProgramConfig.ready() (Wagtail auto-imports only `wagtail_hooks`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from portal.row_links import fixed_reverse

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@hooks.register("greenloop_nav_items")
def ideas_nav(request, org_slug: str) -> list[dict]:
    if not org_slug:
        return []
    return [
        {
            "label": _("Ideas"),
            "url": fixed_reverse("beta:ideas", org_slug=org_slug),
            "group": "cocreation",
        }
    ]


# Names of the boards' audit actions in the audit trail (portal.audit_actions).
AUDIT_ACTIONS: dict[str, StrOrPromise] = {
    "boards.co_owners_set": _("Idea co-owners set"),
    "boards.comment_added": _("Idea comment added"),
    "boards.comment_hidden": _("Idea comment hidden"),
    "boards.document_shared": _("Document shared on an idea"),
    "boards.idea_classified": _("Idea classified"),
    "boards.idea_created": _("Idea created"),
    "boards.idea_status_changed": _("Idea status changed"),
    "boards.ideas_merged": _("Ideas merged"),
    "boards.merge_undone": _("Idea merge undone"),
    "boards.milestone_added": _("Idea milestone added"),
    "boards.milestone_updated": _("Idea milestone changed"),
    "boards.reporting_rate_set": _("Reporting rate set"),
    "boards.vote_on_behalf": _("Vote cast on behalf of a customer"),
    "boards.vote_on_behalf_withdrawn": _("Vote on behalf withdrawn"),
}


@hooks.register("greenloop_audit_actions")
def boards_audit_actions() -> dict[str, StrOrPromise]:
    return AUDIT_ACTIONS
