"""Community's place in the portal: the top-bar link, the unread count, the dashboard panel,
demo data and the members' @handles other apps mention people by.
Imported from CommunityConfig.ready() (Wagtail auto-imports only `wagtail_hooks`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from community import demo, moderation, privacy
from community.models import is_moderator
from portal.admin_work_queue import HOOK_NAME as WORK_QUEUE_HOOK
from portal.admin_work_queue import WorkQueueItem
from portal.dashboard import DashboardPanel
from portal.notifications import Elsewhere
from portal.people import Handles
from portal.row_links import fixed_reverse

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@hooks.register("greenloop_nav_items")
def community_nav(request, org_slug: str) -> list[dict]:
    return [{"label": _("Community"), "url": fixed_reverse("community:index")}]


LATEST_ANSWERS = 5
ANSWER_EXCERPT_CHARS = 120


def _answers_context(request, organisation) -> dict:
    """The latest replies by others to questions the person asked for this organisation, among
    the posts they may read: one query (two while the visible spaces are not cached)."""
    from community.admin_moderation import excerpt
    from community.models import Post, TopicKind, public_name

    answers = list(
        Post.objects.readable_by(request.user)
        .filter(
            topic__author=request.user,
            topic__organisation=organisation,
            topic__kind=TopicKind.QUESTION,
            number__gt=1,
        )
        .exclude(author=request.user)
        .select_related("topic", "author__community_member")
        .order_by("-created_at", "-pk")[:LATEST_ANSWERS]
    )
    for post in answers:
        post.excerpt = excerpt(post, ANSWER_EXCERPT_CHARS)
        post.author_name = public_name(post.author)
    return {"answers": answers}


@hooks.register("greenloop_dashboard_panels")
def answers_panel() -> DashboardPanel:
    return DashboardPanel(
        "community-answers",
        _("Answers to your questions"),
        "community/panels/answers.html",
        get_context=_answers_context,
        order=30,
    )


# After carbon's demo data: the demo topics mention demo orders' customers.
@hooks.register("greenloop_seed_demo", order=200)
def seed_community_demo(stdout=None) -> None:
    demo.seed(stdout=stdout)


@hooks.register("greenloop_personal_data")
def community_personal_data(user) -> dict:
    return privacy.personal_data(user)


@hooks.register("greenloop_erase_personal_data")
def erase_community_data(user) -> dict[str, int]:
    return privacy.erase_personal_data(user)


@hooks.register("greenloop_unread_elsewhere")
def community_unread(user) -> list[Elsewhere]:
    """The community keeps its own notifications (and page); the portal's header counts them
    with its own so people see one number. One query."""
    from community.notifications import unread_count

    return [
        Elsewhere(
            label=str(_("Community")),
            url=reverse("community:notifications"),
            count=unread_count(user),
        )
    ]


@hooks.register("greenloop_person_handles")
def community_handles(handles: set[str], user_ids: set[int]) -> Handles:
    """The members' handles (active people only) both ways, and their community pages: at most
    one query per direction, none for an empty one."""
    from community.markdown import person_href
    from community.models import Member

    by_handle: dict[str, int] = {}
    by_user: dict[int, str] = {}
    if handles:
        by_handle = dict(
            Member.objects.filter(handle__in=handles, user__is_active=True).values_list(
                "handle", "user_id"
            )
        )
    if user_ids:
        by_user = dict(
            Member.objects.filter(user_id__in=user_ids, user__is_active=True).values_list(
                "user_id", "handle"
            )
        )
    return Handles(
        by_handle=by_handle,
        by_user=by_user,
        links={handle: person_href(handle) for handle in by_handle},
    )


# Names of the community's audit actions in the audit trail (portal.audit_actions).
AUDIT_ACTIONS: dict[str, StrOrPromise] = {
    "community.member_suspended": _("Community member suspended"),
    "community.member_unsuspended": _("Community suspension lifted"),
    "community.member_warned": _("Community member warned"),
    "community.post_approved": _("Community post approved"),
    "community.post_deleted": _("Community post deleted"),
    "community.post_edited": _("Community post edited"),
    "community.post_hidden": _("Community post hidden"),
    "community.space_changed": _("Community space changed"),
    "community.space_created": _("Community space created"),
    "community.tag_changed": _("Community tag changed"),
    "community.tag_created": _("Community tag created"),
    "community.tag_deleted": _("Community tag deleted"),
    "community.topic_locked": _("Community topic locked or unlocked"),
    "community.topic_moved": _("Community topic moved"),
    "community.topic_pinned": _("Community topic pinned or unpinned"),
    "community.topics_merged": _("Community topics merged"),
}


@hooks.register("greenloop_audit_actions")
def community_audit_actions() -> dict[str, StrOrPromise]:
    return AUDIT_ACTIONS


@hooks.register(WORK_QUEUE_HOOK)
def flagged_posts(request) -> WorkQueueItem | None:
    """Posts in the review queue, waiting since their oldest open flag (or since posting when
    they wait for a first review without a flag)."""
    if not is_moderator(request.user):
        return None
    return WorkQueueItem.from_aggregate(
        "flagged_posts",
        _("Flagged community posts"),
        moderation.review_queue().annotate(
            waiting_since=Coalesce("first_flagged_at", "created_at")
        ),
        "waiting_since",
        url=reverse("community_review:index"),
        order=30,
    )
