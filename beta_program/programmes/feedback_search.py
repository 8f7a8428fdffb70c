"""Duplicate suggestions while a participant types a report's title: earlier reports of the same
programme that look alike, best first.

Suggestions come from the reports of the person's own organisation on builds they may see
(never another organisation's reports: their titles are that customer's words). On PostgreSQL
any query term may match the GIN-indexed `search_vector` (title above text, every term a
prefix); elsewhere any term must start a term of the plain `search_document`.
"""

from __future__ import annotations

import operator
from functools import reduce

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connections
from django.db.models import F, Q, QuerySet, TextField, Value
from django.db.models.functions import Concat

from beta_program.programmes.access import builds_for
from beta_program.programmes.feedback_access import may_file
from beta_program.programmes.feedback_models import Feedback
from beta_program.programmes.models import Programme
from portal.models import Organisation
from portal.search_text import terms

MAX_TERMS = 12
MAX_SUGGESTIONS = 10


def suggestable(user, organisation: Organisation, programme: Programme) -> QuerySet[Feedback]:
    """The reports a participant may be shown as possible duplicates."""
    if not may_file(user, programme, organisation):
        return Feedback.objects.none()
    return Feedback.objects.filter(
        programme=programme,
        organisation=organisation,
        build__in=builds_for(user, programme, organisation),
    )


def similar(
    user, organisation: Organisation, programme: Programme, query: str, *, limit: int = 5
) -> list[Feedback]:
    words = list(dict.fromkeys(terms(query)))[:MAX_TERMS]
    if not words:
        return []
    limit = max(1, min(limit, MAX_SUGGESTIONS))
    reports = suggestable(user, organisation, programme)
    if connections[reports.db].vendor == "postgresql":
        # Terms are letters, digits or Han characters only (portal.search_text), so quoting is
        # safe. Any term may match: a title being typed is not yet the whole title.
        raw = " | ".join(f"'{word}':*" for word in words)
        tsquery = SearchQuery(raw, search_type="raw", config="simple")
        ranked = reports.filter(search_vector=tsquery).annotate(
            rank=SearchRank(F("search_vector"), tsquery)
        )
        return list(ranked.order_by("-rank", "-submitted_at", "-id")[:limit])
    padded = reports.annotate(
        search_padded=Concat(Value(" "), F("search_document"), output_field=TextField())
    )
    matching = padded.filter(
        reduce(operator.or_, (Q(search_padded__contains=f" {word}") for word in words))
    )
    return list(matching.order_by("-submitted_at", "-id")[:limit])
