"""StreamField blocks that put community content on portal pages (settings.GREENLOOP_PAGE_BLOCKS).

A page is one document for everyone, but its blocks are rendered per request: each block lists
only what the viewer may see. Anonymous visitors get a sign-in prompt and nothing else, and a
block whose space the viewer cannot see renders nothing at all, not even the space's name.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Q
from django.shortcuts import resolve_url
from django.utils.translation import gettext_lazy as _
from wagtail import blocks

from community.models import Space, Topic
from portal.home.block_choices import RegisteredChoices

MAX_TOPICS = 20


# The key under which CommunityConfig.ready() registers `space_choices` for the editor.
SPACE_CHOICES = RegisteredChoices("community.spaces")


def space_choices() -> list[tuple[str, str]]:
    """Live spaces for the editor's drop-down (slug, name). Called when the form is built, so
    the choice of spaces is always current and migrations never record it."""
    spaces = Space.objects.filter(is_archived=False).select_related("parent")
    return [(space.slug, str(space)) for space in spaces]


class SpaceChoiceBlock(blocks.ChoiceBlock):
    """A space's slug, chosen from `space_choices` (registered as SPACE_CHOICES) in the
    editor."""

    def to_python(self, value):
        # ChoiceBlock maps a stored value back to its choice, which runs the choices query on
        # every page view; a slug is stored as the text it is, so it needs no mapping.
        return value


def _with_topics(context: dict, value, parent_context: dict | None, select) -> dict[str, Any]:
    """Add who is looking and what they may see to a block's context: `signed_in`, `show`
    (False: render nothing), `space`, `topics` (from `select(user, space, count)`) and, for
    signed-out visitors, `login_url` back to this page."""
    request = (parent_context or {}).get("request")
    user = getattr(request, "user", None)
    context.update(signed_in=False, show=False, space=None, topics=[])
    if not (user is not None and user.is_authenticated):
        next_url = request.get_full_path() if request is not None else "/"
        context["login_url"] = f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': next_url})}"
        return context
    context["signed_in"] = True
    space = None
    if value.get("space"):
        space = Space.objects.visible_to(user).filter(slug=value["space"]).first()
        if space is None:
            # Unknown, archived or not for this viewer: nothing may tell which.
            return context
    count = max(1, min(int(value.get("count") or 5), MAX_TOPICS))
    context.update(show=True, space=space, topics=list(select(user, space, count)))
    return context


def _in_space(topics, space):
    """Topics of a space and of its sub-spaces (visible_to has already dropped those the viewer
    may not see)."""
    if space is None:
        return topics
    return topics.filter(Q(space=space) | Q(space__parent=space))


class LatestTopicsBlock(blocks.StructBlock):
    heading = blocks.CharBlock(
        label=_("Heading"),
        required=False,
        max_length=120,
        help_text=_("Leave empty to use “Latest in <space name>”."),
    )
    space = SpaceChoiceBlock(choices=SPACE_CHOICES, label=_("Space"))
    count = blocks.IntegerBlock(
        label=_("Number of topics"), min_value=1, max_value=MAX_TOPICS, default=5
    )

    class Meta:
        template = "community/blocks/latest_topics.html"
        icon = "list-ul"
        label = _("Community: latest topics")
        help_text = _(
            "The most recently active topics of a space and its sub-spaces. Visitors who cannot "
            "see the space see nothing here; signed-out visitors see a sign-in prompt."
        )

    def get_context(self, value, parent_context: dict | None = None) -> dict[str, Any]:
        context = super().get_context(value, parent_context=parent_context)
        return _with_topics(context, value, parent_context, self.latest)

    @staticmethod
    def latest(user, space, count: int):
        topics = _in_space(Topic.objects.visible_to(user), space)
        return topics.select_related("space").order_by("-last_activity_at", "-pk")[:count]


class UnansweredQuestionsBlock(blocks.StructBlock):
    heading = blocks.CharBlock(
        label=_("Heading"),
        required=False,
        max_length=120,
        help_text=_("Leave empty to use “Unanswered questions”."),
    )
    space = SpaceChoiceBlock(
        choices=SPACE_CHOICES,
        label=_("Space"),
        required=False,
        help_text=_("Leave empty for every space the visitor can see."),
    )
    count = blocks.IntegerBlock(
        label=_("Number of questions"), min_value=1, max_value=MAX_TOPICS, default=5
    )

    class Meta:
        template = "community/blocks/unanswered_questions.html"
        icon = "help"
        label = _("Community: unanswered questions")
        help_text = _(
            "Open questions nobody has replied to yet, newest first, from the spaces each "
            "visitor can see."
        )

    def get_context(self, value, parent_context: dict | None = None) -> dict[str, Any]:
        context = super().get_context(value, parent_context=parent_context)
        return _with_topics(context, value, parent_context, self.unanswered)

    @staticmethod
    def unanswered(user, space, count: int):
        # The same rule as the lists' "Unanswered" filter, less locked topics (no reply is
        # possible there).
        topics = Topic.objects.visible_to(user).unanswered().filter(is_locked=False)
        topics = _in_space(topics, space)
        return topics.select_related("space").order_by("-created_at", "-pk")[:count]
