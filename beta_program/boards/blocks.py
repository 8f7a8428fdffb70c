"""StreamField blocks that put the R&D boards on staff-built portal pages
(settings.GREENLOOP_PAGE_BLOCKS): "top ideas" and "recently shipped".

Like the beta programme blocks, they are rendered per request for the organisation the viewer
acts for (the one last picked in the switcher, else their first) and list only the ideas it
sees (`access.ideas_for`): a private board's idea never appears in another organisation's block.
Signed-out visitors get a sign-in prompt; someone without an organisation sees nothing."""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.models import Page

from beta_program.boards.access import ideas_for
from beta_program.boards.models import Idea, IdeaStatusChange, StatusKind
from portal.context_processors import CURRENT_ORG_SESSION_KEY
from portal.models import Organisation

MAX_IDEAS = 20


def viewer_organisation(request, user) -> Organisation | None:
    """The organisation a page outside /o/<slug>/ shows things for: the one picked last in the
    switcher if it is still the person's, else their first."""
    if not (user is not None and user.is_authenticated):
        return None
    organisations = Organisation.objects.for_member(user)
    picked = request.session.get(CURRENT_ORG_SESSION_KEY) if hasattr(request, "session") else None
    found = organisations.filter(slug=picked).first() if picked else None
    return found or organisations.first()


def top_ideas(user, organisation: Organisation | None, board_slug: str, count: int) -> list[Idea]:
    """The most voted open ideas `user` sees for `organisation` (on one board, if named)."""
    ideas = (
        ideas_for(user, organisation)
        .listed()
        .exclude(status__kind__in=[StatusKind.DECLINED, StatusKind.DUPLICATE])
    )
    if board_slug:
        ideas = ideas.filter(board__slug=board_slug)
    return list(
        ideas.select_related("board", "status").order_by("-vote_count", "-last_activity_at", "-pk")[
            :count
        ]
    )


def recently_shipped(
    user, organisation: Organisation | None, days: int, count: int, now: datetime.datetime
) -> list[Idea]:
    """Ideas shipped in the last `days` days that `user` sees for `organisation`, newest first,
    each with `changelog_url` (the entry that shipped it, or "")."""
    entry = (
        IdeaStatusChange.objects.filter(
            idea_id=OuterRef("pk"),
            to_status__kind=StatusKind.SHIPPED,
            changelog_page__isnull=False,
            changelog_page__live=True,
        )
        .order_by("-changed_at", "-pk")
        .values("changelog_page_id")[:1]
    )
    ideas = list(
        ideas_for(user, organisation)
        .listed()
        .filter(
            status__kind=StatusKind.SHIPPED, shipped_at__gte=now - datetime.timedelta(days=days)
        )
        .annotate(changelog_page_id=Subquery(entry))
        .select_related("board")
        .order_by("-shipped_at", "-pk")[:count]
    )
    pages = {
        page.pk: page
        for page in Page.objects.filter(pk__in={i.changelog_page_id for i in ideas} - {None})
    }
    for idea in ideas:
        page = pages.get(idea.changelog_page_id)
        idea.changelog_url = (page.get_url() or "") if page else ""
    return ideas


def _viewer_context(context: dict, parent_context: dict | None) -> tuple[Any, Any]:
    """Fill `signed_in`, `show`, `organisation` and, signed out, `login_url`; return the user
    and organisation to list for (organisation None: list nothing)."""
    request = (parent_context or {}).get("request")
    user = getattr(request, "user", None)
    context.update(signed_in=False, show=False, organisation=None, ideas=[])
    if not (user is not None and user.is_authenticated):
        next_url = request.get_full_path() if request is not None else "/"
        context["login_url"] = f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': next_url})}"
        return user, None
    context["signed_in"] = True
    organisation = viewer_organisation(request, user)
    context.update(show=organisation is not None, organisation=organisation)
    return user, organisation


def _count(value) -> int:
    return max(1, min(int(value.get("count") or 5), MAX_IDEAS))


class TopIdeasBlock(blocks.StructBlock):
    heading = blocks.CharBlock(
        label=_("Heading"),
        required=False,
        max_length=120,
        help_text=_("Leave empty to use “Top ideas”."),
    )
    board = blocks.CharBlock(
        label=_("Board (slug)"),
        required=False,
        max_length=80,
        help_text=_("Leave empty for every board the visitor sees."),
    )
    count = blocks.IntegerBlock(
        label=_("Number of ideas"), min_value=1, max_value=MAX_IDEAS, default=5
    )

    class Meta:
        template = "beta_program/boards/blocks/ideas.html"
        icon = "pick"
        label = _("Ideas: top ideas")
        help_text = _(
            "The most voted ideas the visitor's organisation sees; signed-out visitors see a "
            "sign-in prompt."
        )

    def get_context(self, value, parent_context: dict | None = None) -> dict[str, Any]:
        context = super().get_context(value, parent_context=parent_context)
        context["shipped"] = False
        user, organisation = _viewer_context(context, parent_context)
        if organisation is not None:
            context["ideas"] = top_ideas(
                user, organisation, value.get("board") or "", _count(value)
            )
        return context


class RecentlyShippedBlock(blocks.StructBlock):
    heading = blocks.CharBlock(
        label=_("Heading"),
        required=False,
        max_length=120,
        help_text=_("Leave empty to use “Recently shipped”."),
    )
    days = blocks.IntegerBlock(
        label=_("Shipped in the last (days)"), min_value=1, max_value=365, default=30
    )
    count = blocks.IntegerBlock(
        label=_("Number of ideas"), min_value=1, max_value=MAX_IDEAS, default=5
    )

    class Meta:
        template = "beta_program/boards/blocks/ideas.html"
        icon = "tick"
        label = _("Ideas: recently shipped")
        help_text = _(
            "Ideas shipped lately that the visitor's organisation sees, with the changelog entry "
            "that shipped them; signed-out visitors see a sign-in prompt."
        )

    def get_context(self, value, parent_context: dict | None = None) -> dict[str, Any]:
        context = super().get_context(value, parent_context=parent_context)
        context["shipped"] = True
        user, organisation = _viewer_context(context, parent_context)
        if organisation is not None:
            days = max(1, min(int(value.get("days") or 30), 365))
            context["ideas"] = recently_shipped(
                user, organisation, days, _count(value), timezone.now()
            )
        return context
