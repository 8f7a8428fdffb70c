"""In-app notifications for every app but the community (which has kept its own since before):
`notify()` is the public API plugins call; the inbox page, the API and the header's count read
through here.

A notification stores no text. A plugin registers, for each kind it sends, a function that
words the message from the notification's `params` in the active language, so a reader sees it
in theirs when the page is shown:

    @hooks.register("greenloop_notification_kinds")
    def beta_kinds() -> dict[str, Callable[[Mapping[str, Any]], str]]:
        return {"beta.announcement": announcement_message}

Params hold ids and public names only (never confidential text: they are stored, exported and
shown outside the place the content is guarded). Plugins with notifications of their own answer
`greenloop_unread_elsewhere` so the header shows one number:

    @hooks.register("greenloop_unread_elsewhere")
    def community_unread(user) -> list[Elsewhere]: ...
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail import hooks

from portal import notification_email
from portal.models import Notification, User

logger = logging.getLogger(__name__)

KINDS_HOOK = "greenloop_notification_kinds"
ELSEWHERE_HOOK = "greenloop_unread_elsewhere"
PAGE_SIZE = 25
# A parameter is an id, a flag or a short public name, never a document.
MAX_PARAM_CHARS = 200

Param = str | int | bool | None


@dataclass(frozen=True)
class Elsewhere:
    """Unread notifications an app keeps itself: what to call them, where to read them, how many."""

    label: str
    url: str
    count: int


def kinds() -> dict[str, Callable[[Mapping[str, Any]], str]]:
    found: dict[str, Callable[[Mapping[str, Any]], str]] = {}
    for provider in hooks.get_hooks(KINDS_HOOK):
        found.update(provider())
    return found


def _check(kind: str, params: Mapping[str, Param], link: str, dedupe_key: str) -> None:
    # Programming errors in the calling plugin, not user input: refuse loudly.
    if kind not in kinds():
        raise ValueError(f"Notification kind {kind!r} is not registered ({KINDS_HOOK}).")
    if not dedupe_key or len(dedupe_key) > 200:
        raise ValueError("A notification needs a deduplication key of at most 200 characters.")
    for name, value in params.items():
        if not isinstance(value, str | int | bool | type(None)):
            raise ValueError(f"Notification parameter {name!r} must be an id, flag or name.")
        if isinstance(value, str) and len(value) > MAX_PARAM_CHARS:
            raise ValueError(f"Notification parameter {name!r} is longer than a name.")
    if link and (not link.startswith("/") or link.startswith("//") or "\\" in link):
        raise ValueError("A notification links to a path of the portal, e.g. /o/acme/beta/.")


def notify(
    recipients: Iterable[User | int],
    kind: str,
    *,
    dedupe_key: str,
    params: Mapping[str, Param] | None = None,
    link: str = "",
    email: bool = True,
) -> int:
    """Notify every active recipient once per `dedupe_key`: calling again with the same key (a
    repeated task, a second publish) adds nothing for those already notified. Three queries
    whatever the number of recipients. Returns how many notifications were added.

    Each new notification is also e-mailed as its recipient chose (portal.notification_email):
    at once by a task after commit, or in their digest. `email=False` is for an app that
    e-mails its own message about the same thing, so nobody gets two e-mails.

    Call it inside the transaction of the change it reports, so both land or neither does."""
    params = dict(params or {})
    _check(kind, params, link, dedupe_key)
    ids = {r.pk if isinstance(r, User) else int(r) for r in recipients}
    if not ids:
        return 0
    active = set(
        User.objects.filter(pk__in=ids, is_active=True, erased_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    already = set(
        Notification.objects.filter(recipient_id__in=active, dedupe_key=dedupe_key).values_list(
            "recipient_id", flat=True
        )
    )
    now = timezone.now()
    new = [
        Notification(
            recipient_id=pk,
            kind=kind,
            params=params,
            link=link,
            dedupe_key=dedupe_key,
            created_at=now,
            # Marked as e-mailed, so neither the immediate task nor a digest picks it up.
            emailed_at=None if email else now,
        )
        for pk in sorted(active - already)
    ]
    # A concurrent call with the same key may have written some since: the unique constraint
    # keeps one each, and the conflict is not an error.
    Notification.objects.bulk_create(new, ignore_conflicts=True)
    if email and new:
        notification_email.schedule_immediate((n.recipient_id for n in new), dedupe_key)
    return len(new)


def message(notification: Notification, wording: Mapping[str, Callable] | None = None) -> str:
    """The notification's text in the active language. A kind whose app is gone, or params its
    wording cannot read, show a neutral line rather than an error page."""
    wording = kinds() if wording is None else wording
    word = wording.get(notification.kind)
    if word is not None:
        try:
            return str(word(notification.params or {}))
        except (KeyError, TypeError, ValueError):
            logger.warning("Cannot word notification %s (%s)", notification.pk, notification.kind)
    return _("You have a new notification.")


def inbox_page(user: User, number: Any = 1) -> Page:
    """One page of the person's notifications, newest first, each with `.message` worded in
    the active language (two queries: the count and the page)."""
    paginator = Paginator(Notification.objects.for_recipient(user), PAGE_SIZE)
    page = paginator.get_page(number)
    wording = kinds()
    for notification in page.object_list:
        notification.message = message(notification, wording)
    return page


def unread_count(user: User) -> int:
    return Notification.objects.for_recipient(user).unread().count()


def elsewhere(user: User) -> list[Elsewhere]:
    """Other apps' unread notifications (those with any), from `greenloop_unread_elsewhere`."""
    found: list[Elsewhere] = []
    for provider in hooks.get_hooks(ELSEWHERE_HOOK):
        found.extend(e for e in provider(user) if e.count)
    return found


def mark_read(user: User, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the person's unread notifications read (all, or those listed; others' ids are
    ignored). Returns how many changed."""
    unread = Notification.objects.for_recipient(user).unread()
    if notification_ids is not None:
        unread = unread.filter(pk__in=list(notification_ids))
    return unread.update(read_at=timezone.now())


def own_or_none(user: User, notification_id: int) -> Notification | None:
    """The person's notification `notification_id`; None for anyone else's (and for an id no
    row can have: the database would refuse a number past its bigint range with an error)."""
    if not 0 < notification_id < 2**63:
        return None
    return Notification.objects.for_recipient(user).filter(pk=notification_id).first()
