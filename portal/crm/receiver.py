"""A local webhook receiver: verifies Standard Webhooks signatures with the reference library
and de-duplicates on `webhook-id`. Used by `manage.py crm_receiver` (the demo), the tests and
bench/outbox.py, which script its answers (`fail_with`, `fail_ratio`, `delay`)."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    id: str
    event: dict[str, Any]
    received_at: float  # time.time()


@dataclass
class ReceiverState:
    secret: str
    # Answer with this status (e.g. 500, 410) instead of accepting; None: accept.
    fail_with: int | None = None
    # Answer the next this-many requests with 500, then accept again.
    fail_times: int = 0
    # Fail this share of requests at random with 500 (the benchmark's flaky receiver).
    fail_ratio: float = 0.0
    # Sleep this long before answering (a slow receiver: the sender's read timeout).
    delay: float = 0.0
    retry_after: str | None = None
    received: list[Received] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    requests: int = 0
    duplicates: int = 0
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    on_event: Callable[[Received], None] | None = None


def make_handler(state: ReceiverState, rand: random.Random | None = None) -> type:
    verifier = Webhook(state.secret)
    picker = rand or random.Random()  # noqa: S311 - only picks which requests fail

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver would

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return  # quiet: the demo command prints what arrives itself

        def _answer(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
            try:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                # The sender gave up (its read timeout) or died; it will send the event again.
                self.close_connection = True

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            with state.lock:
                state.requests += 1
                fail = state.fail_with
                if fail is None and state.fail_times > 0:
                    state.fail_times -= 1
                    fail = 500
                if fail is None and state.fail_ratio and picker.random() < state.fail_ratio:
                    fail = 500
            if state.delay:
                time.sleep(state.delay)
            if fail is not None:
                extra = {"retry-after": state.retry_after} if state.retry_after else {}
                self._answer(fail, b"receiver told to fail", extra)
                return
            try:
                event = verifier.verify(body, dict(self.headers.items()))
            except WebhookVerificationError as error:
                with state.lock:
                    state.bad_signatures += 1
                self._answer(400, str(error).encode())
                return
            msg_id = self.headers["webhook-id"]
            item = Received(id=msg_id, event=event, received_at=time.time())
            with state.lock:
                duplicate = msg_id in state.seen
                if duplicate:
                    state.duplicates += 1
                else:
                    state.seen.add(msg_id)
                    state.received.append(item)
            if not duplicate and state.on_event:
                state.on_event(item)
            self._answer(204)

    return Handler


class Receiver:
    """A receiver on 127.0.0.1 in a background thread: `with Receiver(secret) as r: r.url`."""

    def __init__(self, secret: str, port: int = 0, **options: Any) -> None:
        self.state = ReceiverState(secret=secret, **options)
        self.port = port
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), make_handler(self.state))
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def ids(self) -> list[str]:
        with self.state.lock:
            return [r.id for r in self.state.received]

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.state.lock:
                if len(self.state.received) >= count:
                    return list(self.state.received)
            time.sleep(0.02)
        with self.state.lock:
            return list(self.state.received)


def event_summary(event: dict[str, Any]) -> dict[str, Any]:
    """What the demo's watchers print of a CloudEvent (`crm_receiver`, `crm_queue`)."""
    return {
        "id": event.get("id"),
        "type": event.get("type"),
        "subject": event.get("subject"),
        "account": event.get("greenloopaccount"),
        "data": event.get("data"),
    }


def describe(item: Received) -> str:
    return json.dumps(event_summary(item.event), ensure_ascii=False)
