"""Search text for posts, the same way for Chinese and English.

Chinese has no spaces between words, and PostgreSQL's parser (and a plain substring test) would
treat a whole sentence as one token. Like Lucene's CJK analyser, runs of Han characters are
indexed as overlapping pairs (碳足迹报告 -> 碳足 足迹 迹报 报告) plus single characters for
one-character runs; queries are split the same way, so any word of two or more characters
matches wherever it occurs. Latin text is lower-cased words.

`search_posts` finds the topics a person may read that contain every term of a query, best first
and one hit per topic: on PostgreSQL through the GIN-indexed `search_vector` (weights: title A,
text B), elsewhere through `search_document`, which holds the same terms as plain text.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from functools import reduce
from html import unescape
from typing import TYPE_CHECKING, TypedDict

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connections
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
    Window,
)
from django.db.models.functions import Concat, RowNumber
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from community.models import Post, PostStatus, Topic
from portal.search_text import HAN as _HAN
from portal.search_text import IS_HAN as _IS_HAN
from portal.search_text import document as document  # re-exported: actions and bench index with it
from portal.search_text import terms

if TYPE_CHECKING:
    # Typing helper of django-stubs (a development dependency): read only by the type checker.
    from django_stubs_ext import WithAnnotations


class _Rank(TypedDict):
    rank: float


# --------------------------------------------------------------------------------------------
# Searching posts
# --------------------------------------------------------------------------------------------

# A query's terms are ANDed; past this many distinct terms (a pasted paragraph) the rest are
# dropped, which widens the result a little instead of building an enormous query.
MAX_TERMS = 24
MAX_LIMIT = 100
# PostgreSQL ranks at most this many of the newest matching posts (see _search_postgres).
CANDIDATES = 1000
SNIPPET_CHARS = 220
_SNIPPET_LEAD = 60
# Title terms (weight A) rank above body terms (weight B): ts_rank's default weights for A and B.
TITLE_WEIGHT = 1.0
BODY_WEIGHT = 0.4


@dataclass(frozen=True)
class SearchHit:
    """The best-matching readable post of one topic."""

    post: Post
    topic: Topic
    rank: float
    # Escaped text around the first match, matched words wrapped in <mark>: print it as is.
    snippet_html: SafeString


def query_terms(query: str) -> list[str]:
    """The distinct terms a query searches for, in order (at most MAX_TERMS)."""
    return list(dict.fromkeys(terms(query)))[:MAX_TERMS]


def search_posts(user, query: str, *, limit: int = 50) -> list[SearchHit]:
    """Topics the user may read that contain every term of `query`, best first, one hit per
    topic (its best post). A query without terms (empty, or punctuation only) finds nothing."""
    return _search(Post.objects.readable_by(user), query, limit)


def search_posts_for_organisation(organisation, query: str, limit: int = 50) -> list[SearchHit]:
    """As `search_posts`, for an organisation's API token: visible posts of the topics that the
    organisation may read."""
    posts = Post.objects.filter(
        topic__in=Topic.objects.visible_to_organisation(organisation), status=PostStatus.VISIBLE
    )
    return _search(posts, query, limit)


def _search(posts: QuerySet[Post], query: str, limit: int) -> list[SearchHit]:
    words = query_terms(query)
    if not words:
        return []
    limit = max(1, min(limit, MAX_LIMIT))
    if connections[posts.db].vendor == "postgresql":
        return _search_postgres(posts, words, limit)
    return _search_fallback(posts, words, limit)


def _search_postgres(posts: QuerySet[Post], words: list[str], limit: int) -> list[SearchHit]:
    """Full-text match on the GIN-indexed `search_vector`; every term is a prefix, so
    "inverter" also finds "inverters" (the "simple" configuration does not stem)."""
    # Terms are letters, digits or Han characters only (portal.search_text), so quoting is safe.
    raw = " & ".join(f"'{word}':*" for word in words)
    tsquery = SearchQuery(raw, search_type="raw", config="simple")
    # Ranking every match of a common word (tens of thousands of posts) and sorting their rows
    # cost most of a second; the newest CANDIDATES matches come off the primary key's index
    # and only they are ranked, as narrow rows. Then only the shown posts are loaded.
    newest = posts.filter(search_vector=tsquery).order_by("-pk").values("pk")[:CANDIDATES]
    ranked = (
        Post.objects.filter(pk__in=newest)
        .annotate(rank=SearchRank(F("search_vector"), tsquery))
        .values_list("pk", "topic_id", "number", "rank", "topic__last_activity_at")
    )
    best: dict[int, list] = {}
    matches: dict[int, int] = {}
    for pk, topic_id, number, rank, last_activity in ranked:
        matches[topic_id] = matches.get(topic_id, 0) + 1
        kept = best.get(topic_id)
        # The topic's best post: highest rank, the earliest among equals.
        if kept is None or (rank, -number) > (kept[1], -kept[2]):
            best[topic_id] = [pk, rank, number, last_activity]
    order = sorted(
        best.items(),
        key=lambda item: (-item[1][1], -matches[item[0]], -item[1][3].timestamp(), item[0]),
    )[:limit]
    shown = {
        post.pk: post
        for post in Post.objects.filter(pk__in=[row[0] for _topic, row in order]).select_related(
            "topic__space__parent", "author__community_member"
        )
    }
    hits = []
    for _topic_id, (pk, rank, _number, _last) in order:
        post = shown[pk]
        hits.append(
            SearchHit(post=post, topic=post.topic, rank=rank, snippet_html=snippet(post, words))
        )
    return hits


def _search_fallback(posts: QuerySet[Post], words: list[str], limit: int) -> list[SearchHit]:
    """Any database: every term must start a term of `search_document`. The document is the
    space-separated terms, so " term" is a match at a term boundary. A title that holds every
    term ranks the opening post above matches in the text."""
    padded = posts.annotate(
        search_padded=Concat(Value(" "), F("search_document"), output_field=TextField())
    )
    matching = padded.filter(
        reduce(operator.and_, (Q(search_padded__contains=f" {word}") for word in words))
    )
    in_title = reduce(operator.and_, (Q(topic__title__icontains=word) for word in words))
    ranked = matching.annotate(
        rank=Case(
            When(Q(number=1) & in_title, then=Value(TITLE_WEIGHT)),
            default=Value(BODY_WEIGHT),
            output_field=FloatField(),
        )
    )
    return _best_per_topic(ranked, words, limit)


def _best_per_topic(
    ranked: QuerySet[WithAnnotations[Post, _Rank]], words: list[str], limit: int
) -> list[SearchHit]:
    """One row per topic (its best post, the earliest among equals), topics with more matching
    posts first among equal ranks, then the most recently active. One query."""
    by_topic = [F("topic_id")]
    best = (
        ranked.annotate(
            place=Window(
                RowNumber(),
                partition_by=by_topic,
                order_by=[F("rank").desc(), F("number").asc()],
            ),
            matches=Window(Count("pk"), partition_by=by_topic),
        )
        .filter(place=1)
        .select_related("topic__space__parent", "author__community_member")
        .order_by("-rank", "-matches", "-topic__last_activity_at", "topic_id")[:limit]
    )
    return [
        SearchHit(post=post, topic=post.topic, rank=post.rank, snippet_html=snippet(post, words))
        for post in best
    ]


# --------------------------------------------------------------------------------------------
# Snippets
# --------------------------------------------------------------------------------------------

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_LATIN_WORD_CHAR = rf"[^\W_{_HAN}]"


def plain_text(html: str) -> str:
    """Readable text of a rendered post: tags become spaces (so paragraphs do not run into each
    other) and entities are decoded. The result is text, to be escaped again before output."""
    return _SPACE.sub(" ", unescape(_TAG.sub(" ", html or ""))).strip()


def _term_pattern(word: str) -> str:
    if _IS_HAN.match(word):
        return re.escape(word)
    # Like the search: a Latin term matches at the start of a word, and the whole word is marked.
    return rf"(?<!{_LATIN_WORD_CHAR}){re.escape(word)}{_LATIN_WORD_CHAR}*"


def _match_spans(text: str, words: list[str]) -> list[tuple[int, int]]:
    """Character spans of all matches, overlapping ones merged (碳足 + 足迹 -> 碳足迹)."""
    if not words:
        return []
    pattern = re.compile("|".join(_term_pattern(word) for word in words), re.IGNORECASE)
    spans: list[tuple[int, int]] = []
    position = 0
    while position < len(text):
        found = pattern.search(text, position)
        if found is None:
            break
        start, end = found.span()
        if end == start:
            position = start + 1
            continue
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
        # Step one character, not past the match: Han pairs overlap by design.
        position = start + 1
    return spans


def highlight(
    text: str, words: list[str], *, length: int = SNIPPET_CHARS, lead: int = _SNIPPET_LEAD
) -> SafeString:
    """An escaped excerpt of `text` of about `length` characters around the first match, each
    match wrapped in <mark>."""
    spans = _match_spans(text, words)
    start = 0
    if spans and spans[0][0] > lead:
        start = spans[0][0] - lead
        # Begin at a word boundary where there is one close by.
        blank = text.find(" ", start, spans[0][0])
        if blank != -1:
            start = blank + 1
    end = min(len(text), start + length)
    parts = ["…" if start > 0 else ""]
    cursor = start
    for span_start, span_end in spans:
        if span_end <= start:
            continue
        if span_start >= end:
            break
        span_start, span_end = max(span_start, start), min(span_end, end)
        parts.append(escape(text[cursor:span_start]))
        parts.append(f"<mark>{escape(text[span_start:span_end])}</mark>")
        cursor = span_end
    parts.append(escape(text[cursor:end]))
    if end < len(text):
        parts.append("…")
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text above is escaped


def highlight_all(text: str, words: list[str]) -> SafeString:
    """All of `text` (a title), escaped, each match wrapped in <mark>."""
    return highlight(text, words, length=len(text), lead=len(text))


def snippet(post: Post, words: list[str]) -> SafeString:
    return highlight(plain_text(post.html), words)
