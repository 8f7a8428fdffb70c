"""The caller's in-app notifications: `GET /api/v1/notifications` and marking them read.

Notifications belong to people, so only a signed-in person (browser session) reads them; an
organisation's API token has no person behind it and is refused with 403 `person_required`
before anything is read. A notification id that is not the caller's is 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema
from pydantic import StrictInt

from portal import notifications
from portal.api import ApiError, Caller, ErrorOut, Input, PathParams, caller, requires
from portal.models import Notification, User
from portal.text import ascii_integer

ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}

router = Router(tags=["notifications"])


def _person(c: Caller, params: PathParams) -> None:
    _me(c)


def _me(c: Caller) -> User:
    if c.user is None:
        raise ApiError(
            403,
            "person_required",
            "Notifications belong to a person: sign in; an organisation's token has none.",
        )
    return c.user


def _own_notification(c: Caller, params: PathParams) -> Notification:
    """The caller's notification named in the path; 404 for anyone else's, and for a token,
    which has no person and so no notification (checked before the token's refusal, so an id
    tells a token nothing either)."""
    notification_id = ascii_integer(str(params.get("notification_id", "")))
    found = (
        notifications.own_or_none(c.user, notification_id)
        if c.user is not None and notification_id is not None
        else None
    )
    if found is None:
        raise Http404
    return found


def _load_notification(c: Caller, params: PathParams) -> Notification:
    return _own_notification(c, params)


class NotificationOut(Schema):
    id: int
    kind: str
    message: str = Field(description="In the caller's language (Accept-Language).")
    link: str = Field(description="A path of the portal, or empty.")
    created_at: datetime
    read_at: datetime | None


class ElsewhereOut(Schema):
    label: str
    url: str
    count: int


class InboxOut(Schema):
    unread: int = Field(description="Unread portal notifications (not counting `elsewhere`).")
    elsewhere: list[ElsewhereOut] = Field(
        description="Apps that keep their own notifications (the community), with unread counts."
    )
    page: int
    pages: int
    items: list[NotificationOut]


class MarkReadIn(Input):
    # Strict: "1" or 1.5 is a client's mistake, not an id.
    ids: list[StrictInt] | None = Field(
        default=None, description="The notifications to mark read; omitted: all of them."
    )


class MarkedOut(Schema):
    marked: int


def _out(n: Notification) -> dict:
    return {
        "id": n.pk,
        "kind": n.kind,
        "message": n.message,
        "link": n.link,
        "created_at": n.created_at,
        "read_at": n.read_at,
    }


@router.get(
    "/notifications",
    response={200: InboxOut, **ERRORS},
    auth=requires("account:read", load=_person),
    summary="The caller's notifications, newest first, 25 a page",
)
def inbox(request: HttpRequest, page: int = 1):
    user = _me(caller(request))
    found = notifications.inbox_page(user, page)
    return {
        "unread": notifications.unread_count(user),
        "elsewhere": [vars(e) for e in notifications.elsewhere(user)],
        "page": found.number,
        "pages": found.paginator.num_pages,
        "items": [_out(n) for n in found.object_list],
    }


@router.post(
    "/notifications/read",
    response={200: MarkedOut, **ERRORS},
    auth=requires("account:read", load=_person),
    summary="Mark the caller's notifications read (those listed, or all)",
    description="Ids that are not the caller's are ignored. Answers how many changed.",
)
def mark_read(request: HttpRequest, body: MarkReadIn):
    return {"marked": notifications.mark_read(_me(caller(request)), body.ids)}


@router.post(
    "/notifications/{notification_id}/read",
    response={200: NotificationOut, **ERRORS},
    auth=requires("account:read", load=_load_notification),
    summary="Mark one of the caller's notifications read",
    description="A notification that is not the caller's is 404 (for a token, every one).",
)
def mark_one_read(request: HttpRequest, notification_id: int):
    c = caller(request)
    notification = c.target
    notifications.mark_read(_me(c), [notification.pk])
    notification.refresh_from_db()
    notification.message = notifications.message(notification)
    return _out(notification)
