"""Topic list rows, each rendered once and kept in the cache.

A row shows only what its topic row, its space, its tags and two names hold, so its HTML is
filed under a fingerprint of exactly those values, the viewer's language and time zone: any
change to what the row shows (a reply moves its last activity, a reaction its score, an edit its
title, a rename its space) files it under a new key, and nothing needs to be deleted. The one
part that changes by itself, the relative time ("5 minutes ago"), is left out of the cached HTML
and put in for each page. Links are built from one reversed URL per kind for the whole row set
rather than reversed row by row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from django.core.cache import cache
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils import timezone, translation
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from community.models import Topic
from portal.row_links import RowLinks
from portal.templatetags.portal_time import ages

ROW_TIMEOUT = 24 * 60 * 60
# Stands in for the relative time in the cached HTML; replaced on every page.
_WHEN = "\x00when\x00"


class Links(RowLinks):
    """The community's row links."""

    def for_topic(self, pk: int) -> str:
        return self.url("community:topic", topic_id=pk)

    def for_space(self, slug: str) -> str:
        return self.url("community:space", space_slug=slug)

    def for_tag(self, slug: str) -> str:
        return self.url("community:tag", tag_slug=slug)

    def for_person(self, handle: str) -> str:
        return self.url("community:person", handle=handle)


def _shown(topic: Topic, tags: Sequence) -> tuple:
    """Everything a row prints (and the link targets it uses)."""
    space = topic.space
    parent = space.parent if space.parent_id else None
    return (
        topic.pk,
        topic.title,
        topic.kind,
        topic.is_pinned,
        topic.is_locked,
        topic.accepted_answer_id is not None,
        topic.reply_count,
        topic.score,
        topic.last_activity_at.isoformat(),
        space.slug,
        space.name,
        parent.name if parent is not None else None,
        topic.author_name,
        topic.author_handle,
        topic.last_poster_name,
        tuple((tag.slug, tag.name) for tag in tags),
    )


def _key(topic: Topic, shown: tuple, context: str) -> str:
    digest = hashlib.blake2b(repr((shown, context)).encode(), digest_size=16).hexdigest()
    return f"community:row:{topic.pk}:{digest}"


def topic_rows(topics: Sequence[Topic], *, times_left_out: bool = False) -> list[SafeString]:
    """The rows of a page of topics (with `author_name`, `author_handle` and
    `last_poster_name` set and `tags` prefetched), from the cache where they are there.
    `times_left_out`: each row keeps a stand-in for its relative time, for `fill_times` with
    the topics' `last_activity_at` when the page is shown (a page kept in the cache)."""
    if not topics:
        return []
    context = "|".join(
        (
            translation.get_language() or "",
            timezone.get_current_timezone_name(),
            get_script_prefix(),
        )
    )
    tags = {topic.pk: list(topic.tags.all()) for topic in topics}
    keys = {topic.pk: _key(topic, _shown(topic, tags[topic.pk]), context) for topic in topics}
    found = cache.get_many(list(keys.values()))
    missing = [topic for topic in topics if keys[topic.pk] not in found]
    if missing:
        links = Links()
        rendered = {}
        for topic in missing:
            html = render_to_string(
                "community/includes/topic_row.html",
                {
                    "t": topic,
                    "when": _WHEN,
                    "url": links.for_topic(topic.pk),
                    "space_url": links.for_space(topic.space.slug),
                    "author_url": links.for_person(topic.author_handle)
                    if topic.author_handle
                    else "",
                    "tags": [(links.for_tag(tag.slug), tag.name) for tag in tags[topic.pk]],
                },
            )
            rendered[keys[topic.pk]] = html
        cache.set_many(rendered, ROW_TIMEOUT)
        found.update(rendered)
    if times_left_out:
        return [mark_safe(found[keys[topic.pk]]) for topic in topics]  # noqa: S308 - rendered by the template engine
    rows = []
    for topic, when in zip(topics, ages(t.last_activity_at for t in topics), strict=True):
        when = conditional_escape(when)
        rows.append(mark_safe(found[keys[topic.pk]].replace(_WHEN, when)))  # noqa: S308 - rendered by the template engine, `when` escaped
    return rows


def fill_times(html: str, times: Sequence[dt.datetime]) -> str:
    """`html` with its relative-time stand-ins replaced, in order, by how long ago each of
    `times` was (escaped)."""
    if not times:
        return html
    parts = html.split(_WHEN)
    if len(parts) != len(times) + 1:
        raise ValueError(f"{len(parts) - 1} relative times in the page, {len(times)} given.")
    filled = [parts[0]]
    for when, part in zip(ages(times), parts[1:], strict=True):
        filled.append(conditional_escape(when))
        filled.append(part)
    return "".join(filled)
