"""Pruning the outbox: delivered events go after a retention, never before every active endpoint
has them.

An event may be pruned when
- it was routed (it has every delivery it will ever get: endpoints created later, inactive ones
  and those whose filters leave it out get none), and
- none of its deliveries to an active endpoint is pending or dead-lettered (paused endpoints are
  active: they still want their backlog), and
- its last delivery, or its routing if nobody wanted it, is older than
  GREENLOOP_RETENTION["outbox_days"].

Its deliveries and their attempts go with it (the staff tools only ever show what is still in
the outbox). On PostgreSQL the database holds the same rule: the outbox's trigger
(migration 0009) refuses the application role any DELETE that breaks it, and any DELETE at all
outside a transaction that announced its retention (`greenloop.outbox_retention_days`), and the
deliveries cascade in the database, after the trigger has seen them. On SQLite (the demo) this
module's query is the only guard.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from portal import audit
from portal.models import Delivery, DeliveryAttempt, DeliveryState, OutboxEvent

logger = logging.getLogger(__name__)

# Events deleted per transaction (short locks; the task loops until nothing is left).
CHUNK = 1000


@dataclass
class PruneResult:
    events: int = 0
    deliveries: int = 0
    attempts: int = 0
    retention_days: float = 0
    dry_run: bool = False


def retention_days() -> float:
    return float(settings.GREENLOOP_RETENTION["outbox_days"])


def prunable(cutoff: datetime) -> QuerySet[OutboxEvent]:
    """Events whose deliveries every active endpoint has, settled before `cutoff`."""
    undelivered = Delivery.objects.filter(event=OuterRef("pk"), endpoint__is_active=True).exclude(
        state=DeliveryState.DELIVERED
    )
    recent = Delivery.objects.filter(event=OuterRef("pk"), delivered_at__gte=cutoff)
    return OutboxEvent.objects.filter(routed_at__lt=cutoff).exclude(
        Exists(undelivered) | Exists(recent)
    )


def _cutoff(days: float) -> datetime:
    """Now minus the retention. On PostgreSQL "now" is the transaction's start as the database
    sees it, never later than the trigger's own clock, so whatever this picks it accepts."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT now(), set_config('greenloop.outbox_retention_days', %s, true)",
                [str(days)],
            )
            now = cursor.fetchone()[0]
    return now - timedelta(days=days)


def _prune_chunk(days: float, result: PruneResult) -> int:
    with transaction.atomic():
        cutoff = _cutoff(days)
        ids = list(prunable(cutoff).order_by("routed_at").values_list("id", flat=True)[:CHUNK])
        if not ids:
            return 0
        deliveries = Delivery.objects.filter(event_id__in=ids)
        attempts = DeliveryAttempt.objects.filter(delivery__event_id__in=ids)
        result.deliveries += deliveries.count()
        result.attempts += attempts.count()
        if connection.vendor != "postgresql":
            # No cascade in the database here (and no trigger): children first.
            attempts.delete()
            deliveries.delete()
        # The rule again in the DELETE itself: a delivery replayed since the SELECT keeps its
        # event (on PostgreSQL the trigger would refuse it anyway).
        deleted, _by_model = prunable(cutoff).filter(id__in=ids).delete()
        return deleted


def prune_outbox(dry_run: bool = False) -> PruneResult:
    """Delete what the retention allows, in chunks; audit and log the counts. With `dry_run`,
    count what would go and delete nothing."""
    days = retention_days()
    result = PruneResult(retention_days=days, dry_run=dry_run)
    if dry_run:
        with transaction.atomic():
            ids = prunable(_cutoff(days)).values("id")
            result.events = ids.count()
            result.deliveries = Delivery.objects.filter(event_id__in=ids).count()
            result.attempts = DeliveryAttempt.objects.filter(delivery__event_id__in=ids).count()
    else:
        while deleted := _prune_chunk(days, result):
            result.events += deleted
        if result.events:
            audit.record(
                "crm.outbox.pruned",
                details={
                    "events": result.events,
                    "deliveries": result.deliveries,
                    "attempts": result.attempts,
                    "retention_days": days,
                },
            )
    logger.info(
        "Outbox pruning%s: %d events, %d deliveries, %d attempts older than %s days",
        " (dry run)" if dry_run else "",
        result.events,
        result.deliveries,
        result.attempts,
        days,
    )
    return result
