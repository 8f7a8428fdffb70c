"""Account signals per organisation: collected from every app through a hook, scored with
`portal.health`, stored daily (Celery beat) or on demand (admin), and published as
`greenloop.account.signals`.

Apps contribute with Wagtail's hook registry; the portal never imports a plugin:

    @hooks.register("greenloop_account_signals")
    def carbon_signals(organisation_ids: list[int], now: datetime) -> dict[int, list[Component]]:
        ...

A contributor is called once for all the organisations of a run and must answer with a fixed
number of queries (no query per organisation): the daily run covers every customer.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from wagtail import hooks

from portal import audit, events
from portal.event_types import ACCOUNT_SIGNALS
from portal.health import Component, HealthScore, health_score, recency_score, share_score
from portal.models import AccountHealth, Membership, Organisation

HOOK_NAME = "greenloop_account_signals"
# A member counts as active when they signed in within this many days.
ACTIVE_DAYS = 30


def collect(organisation_ids: Sequence[int], now: datetime) -> dict[int, list[Component]]:
    """Every contributor's components for each organisation, in hook order."""
    found: dict[int, list[Component]] = {pk: [] for pk in organisation_ids}
    for contributor in hooks.get_hooks(HOOK_NAME):
        for pk, components in contributor(list(organisation_ids), now).items():
            if pk in found:
                found[pk].extend(components)
    return found


def score(components: Sequence[Component]) -> HealthScore:
    return health_score(components, settings.GREENLOOP_HEALTH_WEIGHTS)


def record(
    organisations: Iterable[Organisation],
    *,
    trigger: str = AccountHealth.Trigger.DAILY,
    now: datetime | None = None,
) -> list[AccountHealth]:
    """Compute, store (one row per organisation and day, replaced when run again that day) and
    publish the signals of `organisations`. Each organisation in its own transaction, so one
    failure does not undo the others' rows and events."""
    now = now or timezone.now()
    organisations = list(organisations)
    components = collect([o.pk for o in organisations], now)
    day = timezone.localdate(now)
    stored = []
    for organisation in organisations:
        result = score(components[organisation.pk])
        document = result.components_document()
        with transaction.atomic():
            row, _created = AccountHealth.objects.update_or_create(
                organisation=organisation,
                day=day,
                defaults={
                    "computed_at": now,
                    "trigger": trigger,
                    "score": result.score,
                    "components": document,
                },
            )
            events.publish(
                ACCOUNT_SIGNALS,
                organisation,
                f"organisations/{organisation.slug}",
                {
                    "day": day,
                    "computed_at": now,
                    "score": result.score,
                    "components": document,
                },
            )
        stored.append(row)
    return stored


def recalculate(organisation: Organisation, *, by, request=None) -> AccountHealth:
    """Customer success asked for fresh figures now (admin); audited."""
    row = record([organisation], trigger=AccountHealth.Trigger.ON_DEMAND)[0]
    audit.record(
        "account_health.recalculated",
        actor=by,
        organisation=organisation,
        obj=row,
        request=request,
        details={"score": row.score},
    )
    return row


@shared_task(acks_late=True)
def record_account_signals() -> int:
    """Daily (CELERY_BEAT_SCHEDULE): every active organisation's signals. Safe to run twice in
    a day (the day's row is replaced; the CRM gets the newer event). Returns how many."""
    organisations = Organisation.objects.filter(is_active=True).order_by("pk")
    return len(record(organisations))


# --- the portal's own components: who signs in


@hooks.register(HOOK_NAME)
def portal_signals(organisation_ids: list[int], now: datetime) -> dict[int, list[Component]]:
    since = now - timedelta(days=ACTIVE_DAYS)
    rows = (
        Membership.objects.filter(organisation_id__in=organisation_ids)
        .values("organisation_id")
        .annotate(
            members=Count("id"),
            active=Count("id", filter=Q(user__last_login__gte=since)),
            last_sign_in=Max("user__last_login"),
        )
    )
    figures = {row["organisation_id"]: row for row in rows}
    found = {}
    for pk in organisation_ids:
        row = figures.get(pk, {"members": 0, "active": 0, "last_sign_in": None})
        last = row["last_sign_in"]
        days = (now - last).days if last else None
        found[pk] = [
            Component(
                "active_users",
                share_score(row["active"], row["members"]),
                "portal",
                {"members": row["members"], f"active_{ACTIVE_DAYS}d": row["active"]},
            ),
            Component(
                "sign_in_recency",
                recency_score(days, full_within=7, zero_after=90),
                "portal",
                {
                    "last_sign_in": last.isoformat() if last else None,
                    "days_since_sign_in": days,
                },
            ),
        ]
    return found
