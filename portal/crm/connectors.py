"""Connectors: how one event reaches one kind of destination.

The engine (delivery.py) only knows `open_connector(endpoint)`, which returns an object with
`send(event) -> Outcome` and `close()`; another CRM is another class registered in CONNECTORS.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlparse

import urllib3
from standardwebhooks.webhooks import Webhook
from urllib3.exceptions import (
    ConnectTimeoutError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)

from portal.crm.config import crm_settings
from portal.models import ConnectorKind, CrmEndpoint, OutboxEvent

if TYPE_CHECKING:
    from kombu import Producer

CLOUDEVENTS_JSON = "application/cloudevents+json"
ERROR_EXCERPT = 500
USER_AGENT = "GreenLoop-CRM-bridge/1"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    latency_ms: int
    status_code: int | None = None
    error: str = ""
    # Seconds the destination asked us to wait (Retry-After), if it did.
    retry_after: float | None = None
    # The destination said it is gone for good (HTTP 410): stop sending to it.
    gone: bool = False


class Connector(Protocol):
    def send(self, event: OutboxEvent) -> Outcome: ...

    def close(self) -> None: ...


class DestinationRefused(Exception):
    """The endpoint's address may not be contacted (scheme, or a private network not allowed)."""


def body_of(event: OutboxEvent) -> str:
    # Structured mode: the whole CloudEvent is the body. Compact and key-ordered, so the bytes
    # signed are the bytes sent and the same event always has the same body.
    return json.dumps(event.as_cloudevent(), separators=(",", ":"), sort_keys=True)


def _elapsed_ms(started: float) -> int:
    return max(0, round((time.monotonic() - started) * 1000))


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def check_destination(url: str) -> None:
    """Refuse URLs that are not http(s) or whose host resolves to a private, loopback,
    link-local or otherwise internal address, unless that network is allow-listed in
    settings.GREENLOOP_CRM["allowed_private_networks"] (the tests allow loopback)."""
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise DestinationRefused(f"not an http(s) URL: {url[:100]}")
    allowed = [ipaddress.ip_network(net) for net in crm_settings()["allowed_private_networks"]]
    try:
        infos = socket.getaddrinfo(parsed.hostname, parsed.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as error:
        raise DestinationRefused(f"cannot resolve {parsed.hostname}: {error}") from error
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if any(address in net for net in allowed):
            continue
        if not address.is_global or address.is_multicast:
            raise DestinationRefused(f"{parsed.hostname} resolves to non-public {address}")


_pools: dict[tuple[int, float, float], urllib3.PoolManager] = {}
_pools_lock = threading.Lock()


def shared_pool() -> urllib3.PoolManager:
    """One connection pool per process and timeout setting: it keeps connections to the
    endpoints alive from one batch to the next, and is thread-safe. urllib3 rather than a
    higher-level client: a signed POST costs about half the CPU (bench/outbox.py's profile), and
    sending is most of what a delivery worker does."""
    timeouts = crm_settings()["timeout_seconds"]
    key = (os.getpid(), timeouts["connect"], timeouts["read"])
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = urllib3.PoolManager(
                num_pools=32,
                maxsize=32,
                timeout=urllib3.Timeout(connect=timeouts["connect"], read=timeouts["read"]),
                retries=False,
            )
        return pool


def transport_error(error: Exception) -> str:
    """A transport failure as the attempt log shows it: a stable kind (what an integration admin
    searches for) and the library's message."""
    if isinstance(error, NewConnectionError):
        kind = "ConnectError"  # refused, unreachable, unresolvable: before the connect timeout
    elif isinstance(error, ConnectTimeoutError):
        kind = "ConnectTimeout"
    elif isinstance(error, ReadTimeoutError):
        kind = "ReadTimeout"
    elif isinstance(error, ProtocolError):
        kind = "ProtocolError"  # the connection dropped mid-exchange
    else:
        kind = type(error).__name__
    return f"{kind}: {error}"[:ERROR_EXCERPT]


class WebhookConnector:
    """Standard Webhooks 1.0 over HTTP: signed with every current secret, never redirected."""

    def __init__(self, endpoint: CrmEndpoint, pool: urllib3.PoolManager | None = None) -> None:
        self.endpoint = endpoint
        self.signers = [Webhook(secret) for secret in endpoint.signing_secrets()]
        self.refused: str = ""
        try:
            check_destination(endpoint.url)
            # The endpoint's host pool, looked up once: per request only the path is needed.
            self.host_pool = (pool or shared_pool()).connection_from_url(endpoint.url)
            self.path = urllib3.util.parse_url(endpoint.url).request_uri
        except (DestinationRefused, urllib3.exceptions.LocationValueError) as error:
            self.refused = str(error)

    def headers(self, event: OutboxEvent, body: str, now: datetime) -> dict[str, str]:
        msg_id = str(event.id)
        signatures = " ".join(s.sign(msg_id=msg_id, timestamp=now, data=body) for s in self.signers)
        return {
            "content-type": CLOUDEVENTS_JSON,
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signatures,
            "user-agent": USER_AGENT,
        }

    def send(self, event: OutboxEvent) -> Outcome:
        if self.refused:
            return Outcome(ok=False, latency_ms=0, error=f"refused: {self.refused}"[:ERROR_EXCERPT])
        body = body_of(event)
        started = time.monotonic()
        try:
            response = self.host_pool.urlopen(
                "POST",
                self.path,
                body=body.encode(),
                headers=self.headers(event, body, datetime.now(UTC)),
                redirect=False,
            )
        except (urllib3.exceptions.HTTPError, OSError) as error:
            return Outcome(ok=False, latency_ms=_elapsed_ms(started), error=transport_error(error))
        latency = _elapsed_ms(started)
        code = response.status
        if 200 <= code < 300:
            return Outcome(ok=True, latency_ms=latency, status_code=code)
        excerpt = response.data[:200].decode(errors="replace") if code >= 400 else ""
        if 300 <= code < 400:
            excerpt = f"redirect to {response.headers.get('location', '?')[:150]} not followed"
        return Outcome(
            ok=False,
            latency_ms=latency,
            status_code=code,
            error=f"HTTP {code}: {excerpt}"[:ERROR_EXCERPT],
            retry_after=retry_after_seconds(response.headers.get("retry-after"))
            if code == 429 or code >= 500
            else None,
            gone=code == 410,
        )

    def close(self) -> None:
        pass  # the shared pool stays open for the next batch


class RabbitMQConnector:
    """CloudEvents AMQP binding, structured mode, on a durable topic exchange: routing key = event
    type, persistent messages, publisher confirms (a publish returns once the broker has it)."""

    def __init__(self, endpoint: CrmEndpoint) -> None:
        from kombu import Connection, Exchange

        self.endpoint = endpoint
        timeouts = crm_settings()["timeout_seconds"]
        self.connection = Connection(
            endpoint.url,
            connect_timeout=timeouts["connect"],
            transport_options={"confirm_publish": True},
        )
        self.exchange = Exchange(endpoint.exchange, type="topic", durable=True)
        self.producer: Producer | None = None

    def send(self, event: OutboxEvent) -> Outcome:
        started = time.monotonic()
        try:
            if self.producer is None:
                self.producer = self.connection.Producer(exchange=self.exchange)
                self.exchange(self.producer.channel).declare()
            self.producer.publish(
                body_of(event).encode(),
                routing_key=event.type,
                content_type=CLOUDEVENTS_JSON,
                content_encoding="utf-8",
                delivery_mode=2,
                message_id=str(event.id),
                timestamp=int(event.time.timestamp()),
                retry=False,
            )
        except Exception as error:  # noqa: BLE001 - kombu and amqp raise many types; all retry
            self.producer = None
            return Outcome(
                ok=False,
                latency_ms=_elapsed_ms(started),
                error=f"{type(error).__name__}: {error}"[:ERROR_EXCERPT],
            )
        return Outcome(ok=True, latency_ms=_elapsed_ms(started))

    def close(self) -> None:
        self.connection.release()


CONNECTORS: dict[str, type] = {
    ConnectorKind.WEBHOOK: WebhookConnector,
    ConnectorKind.RABBITMQ: RabbitMQConnector,
}


def open_connector(endpoint: CrmEndpoint) -> Connector:
    return CONNECTORS[endpoint.kind](endpoint)
