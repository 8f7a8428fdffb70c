"""Test settings: PostgreSQL when reachable (as in CI), SQLite otherwise.

Tests marked `postgres` are skipped with the reason on SQLite, and CI treats such skips as failures.
"""

import atexit
import shutil
import socket
import tempfile
from urllib.parse import urlparse

from .base import *

SECRET_KEY = "test-only-not-secret"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
# Uploads (and the private files beside them, portal/storage.py) go to a directory of this
# process's own, so runs (and xdist workers) never see each other's files. It is deleted when the
# process that made it exits: pytest, or a subprocess a test starts with these settings.
GREENLOOP_TEST_FILES_DIR = Path(tempfile.mkdtemp(prefix="greenloop-test-files-"))
MEDIA_ROOT = GREENLOOP_TEST_FILES_DIR / "media"


def _remove_test_files(path: Path = GREENLOOP_TEST_FILES_DIR, owner: int = os.getpid()) -> None:
    if os.getpid() == owner:  # not in a forked child that exits through atexit
        shutil.rmtree(path, ignore_errors=True)


atexit.register(_remove_test_files)
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
GREENLOOP_IS_DEMO = True
GREENLOOP_VALIDATE_EVENTS = True
# Tests run the CRM bridge themselves (or start a worker); receivers listen on loopback.
GREENLOOP_CRM = {
    **GREENLOOP_CRM,
    "kick_after_commit": False,
    "allowed_private_networks": ["127.0.0.0/8", "::1/128"],
}
# The inbound CRM webhook's demo secret (a well-known value: never use it in production).
GREENLOOP_CRM_INBOUND_SECRET = os.environ.get(
    "GREENLOOP_CRM_INBOUND_SECRET", "whsec_ZGVtby1vbmx5LWNybS1pbmJvdW5kLXNlY3JldC0wMDE="
)
ACCOUNT_RATE_LIMITS = {**ACCOUNT_RATE_LIMITS}
# How many times each test marked `race` runs (tests/conftest.py): once per CI run keeps the
# suite's time; a nightly run sets GREENLOOP_RACE_REPEATS=20 to catch a rare interleaving.
GREENLOOP_RACE_REPEATS = int(os.environ.get("GREENLOOP_RACE_REPEATS", "1"))


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1
        ):
            return True
    except OSError:
        return False


_TEST_PG_URL = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/greenloop")
if os.environ.get("GREENLOOP_TEST_DB", "auto") != "sqlite" and _reachable(_TEST_PG_URL, 5432):
    DATABASES = {"default": dj_database_url.parse(_TEST_PG_URL)}
    # One test database per run, so that parallel runs on one machine never collide.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("GREENLOOP_TEST_DB_NAME", f"test_greenloop_{os.getpid()}")
    }
    GREENLOOP_TEST_POSTGRES_REASON = ""
    # As in production, the cache (rate limits, audit counters, sessions, per-person entries)
    # lives in Redis, so tests see what several worker processes would. The key prefix is per
    # process and per xdist worker (like the database name), so parallel runs and workers never
    # share entries; tests/conftest.py deletes this process's keys before every test.
    _TEST_CACHE_URL = os.environ.get("TEST_CACHE_URL", "redis://127.0.0.1:6379/14")
    if _reachable(_TEST_CACHE_URL, 6379):
        GREENLOOP_TEST_CACHE_PREFIX = os.environ.get(
            "GREENLOOP_TEST_CACHE_PREFIX", f"test-greenloop-{os.getpid()}"
        )
        if os.environ.get("PYTEST_XDIST_WORKER"):
            GREENLOOP_TEST_CACHE_PREFIX += f"-{os.environ['PYTEST_XDIST_WORKER']}"
        CACHES = redis_caches(_TEST_CACHE_URL, GREENLOOP_TEST_CACHE_PREFIX)
    # The suite runs as the application role, as production does (tests/conftest.py creates
    # both roles with `create_db_roles` after migrating, then switches every connection).
    GREENLOOP_TEST_DB_ROLES = {
        "owner": os.environ.get("GREENLOOP_TEST_DB_OWNER", "greenloop_owner"),
        "app": os.environ.get("GREENLOOP_TEST_DB_APP", "greenloop_app"),
    }
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
    GREENLOOP_TEST_POSTGRES_REASON = f"no PostgreSQL reachable at {_TEST_PG_URL}"
