"""Finding ideas by their words: the board page's full-text filter (`q`) and the similar-idea
suggestions shown while a title is typed on the propose page.

Both start from a queryset the caller already narrowed with the visibility rule
(`access.ideas_for`), so a private board's ideas can only ever be found by the people who see
them. Terms are those of `portal.search_text` (Han characters and pairs, Latin words of three
letters or more, the same rule as the feedback's duplicate suggestions).

On PostgreSQL the GIN-indexed `search_vector` answers (title above text, every term a prefix);
elsewhere each term must start a term of the plain `search_document`. The board filter keeps
at most `MAX_CANDIDATES` best matches, so a one-letter-common query cannot make the page sort
the whole board by rank.
"""

from __future__ import annotations

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connections
from django.db.models import F, Q, QuerySet, TextField, Value
from django.db.models.functions import Concat

from beta_program.boards.models import Idea
from beta_program.programmes.feedback_search import any_term_query, query_words, sharing_terms

MAX_CANDIDATES = 500
MAX_SIMILAR = 5


def _is_postgres(ideas: QuerySet[Idea]) -> bool:
    return connections[ideas.db].vendor == "postgresql"


def _every_term_query(words: list[str]) -> SearchQuery:
    # Terms are letters, digits or Han characters only (portal.search_text): quoting is safe.
    raw = " & ".join(f"'{word}':*" for word in words)
    return SearchQuery(raw, search_type="raw", config="simple")


def _padded(ideas: QuerySet[Idea]) -> QuerySet[Idea]:
    # A leading space lets " term" match the first term of the document as well.
    return ideas.annotate(
        search_padded=Concat(Value(" "), F("search_document"), output_field=TextField())
    )


def matching(ideas: QuerySet[Idea], query: str) -> QuerySet[Idea]:
    """The ideas of `ideas` holding every term of `query` (as a prefix), bounded to the
    `MAX_CANDIDATES` best matches; `ideas` unchanged when the query has no usable term. The
    result is a plain filter, so the caller's sort and pagination apply to it."""
    words = query_words(query)
    if not words:
        return ideas
    if _is_postgres(ideas):
        tsquery = _every_term_query(words)
        ranked = (
            ideas.filter(search_vector=tsquery)
            .annotate(rank=SearchRank(F("search_vector"), tsquery))
            .order_by("-rank", "-id")
        )
    else:
        every = Q()
        for word in words:
            every &= Q(search_padded__contains=f" {word}")
        ranked = _padded(ideas).filter(every).order_by("-vote_count", "-id")
    candidates = list(ranked.values_list("pk", flat=True)[:MAX_CANDIDATES])
    return ideas.filter(pk__in=candidates)


def similar(ideas: QuerySet[Idea], query: str, *, limit: int = MAX_SIMILAR) -> list[Idea]:
    """Up to `limit` of `ideas` sharing any term with `query` (a title being typed is not yet
    the whole title), those sharing the most, in the title first, first; then the most voted."""
    words = query_words(query)
    if not words:
        return []
    limit = max(1, min(limit, MAX_SIMILAR))
    ideas = ideas.select_related("status")
    if _is_postgres(ideas):
        tsquery = any_term_query(words)
        ranked = ideas.filter(search_vector=tsquery).annotate(
            rank=SearchRank(F("search_vector"), tsquery)
        )
        return list(ranked.order_by("-rank", "-vote_count", "-id")[:limit])
    scored = sharing_terms(ideas, words)
    return list(scored.order_by("-score", "-vote_count", "-id")[:limit])
