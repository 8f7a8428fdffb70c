"""The main content of list and search pages, rendered once and kept in the cache.

What a list page shows under its heading (space cards with their totals, the filter bar, the rows
and the pagination) depends only on the page's path and query string, the viewer's language and
time zone, the ids of the spaces the viewer may see (community.visibility) and the community's
content. So its HTML is filed under exactly those, plus a content generation: a token drawn
again whenever anything a list or a search result shows may have changed (a topic, a post, a
reaction, a tag, a space, a member's handle, a person's name), now and when the transaction
commits, so older pages are never read again and expire on their own. What is personal stays
outside: the header, the unread count, the notification level, the posting buttons; filters
about the viewer ("mine", "followed") are not kept at all, and search results, which include
the viewer's own posts under review and, for moderators, hidden ones, are kept per person.

Relative times ("5 minutes ago") are left out of the kept HTML and put in for each page
(community.rows), so a page read an hour later still says how long ago each topic moved.

Writes that bypass signals (`QuerySet.update`) call `content_changed()` themselves: the topic
and post query sets do it in their `update`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable, Iterable

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from community import visibility
from community.rows import fill_times
from community.visibility import cache_namespace, visible_space_ids
from portal.cache import drawn_token

TIMEOUT = 10 * 60
# A person's name shows in rows and results; their other fields (last login, ...) do not.
_NAME_FIELDS = frozenset({"first_name", "last_name"})


_ALONG = "pages-generation"


def _generation_key() -> str:
    return f"{cache_namespace()}:pages:generation"


def generation(user_id: int | None = None) -> str:
    """The current content generation (drawn now when there is none): read with the viewer's
    visibility tokens when `user_id` is given."""
    key = _generation_key()
    read, token = visibility.along(user_id, _ALONG) if user_id is not None else (False, None)
    if not read:
        token = cache.get(key)
    if token is None:
        token = drawn_token(key, None)
    return token


def content_changed(**_kwargs) -> None:
    """Something a list or a search result shows changed: every kept page is stale. Drawn now
    and again at commit, so a page rendered from the old rows in between is never read."""
    key = _generation_key()
    cache.set(key, uuid.uuid4().hex, None)
    visibility.drop_along(_ALONG)
    transaction.on_commit(lambda: cache.set(key, uuid.uuid4().hex, None))


def _person_saved(update_fields: Iterable[str] | None = None, **_kwargs) -> None:
    if update_fields is None or _NAME_FIELDS & set(update_fields):
        content_changed()


def main_html(
    request: HttpRequest,
    template: str,
    build: Callable[[], dict],
    *,
    per_person: bool = False,
    keep: bool = True,
) -> SafeString:
    """`template` rendered with the context `build()` returns, from the cache when this page was
    rendered for the same spaces, language and content before. `build` may put `row_times` (the
    datetimes of the relative times left out of the rows, in order) into its context.
    `per_person`: the content depends on who reads it (search results), not only on what
    they may see. `keep=False`: rendered for this request only (a list about the viewer)."""
    if not keep:
        context = build()
        html: str = render_to_string(template, context, request=request)
        return mark_safe(fill_times(html, context.get("row_times", ())))  # noqa: S308 - rendered by the template engine
    user = request.user
    params = sorted(request.GET.lists())
    shown = (
        template,
        request.path,
        params,
        translation.get_language() or "",
        timezone.get_current_timezone_name(),
        get_script_prefix(),
        sorted(visible_space_ids(user)),
        user.pk if per_person else None,
        generation(user.pk),
    )
    digest = hashlib.blake2b(repr(shown).encode(), digest_size=16).hexdigest()
    key = f"{cache_namespace()}:page:{digest}"
    kept: tuple[str, list[dt.datetime]] | None = cache.get(key)
    if kept is None:
        context = build()
        rendered = str(render_to_string(template, context, request=request))
        kept = (rendered, list(context.get("row_times", ())))
        cache.set(key, kept, TIMEOUT)
    html, times = kept
    return mark_safe(fill_times(html, times))  # noqa: S308 - rendered by the template engine


def connect() -> None:
    """Called from CommunityConfig.ready()."""
    from community.models import Member, Post, Reaction, Space, Tag, Topic

    # Every list page reads the generation: in the same round trip as the visibility tokens.
    visibility.read_along(_ALONG, lambda _user_id: _generation_key())

    for model in (Topic, Post, Reaction, Tag, Space, Member):
        post_save.connect(content_changed, sender=model, dispatch_uid=f"pages-save-{model}")
        post_delete.connect(content_changed, sender=model, dispatch_uid=f"pages-del-{model}")
    m2m_changed.connect(content_changed, sender=Topic.tags.through, dispatch_uid="pages-tags")
    post_save.connect(_person_saved, sender=get_user_model(), dispatch_uid="pages-person")
