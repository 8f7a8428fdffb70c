"""Duplicate suggestions while a participant types a report's title: earlier reports of the same
programme that look alike, best first.

Suggestions come from the reports of the person's own organisation on builds they may see
(never another organisation's reports: their titles are that customer's words). On PostgreSQL
any query term may match the GIN-indexed `search_vector` (title above text, every term a
prefix); elsewhere any term must start a term of the plain `search_document`, and reports
sharing more terms (title terms count twice) come first.
"""

from __future__ import annotations

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connections
from django.db.models import Case, F, IntegerField, QuerySet, TextField, Value, When
from django.db.models.functions import Concat

from beta_program.programmes.access import builds_for
from beta_program.programmes.feedback_access import may_file
from beta_program.programmes.feedback_models import Feedback
from beta_program.programmes.models import Programme
from portal.models import Organisation
from portal.search_text import IS_HAN, terms

MAX_TERMS = 12
MAX_SUGGESTIONS = 10
MIN_WORD = 3


def suggestable(user, organisation: Organisation, programme: Programme) -> QuerySet[Feedback]:
    """The reports a participant may be shown as possible duplicates."""
    if not may_file(user, programme, organisation):
        return Feedback.objects.none()
    return Feedback.objects.filter(
        programme=programme,
        organisation=organisation,
        build__in=builds_for(user, programme, organisation),
    )


def query_words(query: str) -> list[str]:
    """The distinct terms worth matching: Han pairs and characters, and Latin words of three
    letters or more (so "a", "on" or "is" do not suggest every report)."""
    kept = [t for t in terms(query) if IS_HAN.match(t) or len(t) >= MIN_WORD]
    return list(dict.fromkeys(kept))[:MAX_TERMS]


def similar(
    user, organisation: Organisation, programme: Programme, query: str, *, limit: int = 5
) -> list[Feedback]:
    """Reports that share terms with `query`, those sharing the most (in the title first)
    first. Any term may match: a title being typed is not yet the whole title."""
    words = query_words(query)
    if not words:
        return []
    limit = max(1, min(limit, MAX_SUGGESTIONS))
    reports = suggestable(user, organisation, programme)
    if connections[reports.db].vendor == "postgresql":
        tsquery = any_term_query(words)
        ranked = reports.filter(search_vector=tsquery).annotate(
            rank=SearchRank(F("search_vector"), tsquery)
        )
        return list(ranked.order_by("-rank", "-submitted_at", "-id")[:limit])
    scored = sharing_terms(reports, words)
    return list(scored.order_by("-score", "-submitted_at", "-id")[:limit])


def any_term_query(words: list[str]) -> SearchQuery:
    """A tsquery matching any of `words` as a prefix (from `query_words`)."""
    # Terms are letters, digits or Han characters only (portal.search_text), so quoting is safe.
    raw = " | ".join(f"'{word}':*" for word in words)
    return SearchQuery(raw, search_type="raw", config="simple")


def sharing_terms(rows: QuerySet, words: list[str]) -> QuerySet:
    """Without PostgreSQL: the rows (with `title` and `search_document`) where one of `words`
    starts a term, annotated with `score`: a term in the title counts twice, one elsewhere
    once. Shared with the R&D boards' similar ideas."""
    padded = rows.annotate(
        search_padded=Concat(Value(" "), F("search_document"), output_field=TextField())
    )
    score = sum(
        (
            Case(
                When(title__icontains=word, then=Value(2)),
                When(search_padded__contains=f" {word}", then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
            for word in words
        ),
        Value(0),
    )
    return padded.annotate(score=score).filter(score__gt=0)
