"""Numbered pages whose "Next" link carries a keyset cursor, so deep pages cost no OFFSET.

A page reached through "Next" is read as "the rows after the previous page's last row" (a row
comparison on the list's ordering, served by its index), not "skip N x page size rows": the
database reads one page whatever the depth. The page number stays in the link for the
"Page 7 of 40" label and for links typed or shared by hand, which are served by OFFSET as
before; a cursor that does not verify (edited, or from another sort) falls back to that too.

The cursor is signed (`django.core.signing`) with the list's name and ordering as salt, so a
reader can neither forge a position in another list nor make the query compare a field with a
value of the wrong type.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core import signing
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import QueryDict

# Only the fields a list orders by may appear in a cursor; each is stored as JSON-friendly text.
_DATETIME = "dt:"


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _DATETIME + value.isoformat()
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_DATETIME):
        return dt.datetime.fromisoformat(value[len(_DATETIME) :])
    return value


def _field(term: str) -> tuple[str, bool]:
    """("last_activity_at", True) for "-last_activity_at": the field and whether it descends."""
    return (term[1:], True) if term.startswith("-") else (term, False)


def after_filter(ordering: Sequence[str], values: Sequence[Any]) -> Q:
    """Rows strictly after the row with `values` in `ordering` (lexicographic, per-field
    direction): f1 beyond v1, or f1 = v1 and f2 beyond v2, and so on. The last field must be
    unique (the primary key) so that no row is skipped or repeated."""
    condition = Q(pk__in=[])
    equal = Q()
    for term, value in zip(ordering, values, strict=True):
        name, descending = _field(term)
        beyond = Q(**{f"{name}__lt" if descending else f"{name}__gt": value})
        condition |= equal & beyond
        equal &= Q(**{name: value})
    return condition


def cursor_for(row: Any, ordering: Sequence[str], salt: str) -> str:
    """The signed position of `row` in a list ordered by `ordering`."""
    values = [_encode(getattr(row, _field(term)[0])) for term in ordering]
    return signing.dumps(values, salt=f"{salt}:{','.join(ordering)}", compress=True)


def _read_cursor(token: str, ordering: Sequence[str], salt: str) -> list[Any] | None:
    try:
        values = signing.loads(token, salt=f"{salt}:{','.join(ordering)}")
    except signing.BadSignature:
        return None
    if not isinstance(values, list) or len(values) != len(ordering):
        return None
    try:
        return [_decode(value) for value in values]
    except ValueError:
        return None


def keyset_page(
    queryset: QuerySet,
    params: QueryDict,
    *,
    ordering: Sequence[str],
    per_page: int,
    salt: str,
    total: int | None = None,
) -> tuple[Page, str]:
    """The page `params` asks for (`page`, and `after` when it came through a "Next" link) of
    `queryset` ordered by `ordering`, and the cursor the next page's link carries ("" on the
    last page). `total`: the number of rows when the caller knows it (spares the COUNT)."""
    queryset = queryset.order_by(*ordering)
    paginator = Paginator(queryset, per_page)
    if total is not None:
        # Paginator.count is a cached property: a known total spares the COUNT(*).
        paginator.count = total
    page = paginator.get_page(params.get("page"))
    values = _read_cursor(params.get("after", ""), ordering, salt) if page.number > 1 else None
    rows: list[Any] = (
        list(queryset.filter(after_filter(ordering, values))[:per_page])
        if values is not None
        else list(page.object_list)
    )
    page = Page(rows, page.number, paginator)
    following = cursor_for(rows[-1], ordering, salt) if rows and page.has_next() else ""
    return page, following
