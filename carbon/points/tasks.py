"""Background work of the points wing. Tasks take ids, reload rows and are safe to run twice.
Task names are fixed (beat schedules and queued messages name them), not derived from modules."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections import Counter
from functools import partial

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from carbon.models import EntryKind, ExpiryReminder, LedgerEntry, Order, PointsAccount, Redemption
from carbon.points import actions, awards, ledger
from carbon.points.catalogue import service_name
from portal.models import Membership, Organisation, Role, User

logger = logging.getLogger(__name__)


@shared_task(name="carbon.tasks.activate_due_points", acks_late=True)
def activate_due_points(day: str | None = None) -> int:
    """Daily (Celery beat): make pending points available once their pending period is over.
    Idempotent through the ledger's keys (``activate:<award>``); returns entries written."""
    return len(actions.activate_due(_day(day)))


@shared_task(name="carbon.tasks.expire_due_points", acks_late=True)
def expire_due_points(day: str | None = None) -> int:
    """Daily (Celery beat): expire unspent points whose lots have run out, first in first out.
    Idempotent through the ledger's keys (``expire:<date>``); returns entries written."""
    return len(actions.expire_due(_day(day)))


def _day(day: str | None) -> dt.date:
    # Beat passes no argument: "today" in the site's time zone, decided when the task runs.
    return dt.date.fromisoformat(day) if day else timezone.localdate()


@shared_task(
    name="carbon.tasks.send_redemption_email",
    autoretry_for=(smtplib.SMTPException, ConnectionError),
    retry_backoff=True,
    max_retries=6,
    acks_late=True,
)
def send_redemption_email(redemption_id: int, what: str) -> bool:
    """Tell the person who asked for a redemption what happened to it, in their language.
    Returns False when there is nobody to tell."""
    redemption = (
        Redemption.objects.select_related("service", "organisation", "requested_by", "site")
        .filter(pk=redemption_id)
        .first()
    )
    # An erased (or deactivated) requester has no address to write to any more.
    if redemption is None or redemption.requested_by is None:
        return False
    user = redemption.requested_by
    if not user.is_active:
        return False
    language = user.preferred_language or settings.LANGUAGE_CODE
    with translation.override(language):
        subjects = {
            "requested": _("We received your request: %(service)s"),
            "fulfilled": _("Confirmed: %(service)s"),
            "rejected": _("Declined: %(service)s"),
            "cancelled": _("Cancelled: %(service)s"),
        }
        subject = subjects[what] % {"service": service_name(redemption.service)}
        body = render_to_string(
            "carbon/email/redemption.txt",
            {
                "redemption": redemption,
                "what": what,
                "service_name": service_name(redemption.service),
                "url": settings.WAGTAILADMIN_BASE_URL.rstrip("/")
                + reverse(
                    "carbon:redemption_detail",
                    kwargs={"org_slug": redemption.organisation.slug, "pk": redemption.pk},
                ),
            },
        )
    send_mail(subject, body, None, [user.email])
    return True


# --- points follow orders (enqueued by carbon.points.subscribers after an order or footprint
# changes)

SETTLE_BATCH = 500


@shared_task(name="carbon.tasks.settle_order_points", acks_late=True)
def settle_order_points(order_id: int) -> str:
    """Award a delivered order, or reverse a cancelled or returned one (`actions.settle_order`).
    Safe to run any number of times; returns what it did."""
    order = Order.objects.select_related("organisation").filter(pk=order_id).first()
    if order is None:
        return "missing"
    return actions.settle_order(order)


@shared_task(name="carbon.tasks.settle_orders_points", acks_late=True)
def settle_orders_points(order_ids: list[int]) -> dict[str, int]:
    """`settle_order_points` for a batch of orders (an import or a recalculation). One order
    that fails is logged and the others are still settled; returns a count per outcome."""
    outcomes: Counter[str] = Counter()
    orders = Order.objects.select_related("organisation").filter(pk__in=order_ids).order_by("pk")
    for order in orders:
        try:
            outcomes[actions.settle_order(order)] += 1
        except Exception:
            logger.exception("Settling the points of order %s failed", order.pk)
            outcomes["failed"] += 1
    return dict(outcomes)


@shared_task(name="carbon.tasks.reverse_green_power_rewards", acks_late=True)
def reverse_revoked_green_power(declaration_id: int, revoked_by_id: int) -> int:
    """Reverse the green-power reward of the awards that used a revoked declaration; safe to
    run twice (one ledger entry per award). Returns the entries written or found."""
    revoked_by = User.objects.filter(pk=revoked_by_id).first()
    if revoked_by is None:
        logger.warning("Revoker %s of declaration %s is gone", revoked_by_id, declaration_id)
        return 0
    return len(actions.reverse_green_power_rewards(declaration_id, revoked_by))


@shared_task(name="carbon.tasks.award_delivered_orders", acks_late=True)
def award_delivered_orders(batch_size: int = SETTLE_BATCH) -> dict[str, int]:
    """Daily (Celery beat) safety net behind the event subscribers: award every delivered order
    that has a footprint and no award yet, and reverse every cancelled or returned order whose
    award is not reversed (an import event names at most 1,000 orders; a policy approved later
    can cover deliveries already made). Works through `awards.unsettled_orders()` in id order,
    `batch_size` at a time; returns a count per outcome."""
    outcomes: Counter[str] = Counter()
    last_id = 0
    while True:
        ids = list(
            awards.unsettled_orders()
            .filter(pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            break
        outcomes.update(settle_orders_points(ids))
        last_id = ids[-1]
    logger.info("award_delivered_orders: %s", dict(outcomes))
    return dict(outcomes)


# --- expiry reminders


def _reminder_recipients(organisation_id: int):
    """The organisation's admins who can receive e-mail."""
    return (
        Membership.objects.filter(
            organisation_id=organisation_id, role=Role.ADMIN, user__is_active=True
        )
        .exclude(user__email="")
        .select_related("user")
    )


@shared_task(name="carbon.tasks.send_expiry_reminders", acks_late=True)
def send_expiry_reminders(day: str | None = None) -> int:
    """Daily (Celery beat): tell each organisation's admins, once per account and date, about
    the available points (FIFO: neither spent nor held) that expire in the next 30 days. The
    `ExpiryReminder` row is written in the same transaction that enqueues the e-mails (after
    commit), so a rolled-back run sends nothing and a repeated run sends nothing twice. Returns
    the number of reminders recorded."""
    today = _day(day)
    horizon = today + dt.timedelta(days=ledger.REMINDER_DAYS)
    account_ids = (
        LedgerEntry.objects.filter(
            kind=EntryKind.ACTIVATE,
            expires_on__gt=today,
            expires_on__lte=horizon,
            account__available__gt=0,
            account__organisation__is_active=True,
        )
        .values_list("account_id", flat=True)
        .distinct()
        .order_by("account_id")
    )
    recorded = 0
    for account in PointsAccount.objects.filter(pk__in=list(account_ids)).order_by("pk"):
        recipients = list(
            _reminder_recipients(account.organisation_id).values_list("user_id", flat=True)
        )
        if not recipients:
            continue  # nobody to tell: try again tomorrow, an admin may have joined
        with transaction.atomic():
            reminders = actions.record_expiry_reminders(account, today)
            for reminder in reminders:
                for user_id in recipients:
                    transaction.on_commit(
                        partial(send_expiry_reminder_email.delay, reminder.pk, user_id)
                    )
        recorded += len(reminders)
    return recorded


@shared_task(
    name="carbon.tasks.send_expiry_reminder_email",
    autoretry_for=(smtplib.SMTPException, ConnectionError),
    retry_backoff=True,
    max_retries=6,
    acks_late=True,
)
def send_expiry_reminder_email(reminder_id: int, user_id: int) -> bool:
    """One expiry reminder to one admin, in their language, with a link to the points
    statement. Returns False when the reminder is gone or the user is no longer an admin."""
    reminder = (
        ExpiryReminder.objects.select_related("account__organisation")
        .filter(pk=reminder_id)
        .first()
    )
    if reminder is None:
        return False
    organisation = reminder.account.organisation
    membership = _reminder_recipients(organisation.pk).filter(user_id=user_id).first()
    if membership is None:
        return False
    user = membership.user
    language = user.preferred_language or settings.LANGUAGE_CODE
    with translation.override(language):
        date = formats.date_format(reminder.expires_on, "DATE_FORMAT")
        subject = _("Carbon points expiring on %(date)s: %(points)d") % {
            "points": reminder.points,
            "date": date,
        }
        body = render_to_string(
            "carbon/email/expiry_reminder.txt",
            {
                "organisation": organisation,
                "points": reminder.points,
                "date": date,
                "url": settings.WAGTAILADMIN_BASE_URL.rstrip("/")
                + reverse("carbon:points", kwargs={"org_slug": organisation.slug}),
            },
        )
    send_mail(subject, body, None, [user.email])
    return True


# --- points granted by other plugins' events (carbon.points.subscribers)

# Stored on the ledger entry as its reason; the event carries no text of its own (ids only).
GRADUATION_REASON = "Beta programme graduation: thank-you points (programme {programme_id})"


@shared_task(name="carbon.tasks.grant_graduation_points", acks_late=True)
def grant_graduation_points(
    programme_id: int, approved_by_id: int, grants: list[dict[str, int]]
) -> int:
    """Credit each organisation the points a beta programme's graduation granted it, as a manual
    adjustment approved by the staff member who graduated the programme. Idempotent per
    programme and organisation (key ``beta-graduation:<programme>:<organisation>``), so a
    repeated event or task credits nothing twice. Returns the entries written or found."""
    approver = User.objects.filter(pk=approved_by_id, is_staff=True, is_active=True).first()
    if approver is None:
        logger.warning(
            "Graduation points of programme %s: approver %s is gone", programme_id, approved_by_id
        )
        return 0
    wanted = {g["organisation_id"]: g["points"] for g in grants if g.get("points", 0) > 0}
    organisations = Organisation.objects.filter(pk__in=wanted, is_active=True).order_by("pk")
    done = 0
    for organisation in organisations:
        actions.adjust(
            ledger.account_for(organisation),
            wanted[organisation.pk],
            GRADUATION_REASON.format(programme_id=programme_id),
            approver,
            key=f"beta-graduation:{programme_id}:{organisation.pk}",
        )
        done += 1
    return done
