"""Embedded defaults for the one-command demo: SQLite, eager Celery, local files, console e-mail."""

from .base import *

DEBUG = True
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-not-secret-greenloop")  # noqa: S105
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = ["http://127.0.0.1:8000", "http://localhost:8000"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
# WebAuthn needs a secure origin; the demo runs on plain http://127.0.0.1.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
GREENLOOP_IS_DEMO = True
GREENLOOP_VALIDATE_EVENTS = True
# The demo's CRM receiver (`manage.py crm_receiver`) listens on this machine.
GREENLOOP_CRM = {**GREENLOOP_CRM, "allowed_private_networks": ["127.0.0.0/8", "::1/128"]}
# The inbound CRM webhook's demo secret (a well-known value: never use it in production).
GREENLOOP_CRM_INBOUND_SECRET = os.environ.get(
    "GREENLOOP_CRM_INBOUND_SECRET", "whsec_ZGVtby1vbmx5LWNybS1pbmJvdW5kLXNlY3JldC0wMDE="
)
