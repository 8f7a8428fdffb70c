"""Embedded defaults for the one-command demo: SQLite, eager Celery, local files, console e-mail."""

from typing import cast

from .base import *

DEBUG = True
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-not-secret-greenloop")  # noqa: S105
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = ["http://127.0.0.1:8000", "http://localhost:8000"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
# WebAuthn needs a secure origin; the demo runs on plain http://127.0.0.1.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
GREENLOOP_IS_DEMO = True
# Several people use the demo at once, on one SQLite file. Write-ahead logging lets pages read
# while someone writes; IMMEDIATE transactions take the write lock when they begin, so a
# transaction that read first never has to upgrade its lock (SQLite answers that upgrade with
# "database is locked" at once, without waiting); the timeout (seconds) is how long a writer
# queues behind another before giving up.
SQLITE_CONCURRENCY_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        **SQLITE_CONCURRENCY_OPTIONS,
    }
GREENLOOP_VALIDATE_EVENTS = True
# The demo's CRM receiver (`manage.py crm_receiver`) listens on this machine.
GREENLOOP_CRM = {**GREENLOOP_CRM, "allowed_private_networks": ["127.0.0.0/8", "::1/128"]}
# The inbound CRM webhook's demo secret (a well-known value: never use it in production).
GREENLOOP_CRM_INBOUND_SECRET = os.environ.get(
    "GREENLOOP_CRM_INBOUND_SECRET", "whsec_ZGVtby1vbmx5LWNybS1pbmJvdW5kLXNlY3JldC0wMDE="
)
# The demo's console: e-mails in a short form (portal/demo_mail.py) and no log line per eager
# Celery task or Wagtail page event; the address the demo serves stays readable at the end.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "portal.demo_mail.ShortConsoleBackend")
LOGGING = {
    **LOGGING,
    "loggers": {
        **cast(dict, LOGGING["loggers"]),
        "celery.app.trace": {"level": "WARNING"},
        "wagtail": {"level": "WARNING"},
    },
}
# Unknown pages show the portal's 404 page although DEBUG is on (portal/middleware.py);
# GREENLOOP_TECHNICAL_404=1 brings back Django's technical page for debugging URL patterns.
if not env_bool("GREENLOOP_TECHNICAL_404", default=False):
    MIDDLEWARE = [*MIDDLEWARE, "portal.middleware.PortalNotFoundMiddleware"]
