"""E-mail for the portal's notifications (portal.notifications), as each person chose on their
profile (`User.notification_email`): immediately, in a daily or weekly digest, or never.

Every e-mail is written in the recipient's language (`preferred_language`) from the
notification's kind and params, as the inbox words it, with an absolute link to the portal.

A notification is e-mailed at most once: the statement that claims it for an e-mail (an
`UPDATE ... WHERE emailed_at IS NULL RETURNING id`) also sets `emailed_at`, so two workers
(a task retried while the first run is still sending, two digest runs) cannot both take it. A
claim whose e-mail could not be sent is released again for the task's retry.

Digests: `send_digests` runs hourly (CELERY_BEAT_SCHEDULE) and e-mails each person due one at
the run between 07:00 and 08:00 in their own time zone (daily; weekly: on Mondays) with their
unread notifications not yet e-mailed since their last digest. Nothing to tell, no e-mail. A
missed run delays the digest to the next day (or week); nothing is lost, as it holds everything
since the last one.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from portal import timezones
from portal.models import Notification, User
from portal.models.users import NotificationEmail

logger = logging.getLogger(__name__)

DIGEST_HOUR = 7
DIGEST_PERIODS = {
    NotificationEmail.DAILY: dt.timedelta(days=1),
    NotificationEmail.WEEKLY: dt.timedelta(days=7),
}
# A run a little late yesterday must not make today's digest wait for tomorrow.
DIGEST_SLACK = dt.timedelta(hours=2)
# A digest lists at most this many notifications (newest first) and says how many more wait.
DIGEST_LIMIT = 50
SUBJECT_CHARS = 120


def _absolute(path: str) -> str:
    # As the beta announcements' e-mails: the configured site address, not a request's host.
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


def _recipients() -> QuerySet[User]:
    """People an e-mail may go to: active, not erased, with an address."""
    return User.objects.filter(is_active=True, erased_at__isnull=True).exclude(email="")


def schedule_immediate(user_ids: Iterable[int], dedupe_key: str) -> None:
    """After the notifying transaction commits, e-mail the notification `dedupe_key` to those of
    `user_ids` who want e-mail immediately (the task reloads and re-checks everything)."""
    ids = sorted(set(user_ids))
    if not ids:
        return
    from portal.tasks import send_notification_emails

    transaction.on_commit(lambda: send_notification_emails.delay(dedupe_key, ids))


def _claim(notifications: QuerySet[Notification], now: dt.datetime) -> list[int]:
    """Set `emailed_at` on those of `notifications` nobody has claimed yet, in one statement,
    and return their ids: only the caller may e-mail them."""
    inner, params = notifications.values("pk").query.sql_with_params()
    table = connection.ops.quote_name(Notification._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET emailed_at = %s "  # noqa: S608 (names from the model, values bound)
            f"WHERE emailed_at IS NULL AND id IN ({inner}) RETURNING id",
            [connection.ops.adapt_datetimefield_value(now), *params],
        )
        return sorted(row[0] for row in cursor.fetchall())


def _release(ids: Sequence[int]) -> None:
    """Give back a claim whose e-mail failed, so the retry may send it (the caller claimed
    these rows: nobody else can have set their `emailed_at` since)."""
    Notification.objects.filter(pk__in=ids).update(emailed_at=None)


def _language(user: User) -> str:
    return user.preferred_language or settings.LANGUAGE_CODE


def _item(notification: Notification, wording) -> dict[str, str]:
    from portal.notifications import message

    return {
        "message": message(notification, wording),
        "url": _absolute(notification.link or reverse("portal:notifications")),
    }


def _email(user: User, subject: str, template: str, context: dict) -> EmailMultiAlternatives:
    context = {
        **context,
        "user": user,
        "inbox_url": _absolute(reverse("portal:notifications")),
        "profile_url": _absolute(reverse("portal:profile")),
    }
    text = render_to_string(f"portal/email/{template}.txt", context)
    html = render_to_string(f"portal/email/{template}.html", context)
    email = EmailMultiAlternatives(subject, text, None, [user.email])
    email.attach_alternative(html, "text/html")
    return email


def _send(email: EmailMultiAlternatives, connection_) -> bool:
    email.connection = connection_
    try:
        email.send()
    except (smtplib.SMTPException, OSError):
        logger.exception("Notification e-mail to %s failed", email.to)
        return False
    return True


def send_immediate(dedupe_key: str, user_ids: Iterable[int]) -> int:
    """E-mail the notification `dedupe_key` to each of `user_ids` who wants e-mail immediately
    and has not been e-mailed it yet. Returns how many were sent; raises SMTPException (the task
    retries) when some could not be, after releasing those."""
    from portal.notifications import kinds

    people = {
        user.pk: user
        for user in _recipients().filter(
            pk__in=list(user_ids), notification_email=NotificationEmail.IMMEDIATELY
        )
    }
    if not people:
        return 0
    now = timezone.now()
    pending = Notification.objects.filter(
        recipient_id__in=list(people), dedupe_key=dedupe_key, read_at__isnull=True
    )
    claimed = Notification.objects.filter(pk__in=_claim(pending, now)).order_by("pk")
    wording = kinds()
    sent, failed = 0, []
    with get_connection() as connection_:
        for notification in claimed:
            user = people[notification.recipient_id]
            with translation.override(_language(user)):
                item = _item(notification, wording)
                subject = Truncator(item["message"]).chars(SUBJECT_CHARS)
                email = _email(user, subject, "notification", {"item": item})
            if _send(email, connection_):
                sent += 1
            else:
                failed.append(notification.pk)
    if failed:
        _release(failed)
        raise smtplib.SMTPException(f"{len(failed)} notification e-mails failed")
    return sent


def _due_zones(frequency: str, now: dt.datetime, zones: Iterable[str]) -> list[str]:
    """The stored time zones in which it is now digest time for `frequency`: the hour from 07:00
    (and, for the weekly digest, a Monday). A zone the system does not know counts as the
    settings' TIME_ZONE."""
    due = []
    for name in zones:
        local = now.astimezone(timezones.zone(name) or timezones.zone(settings.TIME_ZONE))
        if local.hour != DIGEST_HOUR:
            continue
        if frequency == NotificationEmail.WEEKLY and local.weekday() != 0:
            continue
        due.append(name)
    return due


def digest_recipients(frequency: str, now: dt.datetime) -> QuerySet[User]:
    """People due a digest of this frequency now: in a zone where it is digest time, and not
    sent one within the period."""
    start = now - DIGEST_PERIODS[NotificationEmail(frequency)] + DIGEST_SLACK
    chosen = _recipients().filter(notification_email=frequency)
    zones = chosen.order_by().values_list("time_zone", flat=True).distinct()
    return (
        chosen.filter(time_zone__in=_due_zones(frequency, now, zones))
        .exclude(last_digest_at__gt=start)
        .order_by("pk")
    )


def send_digest(user: User, frequency: str, now: dt.datetime) -> bool:
    """E-mail `user` their unread notifications not yet e-mailed, created since their last
    digest (or within the period, for a first one), in one message. False when there was
    nothing (nothing is sent) or it could not be sent (the claim is released)."""
    from portal.notifications import kinds

    since = user.last_digest_at or now - DIGEST_PERIODS[NotificationEmail(frequency)]
    pending = Notification.objects.filter(
        recipient=user, read_at__isnull=True, created_at__gt=since, created_at__lte=now
    )
    claimed_ids = _claim(pending, now)
    if not claimed_ids:
        return False
    claimed = list(Notification.objects.filter(pk__in=claimed_ids)[:DIGEST_LIMIT])
    wording = kinds()
    with translation.override(_language(user)):
        items = [_item(notification, wording) for notification in claimed]
        subject = (
            _("Your daily GreenLoop notifications")
            if frequency == NotificationEmail.DAILY
            else _("Your weekly GreenLoop notifications")
        )
        email = _email(
            user,
            subject,
            "notification_digest",
            {
                "items": items,
                "more": len(claimed_ids) - len(items),
                "frequency": frequency,
            },
        )
    with get_connection() as connection_:
        if not _send(email, connection_):
            _release(claimed_ids)
            return False
    User.objects.filter(pk=user.pk).update(last_digest_at=now)
    return True


def send_digests(frequency: str, now: dt.datetime | None = None) -> int:
    """Send the daily or weekly digests due now; returns how many were sent. A second run in the
    same period sends nothing new."""
    if frequency not in DIGEST_PERIODS:
        raise ValueError(f"Digest frequency must be daily or weekly, not {frequency!r}")
    now = now or timezone.now()
    return sum(
        send_digest(user, frequency, now)
        for user in digest_recipients(frequency, now).iterator(chunk_size=200)
    )
