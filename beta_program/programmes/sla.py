"""The triage SLA: how long a report may wait for its first triage (its first move out of
"new"), by severity. Days per severity come from the BETA_TRIAGE_SLA_DAYS setting (a dict; a
deployment sets only the severities it changes) over the defaults below.

`triage_due` is the one place a due time is computed; `sla_state` the one place "overdue" is
decided (the admin queue filters the same rule in SQL through `overdue_q`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

DEFAULT_DAYS: dict[str, int] = {"critical": 1, "high": 3, "medium": 7, "low": 14}


def days_for(severity: str) -> int | None:
    """Days to first triage for `severity`; None for feedback without one (no SLA)."""
    configured = {**DEFAULT_DAYS, **getattr(settings, "BETA_TRIAGE_SLA_DAYS", {})}
    days = configured.get(severity)
    return int(days) if days is not None else None


def triage_due(severity: str, submitted_at: dt.datetime) -> dt.datetime | None:
    """When a report of `severity` filed at `submitted_at` must have been triaged."""
    days = days_for(severity)
    return submitted_at + dt.timedelta(days=days) if days is not None else None


@dataclass(frozen=True)
class SlaState:
    due_at: dt.datetime | None
    triaged_at: dt.datetime | None
    overdue: bool
    # Triaged after the due time (the SLA was missed even though the clock stopped).
    missed: bool


def sla_state(
    due_at: dt.datetime | None, triaged_at: dt.datetime | None, now: dt.datetime | None = None
) -> SlaState:
    """Overdue: not triaged yet and past due. Missed: triaged, but after the due time."""
    now = now or timezone.now()
    overdue = due_at is not None and triaged_at is None and now > due_at
    missed = due_at is not None and triaged_at is not None and triaged_at > due_at
    return SlaState(due_at=due_at, triaged_at=triaged_at, overdue=overdue, missed=missed)


def overdue_q(now: dt.datetime | None = None) -> Q:
    """The rows `sla_state` calls overdue, as a filter."""
    return Q(first_triaged_at__isnull=True, triage_due_at__lt=now or timezone.now())
