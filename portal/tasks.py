"""Background work of the portal. Tasks take ids, reload rows and are safe to run twice."""

from __future__ import annotations

import smtplib
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal import idempotency
from portal.models import Invitation


@shared_task(
    autoretry_for=(smtplib.SMTPException, ConnectionError),
    retry_backoff=True,
    max_retries=6,
    acks_late=True,
)
def send_invitation_email(invitation_id: int, accept_url: str, language: str) -> bool:
    """E-mail an invitation link in the inviter's language. Returns False when there is nothing
    to send any more (the invitation was accepted, withdrawn or has expired meanwhile)."""
    invitation = (
        Invitation.objects.select_related("organisation", "invited_by")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or invitation.status != "pending":
        return False
    with translation.override(language):
        subject = _("You are invited to %(org)s on GreenLoop") % {"org": invitation.organisation}
        body = render_to_string(
            "portal/email/invitation.txt", {"invitation": invitation, "url": accept_url}
        )
    send_mail(subject, body, None, [invitation.email])
    return True


# --- retention (periods in settings.GREENLOOP_RETENTION; scheduled in CELERY_BEAT_SCHEDULE)


@shared_task(acks_late=True)
def clear_expired_sessions() -> int:
    """Daily: delete sessions past their expiry, as `manage.py clearsessions` does. Returns how
    many there were (engines without rows, e.g. signed cookies, expire on their own: 0)."""
    from importlib import import_module

    from django.contrib.sessions.models import Session

    from portal.privacy import DB_SESSION_ENGINES

    engine = import_module(settings.SESSION_ENGINE)
    expired = 0
    if settings.SESSION_ENGINE in DB_SESSION_ENGINES:
        expired = Session.objects.filter(expire_date__lt=timezone.now()).count()
    engine.SessionStore.clear_expired()
    return expired


@shared_task(acks_late=True)
def purge_old_invitations() -> int:
    """Daily: delete invitations (they hold the invitee's address) accepted, withdrawn or
    expired longer than the retention period ago. Pending ones are never touched. Returns how
    many were deleted."""
    cutoff = timezone.now() - timedelta(days=settings.GREENLOOP_RETENTION["invitation_days"])
    closed_long_ago = (
        Q(accepted_at__lt=cutoff)
        | Q(revoked_at__lt=cutoff)
        | Q(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__lt=cutoff)
    )
    deleted, _by_model = Invitation.objects.filter(closed_long_ago).delete()
    return deleted


# The name it had in carbon, so the beat schedule and any message already queued still find it.
@shared_task(name="carbon.idempotency.purge_idempotency_records", acks_late=True)
def purge_idempotency_records(hours: int | None = None) -> int:
    """Daily: delete the API's idempotency records older than their retention period (or
    `hours`). Returns how many were deleted; safe to repeat."""
    return idempotency.purge(hours)


# --- notification e-mails (portal.notification_email)


@shared_task(
    autoretry_for=(smtplib.SMTPException, ConnectionError),
    retry_backoff=True,
    max_retries=6,
    acks_late=True,
)
def send_notification_emails(dedupe_key: str, user_ids: list[int]) -> int:
    """E-mail a new notification to those of `user_ids` who want it immediately. Safe to run
    twice: each notification is claimed once. Returns how many e-mails were sent."""
    from portal import notification_email

    return notification_email.send_immediate(dedupe_key, user_ids)


@shared_task(acks_late=True)
def send_notification_digests() -> int:
    """Hourly: the daily and weekly notification digests due now (07:00 in each person's time
    zone). Returns how many were sent; a repeated run sends nothing twice."""
    from portal import notification_email

    now = timezone.now()
    return sum(notification_email.send_digests(frequency, now) for frequency in ("daily", "weekly"))
