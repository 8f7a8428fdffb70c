"""Celery tasks of the CRM bridge: a kick right after commit, and beat's sweep as a safety net."""

from __future__ import annotations

import time

from celery import shared_task
from django.conf import settings

from portal.crm.delivery import run_pass


@shared_task(name="portal.crm.deliver_outbox", acks_late=True, ignore_result=True)
def deliver_outbox() -> int:
    """Run passes until one finds nothing to do, or for at most `pass_budget_seconds` (then
    queue a follow-up, so one task never holds a worker for long). Returns attempts made."""
    budget = settings.GREENLOOP_CRM["pass_budget_seconds"]
    started = time.monotonic()
    attempts = 0
    while True:
        result = run_pass()
        attempts += result.attempts
        if not result.worked:
            return attempts
        if time.monotonic() - started > budget:
            deliver_outbox.delay()
            return attempts
