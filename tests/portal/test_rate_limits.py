"""Rate limits count across worker processes (the cache is Redis, not process memory), and
their refusals are on the audit trail, one row per client, limit and minute."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from django.conf import settings
from django.urls import reverse

from portal.models import AuditEvent
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

WRONG = "Tr0ub4dor&3-not-it"


def _sign_in(client, password: str):
    return client.post(
        reverse("account_login"), {"login": "member@acme.example", "password": password}
    )


def _fail_in_another_process(email: str, times: int) -> None:
    """Another worker process (same settings, same cache) receives `times` wrong passwords for
    `email` from the same client address."""
    script = textwrap.dedent(
        f"""
        import django
        django.setup()
        from allauth.account.adapter import get_adapter
        from allauth.core import context
        from django.test import RequestFactory

        for _ in range({times}):
            request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="127.0.0.1")
            with context.request_context(request):
                get_adapter(request).pre_authenticate(
                    request, email={email!r}, password={WRONG!r}
                )
        """
    )
    # The prefix passed on is this worker's whole prefix: the child must not add the xdist
    # worker's suffix to it a second time.
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTEST_XDIST_WORKER"},
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "GREENLOOP_TEST_CACHE_PREFIX": getattr(settings, "GREENLOOP_TEST_CACHE_PREFIX", ""),
        "PYTHONPATH": str(settings.BASE_DIR),
    }
    subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", script], env=env, cwd=settings.BASE_DIR, check=True, timeout=120
    )


# The test settings put the cache in Redis when they run on PostgreSQL (as CI does).
@pytest.mark.postgres
@pytest.mark.redis
def test_two_processes_share_the_failed_sign_in_count(client, member_a):
    # given 3 wrong passwords here and 2 in another worker process (5 allowed per 5 minutes)
    for _ in range(3):
        assert _sign_in(client, WRONG).status_code == 200
    _fail_in_another_process("member@acme.example", 2)
    # when the right password comes next
    response = _sign_in(client, TEST_PASSWORD)
    # then it is refused as the sixth attempt, and nobody is signed in
    assert response.status_code == 200
    assert "Too many failed login attempts. Try again later." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not AuditEvent.objects.filter(action="auth.signed_in").exists()


def test_throttled_sign_ins_leave_one_row_a_minute(client, member_a, frozen_minute):
    # given 5 wrong passwords, the most allowed
    for _ in range(5):
        _sign_in(client, WRONG)
    # when 20 more attempts come within the minute
    for _ in range(20):
        response = _sign_in(client, WRONG)
    # then each is refused, and the trail has one row for them
    assert "Too many failed login attempts." in response.content.decode()
    assert AuditEvent.objects.filter(action="auth.sign_in_failed").count() == 5
    throttled = AuditEvent.objects.get(action="auth.rate_limited")
    assert throttled.ip_address == "127.0.0.1"
    assert throttled.details == {
        "limit": "too_many_login_attempts",
        "path": "/accounts/login/",
        "principal": "ip:127.0.0.1",
        "minute": "2026-03-02T10:10Z",
    }


def test_the_next_minutes_row_counts_the_previous_minutes_refusals(client, member_a, frozen_minute):
    # given 5 wrong passwords, then 7 refused attempts in one minute
    for _ in range(5 + 7):
        _sign_in(client, WRONG)
    # when one more is refused a minute later
    frozen_minute(60)
    _sign_in(client, WRONG)
    # then the second row reports the 7 refusals of the first minute
    rows = list(AuditEvent.objects.filter(action="auth.rate_limited").order_by("id"))
    assert [row.details["minute"] for row in rows] == ["2026-03-02T10:10Z", "2026-03-02T10:11Z"]
    assert "previous" not in rows[0].details
    assert rows[1].details["previous"] == {"minute": "2026-03-02T10:10Z", "count": 7}


def test_a_view_refused_by_its_rate_limit_is_audited_once_a_minute(
    client, member_a, settings, frozen_minute
):
    # given the sign-in page allows 2 submissions a minute from one address
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "2/m/ip"}
    _sign_in(client, WRONG)
    _sign_in(client, WRONG)
    # when 6 more come
    responses = [_sign_in(client, TEST_PASSWORD) for _ in range(6)]
    # then each gets the 429 page, nobody signs in, and one row records the refusals
    assert {r.status_code for r in responses} == {429}
    assert "Too many requests" in responses[0].content.decode()
    assert "_auth_user_id" not in client.session
    throttled = AuditEvent.objects.get(action="auth.rate_limited")
    assert throttled.details == {
        "limit": "http_429",
        "path": "/accounts/login/",
        "principal": "ip:127.0.0.1",
        "minute": "2026-03-02T10:10Z",
    }


# --- the cache each environment uses

PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "x" * 50,
    "DATABASE_URL": "postgres://app@db:5432/greenloop",
    "CELERY_BROKER_URL": "redis://broker:6379/0",
    "ALLOWED_HOSTS": "portal.example.com",
    "WAGTAILADMIN_BASE_URL": "https://portal.example.com",
}


def _production_cache(**extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CACHE_URL"}}
    script = (
        "from portal.settings import production as s; "
        "print(s.CACHES['default']['BACKEND'], s.CACHES['default']['LOCATION'])"
    )
    return subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", script],
        env={**env, **PRODUCTION_ENV, **extra, "PYTHONPATH": str(settings.BASE_DIR)},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_to_start_without_a_shared_cache():
    result = _production_cache()
    assert result.returncode == 1
    assert "Set REDIS_URL (or CACHE_URL)" in result.stderr
    assert _production_cache(REDIS_URL="memcached://cache:11211").returncode == 1


@pytest.mark.parametrize("name", ["REDIS_URL", "CACHE_URL"])
def test_production_caches_in_the_named_redis(name):
    result = _production_cache(**{name: "redis://cache:6379/3"})
    assert result.stdout == "portal.cache.SharedClientRedisCache redis://cache:6379/3\n"
