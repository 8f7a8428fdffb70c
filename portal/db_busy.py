"""A database that is busy for a moment is the server's passing state, not the person's mistake.

SQLite's "database is locked" (a writer that waited the whole busy timeout), and PostgreSQL's
serialization failures, deadlocks and lock timeouts, roll back the change they interrupted, so
sending the same request again is safe. Pages answer 503 with a "try again" page that carries
what the person sent, ready to send again; the API answers 503 with its JSON error and
`Retry-After`. Every other database error stays a 500: it is a bug to fix, not a moment to wait.
"""

from __future__ import annotations

import logging

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)

# serialization_failure, deadlock_detected, lock_not_available (SQLSTATE codes).
TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
SQLITE_BUSY_MESSAGES = ("database is locked", "database table is locked")
RETRY_AFTER_SECONDS = 5
# Kept text longer than this, or on several lines, is shown for editing; shorter values (ids,
# choices, hidden fields) travel hidden.
SHOWN_TEXT_LENGTH = 60
NOT_KEPT_FIELDS = frozenset({"csrfmiddlewaretoken"})
# Secrets are never written back into a page (passwords, one-time codes, tokens): the person
# types them again.
SECRET_FIELD_PARTS = ("password", "secret", "token", "code", "otp")


def _kept(name: str) -> bool:
    lowered = name.lower()
    return name not in NOT_KEPT_FIELDS and not any(p in lowered for p in SECRET_FIELD_PARTS)


def is_transient(error: BaseException) -> bool:
    """Whether `error` is a database error that sending the request again may not meet."""
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    return sqlstate in TRANSIENT_SQLSTATES or str(error).startswith(SQLITE_BUSY_MESSAGES)


def api_busy_response() -> JsonResponse:
    response = JsonResponse(
        {
            "code": "database_busy",
            "message": "The database was busy and nothing was saved. Send the request again.",
            "field": None,
        },
        status=503,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def busy_page(request: HttpRequest) -> HttpResponse:
    """The 503 page; for a form post, a form that sends the same fields again (the long text
    the person typed visible and editable, the rest hidden). Files cannot be carried over."""
    shown: list[tuple[str, str]] = []
    hidden: list[tuple[str, str]] = []
    if request.method == "POST":
        for name, values in request.POST.lists():
            if not _kept(name):
                continue
            for value in values:
                long_text = "\n" in value or len(value) > SHOWN_TEXT_LENGTH
                (shown if long_text else hidden).append((name, value))
    response = render(
        request,
        "portal/busy.html",
        {
            "resend": request.method == "POST",
            "shown_fields": shown,
            "hidden_fields": hidden,
            "files_dropped": bool(request.method == "POST" and request.FILES),
            "retry_after": RETRY_AFTER_SECONDS,
        },
        status=503,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def busy_response(request: HttpRequest, error: BaseException) -> HttpResponse:
    logger.warning("Database busy on %s %s: %s", request.method, request.path, error)
    if request.path.startswith("/api/"):
        return api_busy_response()
    return busy_page(request)
