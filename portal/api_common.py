"""Pieces every plugin's API router shares: the error responses every endpoint documents,
page-number paging with one page-size limit, ISO dates, and the organisation a path names."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from django.db.models import QuerySet
from django.http import Http404
from ninja import Field, Schema
from pydantic import BeforeValidator

from portal.access import reachable_or_404
from portal.api import ApiError, Caller, ErrorOut
from portal.models import Organisation
from portal.permissions import has_perm
from portal.text import text_problem

MAX_PAGE_SIZE = 200

ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: Any) -> Any:
    # The schema says `format: date`; on its own pydantic would also read a number as a Unix
    # timestamp (`to=0` as 1970-01-01), so a wrong value would filter instead of being refused.
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise ValueError("Input should be a date in the format YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
"""A calendar date in ISO 8601 form (YYYY-MM-DD), for every date an API client sends."""


class PageOut(Schema):
    """The paging fields of a list response; subclasses add `items`."""

    count: int = Field(..., description="Matching items over all pages")
    page: int
    page_size: int


def page_out(
    qs: QuerySet,
    page: int,
    page_size: int,
    item: Callable[[Any], Any] | None = None,
    *,
    items: Callable[[list], list] | None = None,
) -> dict:
    """The total `count` of `qs` and the rows of page `page` (from 1): each through `item`, or
    all of them at once through `items` (for lists that load related rows in one query)."""
    start = (page - 1) * page_size
    rows = list(qs[start : start + page_size])
    if items is None:
        if item is None:
            raise TypeError("page_out() needs `item` or `items`.")
        out = [item(row) for row in rows]
    else:
        out = items(rows)
    return {"count": qs.count(), "page": page, "page_size": page_size, "items": out}


def organisation_named(c: Caller, slug: str) -> Organisation:
    """The organisation `slug` names, if the caller reaches it; else 404 (never 403, so a slug
    does not tell whether the organisation exists)."""
    # A slug that is not storable text names nothing (and would be a database error).
    if text_problem(slug):
        raise Http404
    return reachable_or_404(c.request, c.organisations(), slug=slug)


def require_perm(c: Caller, perm: str, organisation: Organisation, message: str) -> None:
    """People need `perm` in the organisation; a token's scopes are checked on their own."""
    if c.token is None and not has_perm(c.user, perm, organisation):
        raise ApiError(403, "permission_denied", message)
