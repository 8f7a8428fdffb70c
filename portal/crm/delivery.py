"""The delivery engine: outbox events to every endpoint that wants them, in order per
organisation, at least once.

A pass has two steps, each in its own transaction:

1. Routing: events not yet routed get one `Delivery` per active endpoint that wants them, in
   the order they are found (about commit order). Only one process routes at a time (a
   PostgreSQL advisory lock), so delivery ids follow that order everywhere.
2. Sending: the head of each lane (endpoint x organisation: its earliest delivery not yet
   delivered) is claimed with `FOR UPDATE SKIP LOCKED` if it is due, then it and the lane's
   following due deliveries are sent in id order until one fails. The row locks are held
   while sending, so several workers on several machines never send the same lane at once;
   a worker that dies mid-batch leaves its rows pending (the transaction rolls back) and the
   next pass sends them again, which receivers recognise by the event id (`webhook-id`).

A failed delivery blocks its own lane only, and is retried on a jittered exponential schedule;
after the last attempt it is dead-lettered and still blocks its lane (so order is never broken)
until staff replay it (portal/crm/admin.py) or the endpoint is reconfigured.

On SQLite (the demo) there is no row locking: run a single worker.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from portal import events as publish_events
from portal.crm.config import crm_settings
from portal.crm.connectors import Outcome, WebhookConnector, open_connector
from portal.models import (
    CrmEndpoint,
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    OutboxEvent,
)
from portal.models.events import DeliveryStatus

logger = logging.getLogger(__name__)

# pg_try_advisory_xact_lock key of the routing step ("GLCRMRT" in ASCII).
ROUTING_LOCK = 0x474C43524D5254


def retry_delay(attempts: int, rand: random.Random | None = None) -> float:
    """Seconds to wait after the `attempts`-th failed attempt: base x 2^(attempts-1), capped,
    then jittered to between 75 % and 100 % of that (so a crowd of failures spreads out and the
    cap is never exceeded)."""
    base = crm_settings()["retry_base_seconds"]
    cap = crm_settings()["retry_max_seconds"]
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return delay * (0.75 + 0.25 * (rand or random).random())


@dataclass
class PassResult:
    routed: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    attempts: int = 0
    endpoints_disabled: list[int] = field(default_factory=list)

    @property
    def worked(self) -> bool:
        return bool(self.routed or self.attempts)


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


# Routing on PostgreSQL: the deliveries in one INSERT from arrays, in the order given (their ids
# follow it), then the events marked routed. Arrays rather than a row of parameters per delivery:
# building and binding thousands of ORM rows cost more CPU than sending the events.
ROUTE_SQL = """
WITH deliveries AS (
    INSERT INTO portal_delivery (endpoint_id, event_id, lane, state, attempts, next_attempt_at,
                                 last_error, created_at)
    SELECT d.endpoint_id, d.event_id, d.lane, %(pending)s, 0, %(now)s, '', %(now)s
    FROM unnest(%(endpoints)s::bigint[], %(deliveries)s::uuid[], %(lanes)s::bigint[])
        WITH ORDINALITY AS d(endpoint_id, event_id, lane, n)
    ORDER BY d.n
    ON CONFLICT DO NOTHING
)
UPDATE portal_outboxevent SET routed_at = %(now)s WHERE id = ANY(%(events)s::uuid[])
"""


def route_events(limit: int | None = None) -> int:
    """Give unrouted events their deliveries; events nobody wants are delivered at once.
    Returns how many events were routed (0 when another process is routing)."""
    limit = limit or crm_settings()["route_batch_size"]
    with transaction.atomic():
        if _is_postgres():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [ROUTING_LOCK])
                if not cursor.fetchone()[0]:
                    return 0
        events = list(
            OutboxEvent.objects.filter(routed_at__isnull=True)
            .order_by("time", "id")
            .values_list("id", "type", "organisation_id")[:limit]
        )
        if not events:
            return 0
        publish_events.routing([(event_id, event_type) for event_id, event_type, _o in events])
        endpoints = list(CrmEndpoint.objects.filter(is_active=True))
        now = timezone.now()
        # (endpoint, event, lane) in routing order; a pass sees few types and organisations.
        routes: list[tuple[int, uuid.UUID, int]] = []
        unwanted = []
        wanted_by: dict[tuple[str, int | None], list[int]] = {}
        for event_id, event_type, organisation_id in events:
            key = (event_type, organisation_id)
            if key not in wanted_by:
                wanted_by[key] = [
                    e.id for e in endpoints if e.wants_type(event_type, organisation_id)
                ]
            if not wanted_by[key]:
                unwanted.append(event_id)
            routes += [
                (endpoint_id, event_id, organisation_id or 0) for endpoint_id in wanted_by[key]
            ]
        if _is_postgres():
            with connection.cursor() as cursor:
                cursor.execute(
                    ROUTE_SQL,
                    {
                        "pending": DeliveryState.PENDING,
                        "now": now,
                        "endpoints": [endpoint_id for endpoint_id, _e, _l in routes],
                        "deliveries": [event_id for _d, event_id, _l in routes],
                        "lanes": [lane for _d, _e, lane in routes],
                        "events": [event_id for event_id, _t, _o in events],
                    },
                )
        else:
            Delivery.objects.bulk_create(
                [
                    Delivery(
                        endpoint_id=endpoint_id, event_id=event_id, lane=lane, next_attempt_at=now
                    )
                    for endpoint_id, event_id, lane in routes
                ],
                batch_size=1000,
                ignore_conflicts=True,
            )
            OutboxEvent.objects.filter(id__in=[e[0] for e in events]).update(routed_at=now)
        if unwanted:
            OutboxEvent.objects.filter(id__in=unwanted).update(status=DeliveryStatus.DELIVERED)
    return len(events)


# The earliest not-yet-delivered delivery of every lane of the given endpoints, found lane by
# lane through the partial index crm_delivery_open (a loose index scan: two index probes per
# lane, however long the backlog), then locked if it is pending and due. The state is re-checked
# when the row is locked, so a head another worker just delivered is skipped.
HEADS_SQL = """
WITH RECURSIVE lanes (endpoint_id, lane) AS (
    SELECT e.id, (SELECT min(lane) FROM portal_delivery
                  WHERE state <> %(delivered)s AND endpoint_id = e.id)
    FROM unnest(%(endpoints)s::bigint[]) AS e(id)
    UNION ALL
    SELECT l.endpoint_id, (SELECT min(lane) FROM portal_delivery
                           WHERE state <> %(delivered)s AND endpoint_id = l.endpoint_id
                             AND lane > l.lane)
    FROM lanes l WHERE l.lane IS NOT NULL
)
SELECT d.id, d.endpoint_id, d.lane FROM lanes l
CROSS JOIN LATERAL (
    SELECT id FROM portal_delivery
    WHERE state <> %(delivered)s AND endpoint_id = l.endpoint_id AND lane = l.lane
    ORDER BY id LIMIT 1) h
JOIN portal_delivery d ON d.id = h.id
WHERE d.state = %(pending)s AND d.next_attempt_at <= %(now)s
ORDER BY d.id LIMIT %(limit)s FOR UPDATE OF d SKIP LOCKED
"""

# SQLite (the demo, one worker): the same heads by grouping the open deliveries.
HEADS_SQL_PLAIN = """
SELECT d.id, d.endpoint_id, d.lane FROM portal_delivery d
JOIN portal_crmendpoint e ON e.id = d.endpoint_id
WHERE d.id IN (SELECT MIN(id) FROM portal_delivery WHERE state <> %(delivered)s
               GROUP BY endpoint_id, lane)
  AND d.state = %(pending)s AND d.next_attempt_at <= %(now)s
  AND e.is_active AND NOT e.paused
ORDER BY d.id LIMIT %(limit)s
"""

# The next undelivered deliveries of each claimed lane (crm_delivery_open), locked. A dead one
# among them (a range resent ahead of it) stops the lane where it is (_send_lane).
FOLLOWERS_SQL = """
SELECT f.id FROM unnest(%(endpoints)s::bigint[], %(lanes)s::bigint[], %(heads)s::bigint[])
    AS l(endpoint_id, lane, head)
CROSS JOIN LATERAL (
    SELECT id FROM portal_delivery
    WHERE endpoint_id = l.endpoint_id AND lane = l.lane AND state <> %(delivered)s AND id > l.head
    ORDER BY id LIMIT %(per_lane)s FOR UPDATE) f
"""


def _follower_ids(lanes: dict[tuple[int, int], int], per_lane: int) -> list[int]:
    if _is_postgres():
        with connection.cursor() as cursor:
            cursor.execute(
                FOLLOWERS_SQL,
                {
                    "endpoints": [endpoint_id for endpoint_id, _lane in lanes],
                    "lanes": [lane for _endpoint_id, lane in lanes],
                    "heads": list(lanes.values()),
                    "delivered": DeliveryState.DELIVERED,
                    "per_lane": per_lane,
                },
            )
            return [row[0] for row in cursor.fetchall()]
    ids: list[int] = []
    for (endpoint_id, lane), head_id in lanes.items():
        ids += (
            Delivery.objects.filter(endpoint_id=endpoint_id, lane=lane, id__gt=head_id)
            .exclude(state=DeliveryState.DELIVERED)
            .order_by("id")
            .values_list("id", flat=True)[:per_lane]
        )
    return ids


def _claim(limit: int, now: datetime) -> list[Delivery]:
    """Lock the due heads of at most `lanes_per_pass` lanes and their following undelivered
    deliveries (up to 4 x `limit` in all); returns them in id order. Must run inside a
    transaction.

    Claiming a few lanes at a time leaves the others to the other workers: they all send side by
    side instead of one worker holding every lane while the rest find nothing."""
    endpoint_ids = list(
        CrmEndpoint.objects.filter(is_active=True, paused=False).values_list("id", flat=True)
    )
    if not endpoint_ids:
        return []
    params: dict = {
        "delivered": DeliveryState.DELIVERED,
        "pending": DeliveryState.PENDING,
        "now": now,
        "limit": max(1, min(limit, crm_settings()["lanes_per_pass"])),
    }
    with connection.cursor() as cursor:
        if _is_postgres():
            cursor.execute(HEADS_SQL, {**params, "endpoints": endpoint_ids})
        else:
            cursor.execute(HEADS_SQL_PLAIN, params)
        heads = cursor.fetchall()
    if not heads:
        return []
    # Nobody else can claim a lane whose head we hold, so its followers are ours: plain locks,
    # exactly those lanes (a wider lock could leave a gap in another worker's lane).
    lanes = {(endpoint_id, lane): head_id for head_id, endpoint_id, lane in heads}
    per_lane = max(1, limit * 4 // len(lanes))
    claimed = [head_id for head_id, _e, _l in heads] + _follower_ids(lanes, per_lane)
    return list(Delivery.objects.filter(id__in=claimed).select_related("event").order_by("id"))


def _send_lane(
    connector, deliveries: list[Delivery], now: datetime
) -> list[tuple[Delivery, Outcome]]:
    """Send one lane's deliveries in order; stop at the first failure (the rest wait)."""
    results = []
    for delivery in deliveries:
        if delivery.state != DeliveryState.PENDING:
            break  # dead-lettered: it blocks the rest of its lane until replayed
        if delivery.next_attempt_at and delivery.next_attempt_at > now:
            break  # a later row not yet due: the lane waits for it
        outcome = connector.send(delivery.event)
        results.append((delivery, outcome))
        if not outcome.ok:
            break
    return results


def deliver_batch(limit: int | None = None) -> PassResult:
    """Claim and send one batch. Returns what happened."""
    limit = limit or crm_settings()["batch_size"]
    result = PassResult()
    now = timezone.now()
    with transaction.atomic():
        claimed = _claim(limit, now)
        if not claimed:
            return result
        by_endpoint: dict[int, dict[int, list[Delivery]]] = defaultdict(lambda: defaultdict(list))
        for delivery in claimed:
            by_endpoint[delivery.endpoint_id][delivery.lane].append(delivery)
        endpoints = CrmEndpoint.objects.in_bulk(list(by_endpoint))
        sent: list[tuple[Delivery, Outcome]] = []
        for endpoint_id, lanes in by_endpoint.items():
            endpoint = endpoints[endpoint_id]
            connector = open_connector(endpoint)
            try:
                # HTTP lanes are independent and the client is thread-safe: send them side by
                # side; a broker channel is not, so its lanes go one after another.
                workers = (
                    crm_settings()["parallel_lanes"]
                    if isinstance(connector, WebhookConnector)
                    else 1
                )
                with ThreadPoolExecutor(max_workers=max(1, min(workers, len(lanes)))) as pool:
                    for lane_results in pool.map(
                        _send_lane,
                        [connector] * len(lanes),
                        lanes.values(),
                        [now] * len(lanes),
                    ):
                        sent += lane_results
            finally:
                connector.close()
        _record(sent, endpoints, result)
    return result


# Recording a batch on PostgreSQL: its attempts in one INSERT from arrays and its delivered rows
# in one UPDATE (what the ORM does with a row of parameters per attempt, for less CPU).
ATTEMPTS_SQL = """
INSERT INTO portal_deliveryattempt (delivery_id, started_at, status_code, latency_ms, ok, error)
SELECT * FROM unnest(%(deliveries)s::bigint[], %(started)s::timestamptz[], %(codes)s::int[],
                     %(latencies)s::int[], %(oks)s::boolean[], %(errors)s::text[])
"""
DELIVERED_SQL = """
UPDATE portal_delivery SET state = %(delivered)s, attempts = attempts + 1, delivered_at = %(now)s,
    last_error = '', next_attempt_at = NULL
WHERE id = ANY(%(ids)s::bigint[])
"""


def _record(sent, endpoints: dict[int, CrmEndpoint], result: PassResult) -> None:
    now = timezone.now()
    ok_ids = [d.id for d, o in sent if o.ok]
    if _is_postgres():
        with connection.cursor() as cursor:
            if sent:
                cursor.execute(
                    ATTEMPTS_SQL,
                    {
                        "deliveries": [d.id for d, _o in sent],
                        "started": [now - timedelta(milliseconds=o.latency_ms) for _d, o in sent],
                        "codes": [o.status_code for _d, o in sent],
                        "latencies": [o.latency_ms for _d, o in sent],
                        "oks": [o.ok for _d, o in sent],
                        "errors": [o.error for _d, o in sent],
                    },
                )
            if ok_ids:
                cursor.execute(
                    DELIVERED_SQL, {"delivered": DeliveryState.DELIVERED, "now": now, "ids": ok_ids}
                )
    else:
        DeliveryAttempt.objects.bulk_create(
            [
                DeliveryAttempt(
                    delivery=delivery,
                    started_at=now - timedelta(milliseconds=outcome.latency_ms),
                    status_code=outcome.status_code,
                    latency_ms=outcome.latency_ms,
                    ok=outcome.ok,
                    error=outcome.error,
                )
                for delivery, outcome in sent
            ],
            batch_size=1000,
        )
        if ok_ids:
            Delivery.objects.filter(id__in=ok_ids).update(
                state=DeliveryState.DELIVERED,
                attempts=F("attempts") + 1,
                delivered_at=now,
                last_error="",
                next_attempt_at=None,
            )
    result.attempts += len(sent)
    result.delivered += len(ok_ids)
    dead_events = []
    for delivery, outcome in sent:
        if outcome.ok:
            continue
        result.failed += 1
        attempts = delivery.attempts + 1
        delay = retry_delay(attempts)
        if outcome.retry_after is not None:
            delay = max(delay, min(outcome.retry_after, crm_settings()["retry_max_seconds"]))
        dead = attempts >= crm_settings()["max_attempts"]
        Delivery.objects.filter(id=delivery.id).update(
            attempts=attempts,
            last_error=outcome.error,
            state=DeliveryState.DEAD if dead else DeliveryState.PENDING,
            next_attempt_at=None if dead else now + timedelta(seconds=delay),
        )
        if dead:
            result.dead += 1
            dead_events.append(delivery.event_id)
        if outcome.gone:
            endpoint = endpoints[delivery.endpoint_id]
            CrmEndpoint.objects.filter(id=endpoint.id).update(
                is_active=False, disabled_reason=f"HTTP 410 at {now.isoformat()}"
            )
            result.endpoints_disabled.append(endpoint.id)
            logger.warning("CRM endpoint %s answered 410 Gone: disabled", endpoint.name)
    if dead_events:
        # Only pending events: one already delivered (a range resent from the admin) is frozen.
        OutboxEvent.objects.filter(id__in=dead_events, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.DEAD
        )
    event_ids = {d.event_id for d, o in sent if o.ok}
    if event_ids:
        # An event is delivered once every endpoint has it (then it becomes append-only).
        # NOT EXISTS per event (index on event_id), not a scan of every undelivered delivery.
        undelivered = Delivery.objects.filter(event=OuterRef("pk")).exclude(
            state=DeliveryState.DELIVERED
        )
        OutboxEvent.objects.filter(id__in=event_ids, status=DeliveryStatus.PENDING).exclude(
            Exists(undelivered)
        ).update(status=DeliveryStatus.DELIVERED)


def run_pass(limit: int | None = None) -> PassResult:
    """Route what is new, then send one batch. Routing takes more per pass than a batch sends
    (route_batch_size): one process routes at a time while every worker sends, and a lane can
    only be sent as far as it is routed."""
    routed = route_events()
    result = deliver_batch(limit)
    result.routed = routed
    return result


def replay(deliveries) -> int:
    """Put dead-lettered (or failing) deliveries back in line, due now. Returns how many.
    Their events go back to pending too."""
    rows = deliveries.exclude(state=DeliveryState.DELIVERED)
    event_ids = list(rows.values_list("event_id", flat=True))
    # A replay starts the retry schedule afresh; the attempt log keeps the earlier tries.
    count = rows.update(state=DeliveryState.PENDING, attempts=0, next_attempt_at=timezone.now())
    OutboxEvent.objects.filter(id__in=event_ids, status=DeliveryStatus.DEAD).update(
        status=DeliveryStatus.PENDING
    )
    return count


def resend(deliveries) -> int:
    """Send deliveries again whatever their state (a replayed time range). They take their old
    place in their lanes (ids keep the order), ahead of anything newer. Returns how many."""
    event_ids = list(deliveries.filter(state=DeliveryState.DEAD).values_list("event_id", flat=True))
    count = deliveries.update(
        state=DeliveryState.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
    OutboxEvent.objects.filter(id__in=event_ids, status=DeliveryStatus.DEAD).update(
        status=DeliveryStatus.PENDING
    )
    return count
