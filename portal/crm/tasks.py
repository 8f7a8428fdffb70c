"""Celery tasks of the CRM bridge: a kick right after commit, and beat's sweep as a safety net."""

from __future__ import annotations

import time

from celery import shared_task
from django.core.cache import cache
from django.db.models import Min
from django.utils import timezone

from portal.crm.config import crm_settings
from portal.crm.delivery import run_pass
from portal.crm.inbound import purge_inbound_webhook_ids as purge_ids
from portal.crm.pruning import prune_outbox as prune
from portal.models import Delivery, DeliveryState

WAKE_KEY = "greenloop:crm:wake-up"


def enqueue(**options) -> None:
    """Queue a delivery task, on GREENLOOP_CRM["queue"] when one is set (a dedicated queue, e.g.
    per test run, whose workers then consume it with `-Q`); the default queue otherwise."""
    queue = crm_settings().get("queue")
    deliver_outbox.apply_async(**({"queue": queue} if queue else {}), **options)


KICK_KEY = "greenloop:crm:kick-queued"
# A delivery task that is queued and not yet started will route every event committed before it
# starts, so a kick while one waits adds nothing. The mark outlives a lost task by at most this
# long (beat's sweep runs every 15 s as well).
KICK_PENDING_SECONDS = 10


def kick() -> None:
    """Queue a delivery task after a commit that wrote events, unless one is already queued
    and has not started yet: under a burst of writes (a redemption every few milliseconds) most
    commits then cost a cache write instead of a message to the broker."""
    if not cache.add(KICK_KEY, 1, timeout=KICK_PENDING_SECONDS):
        return
    try:
        enqueue()
    except Exception:
        cache.delete(KICK_KEY)  # nothing is queued: the next commit tries again
        raise


# A retry due sooner than this is waited for inside the running task (no wake-up round trip).
WAIT_IN_TASK_SECONDS = 1.0


def _seconds_to_next_retry() -> float | None:
    due = Delivery.objects.filter(
        state=DeliveryState.PENDING,
        endpoint__is_active=True,
        endpoint__paused=False,
        next_attempt_at__isnull=False,
    ).aggregate(first=Min("next_attempt_at"))["first"]
    return None if due is None else max(0.0, (due - timezone.now()).total_seconds())


def _schedule_wake_up(wait: float | None) -> None:
    """When retries are due before beat's next sweep, queue one pass for then. One wake-up at a
    time (a cache key lives until it is due), however many tasks end together."""
    if wait is None or deliver_outbox.app.conf.task_always_eager:
        return  # eager (the demo): a countdown would run at once; beat or the next kick does
    if wait > crm_settings()["wake_up_within_seconds"]:
        return  # beat's sweep comes first
    if cache.add(WAKE_KEY, 1, timeout=max(1, int(wait) + 1)):
        enqueue(kwargs={"wake_up": True}, countdown=wait)


@shared_task(name="portal.crm.deliver_outbox", acks_late=True, ignore_result=True)
def deliver_outbox(wake_up: bool = False) -> int:
    """Run passes until one finds nothing to do, or for at most `pass_budget_seconds` (then
    queue a follow-up, so one task never holds a worker for long). Returns attempts made."""
    # Events committed from now on may not be seen by this task's passes: their kicks queue
    # another one.
    cache.delete(KICK_KEY)
    if wake_up:
        cache.delete(WAKE_KEY)  # the next wake-up may be queued as soon as this one runs
    budget = crm_settings()["pass_budget_seconds"]
    started = time.monotonic()
    attempts = 0
    while True:
        result = run_pass()
        attempts += result.attempts
        if not result.worked:
            wait = _seconds_to_next_retry()
            if (
                wait is not None
                and wait <= WAIT_IN_TASK_SECONDS
                and time.monotonic() - started + wait <= budget
                and not deliver_outbox.app.conf.task_always_eager  # never sleep in a request
            ):
                time.sleep(wait)
                continue
            _schedule_wake_up(wait)
            return attempts
        if time.monotonic() - started > budget:
            enqueue()
            return attempts


@shared_task(name="portal.crm.prune_outbox", acks_late=True, ignore_result=True)
def prune_outbox() -> int:
    """Daily: delete outbox events past GREENLOOP_RETENTION["outbox_days"] that every active
    endpoint has (portal/crm/pruning.py). Returns how many events went."""
    return prune().events


@shared_task(name="portal.crm.purge_inbound_webhook_ids", acks_late=True, ignore_result=True)
def purge_inbound_webhook_ids() -> int:
    """Daily: forget inbound webhook ids past their retention (safe to repeat)."""
    return purge_ids()
