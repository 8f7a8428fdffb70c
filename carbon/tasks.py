"""Background work of the carbon plugin. Tasks take ids, reload rows and are safe to run twice."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from carbon import calculation
from carbon.catalogue import service_name
from carbon.models import FactorDataset
from portal.models import Organisation

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def recalculate_orders(
    organisation_id: int | None = None,
    dataset_id: int | None = None,
    start_after_id: int | None = None,
) -> dict[str, Any]:
    """Recalculate the footprints of one organisation's orders (or all) with a dataset (or the
    default one), in batches. Idempotent: orders whose inputs and factors are unchanged keep
    their snapshot, so a retried or repeated run writes nothing new."""
    organisation = Organisation.objects.get(pk=organisation_id) if organisation_id else None
    dataset = FactorDataset.objects.get(pk=dataset_id) if dataset_id else None

    def progress(result: calculation.RecalculationResult) -> None:
        logger.info(
            "recalculate_orders: %s/%s orders, last id %s",
            result.processed,
            result.total,
            result.last_id,
        )

    result = calculation.recalculate(
        organisation, dataset, start_after_id=start_after_id, progress=progress
    )
    return {
        "processed": result.processed,
        "created": result.created,
        "unchanged": result.unchanged,
        "failed": [
            {"order_id": order_id, "message": message, "field": field}
            for order_id, message, field in result.failed
        ],
        "last_id": result.last_id,
    }


@shared_task(acks_late=True)
def activate_due_points(day: str | None = None) -> int:
    """Daily (Celery beat): make pending points available once their pending period is over.
    Idempotent through the ledger's keys (``activate:<award>``); returns entries written."""
    from carbon import ledger

    return len(ledger.activate_due(_day(day)))


@shared_task(acks_late=True)
def expire_due_points(day: str | None = None) -> int:
    """Daily (Celery beat): expire unspent points whose lots have run out, first in first out.
    Idempotent through the ledger's keys (``expire:<date>``); returns entries written."""
    from carbon import ledger

    return len(ledger.expire_due(_day(day)))


def _day(day: str | None) -> dt.date:
    # Beat passes no argument: "today" in the site's time zone, decided when the task runs.
    return dt.date.fromisoformat(day) if day else timezone.localdate()


@shared_task(
    autoretry_for=(smtplib.SMTPException, ConnectionError),
    retry_backoff=True,
    max_retries=6,
    acks_late=True,
)
def send_redemption_email(redemption_id: int, what: str) -> bool:
    """Tell the person who asked for a redemption what happened to it, in their language.
    Returns False when there is nobody to tell."""
    from carbon.models import Redemption

    redemption = (
        Redemption.objects.select_related("service", "organisation", "requested_by", "site")
        .filter(pk=redemption_id)
        .first()
    )
    if redemption is None or redemption.requested_by is None:
        return False
    user = redemption.requested_by
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
