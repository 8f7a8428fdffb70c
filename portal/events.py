"""Domain events: CloudEvents 1.0 records written to the outbox inside the caller's transaction.

Plugins publish with `publish()` and react to each other's events with `subscribe()`; handlers run
only after the transaction commits, so a rolled-back change neither stores nor dispatches an event.
Every type is registered in `portal.event_catalogue` with the JSON Schema of its data.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from portal import event_catalogue
from portal.models import Organisation, OutboxEvent

logger = logging.getLogger(__name__)

EventHandler = Callable[[OutboxEvent], None]
_subscribers: list[tuple[str, EventHandler]] = []
_worker_subscribers: list[tuple[str, EventHandler]] = []


class EventError(Exception):
    pass


def _json_safe(data: dict[str, Any]) -> dict[str, Any]:
    # Decimals, datetimes and UUIDs become strings exactly as DjangoJSONEncoder writes them.
    import json

    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def publish(
    type: str,  # noqa: A002 - CloudEvents names the attribute "type"
    organisation: Organisation | None,
    subject: str,
    data: dict[str, Any],
) -> OutboxEvent:
    """Write one event to the outbox. Must run inside `transaction.atomic()`.

    Event types are dotted and start with ``greenloop.``, e.g. ``greenloop.carbon.points_awarded``.
    """
    event = prepare(type, organisation, subject, data)
    event.save(force_insert=True)
    return event


def prepare(
    type: str,  # noqa: A002 - CloudEvents names the attribute "type"
    organisation: Organisation | None,
    subject: str,
    data: dict[str, Any],
) -> OutboxEvent:
    """The event `publish()` writes, checked but not saved, for a caller that writes the row
    itself in a statement with its change (`carbon.points.ledger.hold_for_redemption`, which
    holds a lock until commit and so takes no extra round trip for it). The caller must write
    the row in the current transaction or raise; its subscribers are called after commit as
    for `publish()`. Must run inside `transaction.atomic()`."""
    if not type.startswith("greenloop.") or type.count(".") < 2:
        raise EventError(f"Event type {type!r} must look like 'greenloop.<area>.<what_happened>'.")
    if not transaction.get_connection().in_atomic_block:
        raise EventError("publish() must be called inside transaction.atomic() with the change.")
    data = _json_safe(data)
    event_type = event_catalogue.get(type)
    if settings.GREENLOOP_VALIDATE_EVENTS:
        # DEBUG and the tests: a payload that drifts from its published schema fails where it is
        # written. Production trusts the tests rather than validate every write.
        if event_type is None:
            raise EventError(f"Event type {type!r} is not registered in portal.event_catalogue.")
        problems = event_type.problems(subject, data)
        if problems:
            raise EventError(f"{type} does not match its schema: " + "; ".join(problems))
    elif event_type is None:
        logger.error("Event type %s is not registered in portal.event_catalogue", type)
    event = OutboxEvent(
        source=settings.GREENLOOP_EVENT_SOURCE,
        type=type,
        time=timezone.now(),
        subject=subject,
        dataschema=event_type.dataschema if event_type else "",
        data=data,
        organisation=organisation,
    )
    transaction.on_commit(lambda: _dispatch(event))
    _kick_delivery_after_commit()
    return event


def _kick_delivery() -> None:
    from portal.crm.tasks import kick

    try:
        kick()
    except Exception:
        # The change is committed and its event is in the outbox: beat's sweep sends it.
        logger.exception("Could not queue the outbox delivery; the sweep will send it")


def deliver_after_commit() -> None:
    """Queue a delivery task once the current transaction commits, for a write that makes
    deliveries due without publishing an event (a replay, an endpoint resumed): they go out
    now rather than at beat's next sweep (or, in the demo, the next customer action)."""
    _kick_delivery_after_commit()


def _kick_delivery_after_commit() -> None:
    """Queue one delivery task per transaction, however many events it writes. A kick
    registered in a savepoint that rolled back is gone from the list, so it is added again."""
    if not settings.GREENLOOP_CRM["kick_after_commit"]:
        return
    connection = transaction.get_connection()
    if not any(func is _kick_delivery for _sids, func, _robust in connection.run_on_commit):
        transaction.on_commit(_kick_delivery)


def subscribe(pattern: str, handler: EventHandler) -> None:
    """Call `handler(event)` after commit for every event whose type matches the glob `pattern`."""
    _subscribers.append((pattern, handler))


def unsubscribe(pattern: str, handler: EventHandler) -> None:
    _subscribers.remove((pattern, handler))


def subscribe_in_worker(pattern: str, handler: EventHandler) -> None:
    """Call `handler(event)` from the outbox worker for every event whose type matches the glob
    `pattern`, once the CRM bridge's routing step that takes the event has committed (one
    process routes at a time and each event once: `portal.crm.delivery.route_events`). For
    reactions a request should not wait for, such as queueing an e-mail; like `subscribe()`'s
    handlers they run at most once per event (a worker that dies between its commit and the
    call loses it)."""
    _worker_subscribers.append((pattern, handler))


def unsubscribe_in_worker(pattern: str, handler: EventHandler) -> None:
    _worker_subscribers.remove((pattern, handler))


def routing(events: list[tuple[Any, str]]) -> None:
    """Called by the routing step inside its transaction with the (id, type) of the events it
    routes: the worker subscribers of those events are called after it commits."""
    wanted = [
        event_id
        for event_id, type_ in events
        if any(fnmatch.fnmatchcase(type_, pattern) for pattern, _ in _worker_subscribers)
    ]
    if wanted:
        transaction.on_commit(lambda: _dispatch_routed(wanted))


def _dispatch_routed(event_ids: list[Any]) -> None:
    for event in OutboxEvent.objects.filter(id__in=event_ids).order_by("time", "id"):
        for pattern, handler in list(_worker_subscribers):
            if fnmatch.fnmatchcase(event.type, pattern):
                try:
                    handler(event)
                except Exception:
                    logger.exception("Worker handler %r failed for %s", handler, event.id)


def _dispatch(event: OutboxEvent) -> None:
    for pattern, handler in list(_subscribers):
        if fnmatch.fnmatchcase(event.type, pattern):
            try:
                handler(event)
            except Exception:
                # One plugin's failing reaction must not break another's or the committed change.
                logger.exception("Event handler %r failed for %s", handler, event.id)
