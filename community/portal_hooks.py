"""Community's place in the portal: the top-bar link, the unread count, demo data and the
members' @handles other apps mention people by.
Imported from CommunityConfig.ready() (Wagtail auto-imports only `wagtail_hooks`)."""

from __future__ import annotations

from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from community import demo, moderation, privacy
from community.models import is_moderator
from portal.admin_work_queue import HOOK_NAME as WORK_QUEUE_HOOK
from portal.admin_work_queue import WorkQueueItem
from portal.notifications import Elsewhere
from portal.people import Handles


@hooks.register("greenloop_nav_items")
def community_nav(request, org_slug: str) -> list[dict]:
    return [{"label": _("Community"), "url": reverse("community:index")}]


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
