"""Account signals: collected through the hook, stored daily and on demand, published as
greenloop.account.signals, and shown to customer-success staff in the admin."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal import account_signals
from portal.models import AccountHealth, AuditEvent, OutboxEvent, Role
from portal.staff_roles import StaffRole
from tests.conftest import _staff
from tests.factories import MembershipFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)


def _member(org, last_login):
    return MembershipFactory(organisation=org, role=Role.MEMBER, user__last_login=last_login)


def _by_key(components):
    return {c.key: c for c in components}


def test_portal_components_count_active_members_and_the_last_sign_in(org_a, org_b):
    # given Acme with four members: two signed in within 30 days (the latest 3 days ago), one 40
    # days ago and one never; Globex with nobody
    _member(org_a, NOW - dt.timedelta(days=3))
    _member(org_a, NOW - dt.timedelta(days=29))
    _member(org_a, NOW - dt.timedelta(days=40))
    _member(org_a, None)
    empty = OrganisationFactory()
    # when the signals are collected
    found = account_signals.portal_signals([org_a.pk, empty.pk], NOW)
    # then
    acme = _by_key(found[org_a.pk])
    assert acme["active_users"].score == 50
    assert acme["active_users"].signals == {"members": 4, "active_30d": 2}
    assert acme["sign_in_recency"].score == 100
    assert acme["sign_in_recency"].signals == {
        "last_sign_in": "2026-06-27T12:00:00+00:00",
        "days_since_sign_in": 3,
    }
    nobody = _by_key(found[empty.pk])
    assert nobody["active_users"].score is None  # no members: nothing to measure
    assert nobody["sign_in_recency"].score == 0
    assert nobody["sign_in_recency"].signals == {"last_sign_in": None, "days_since_sign_in": None}


def test_every_installed_app_contributes_through_the_hook(org_a):
    found = account_signals.collect([org_a.pk], NOW)
    assert [(c.key, c.source) for c in found[org_a.pk]] == [
        ("active_users", "portal"),
        ("sign_in_recency", "portal"),
        ("carbon_intensity", "carbon"),
        ("points_use", "carbon"),
        ("community", "community"),
        ("beta", "beta_program"),
        ("ideas", "beta_program"),
    ]


def test_record_stores_the_day_and_publishes_the_signals(org_a):
    # given one member who signed in 48 days ago
    _member(org_a, NOW - dt.timedelta(days=48))
    # when the day's signals are recorded
    [row] = account_signals.record([org_a], now=NOW)
    # then: active_users 0 (w 25), sign_in_recency 51 (w 15), community 0 (w 25); carbon's two
    # beta and ideas have nothing to score: (0 + 765 + 0) / 65 = 11.77
    assert row.score == 12
    assert row.day == dt.date(2026, 6, 30)
    assert row.trigger == "daily"
    assert [(c["key"], c["score"], c["weight"]) for c in row.components] == [
        ("active_users", 0, 25.0),
        ("sign_in_recency", 51, 15.0),
        ("carbon_intensity", None, 15.0),
        ("points_use", None, 20.0),
        ("community", 0, 25.0),
        ("beta", None, 10.0),
        ("ideas", None, 10.0),
    ]
    event = OutboxEvent.objects.get(type="greenloop.account.signals")
    assert event.organisation == org_a
    assert event.subject == f"organisations/{org_a.slug}"
    assert event.dataschema == "urn:greenloop:event-schema:greenloop.account.signals:1"
    assert event.data["day"] == "2026-06-30"
    assert event.data["score"] == 12
    assert event.data["components"] == row.components


def test_recording_again_the_same_day_replaces_the_row(org_a):
    account_signals.record([org_a], now=NOW)
    _member(org_a, NOW - dt.timedelta(days=1))
    account_signals.record([org_a], now=NOW + dt.timedelta(hours=2))
    assert AccountHealth.objects.filter(organisation=org_a).count() == 1
    assert AccountHealth.objects.get(organisation=org_a).score == 62  # (2500 + 1500) / 65
    assert OutboxEvent.objects.filter(type="greenloop.account.signals").count() == 2


def test_the_daily_task_covers_every_active_organisation(org_a, org_b):
    retired = OrganisationFactory(is_active=False)
    assert account_signals.record_account_signals.delay().get() == 2
    assert set(AccountHealth.objects.values_list("organisation_id", flat=True)) == {
        org_a.pk,
        org_b.pk,
    }
    assert not AccountHealth.objects.filter(organisation=retired).exists()


def test_the_daily_run_costs_the_same_queries_for_more_organisations(
    django_assert_max_num_queries,
):
    # Contributors answer for all organisations at once: collecting does not grow per row.
    few = [OrganisationFactory() for _ in range(2)]
    with CaptureQueriesContext(connection) as baseline:
        account_signals.collect([o.pk for o in few], NOW)
    many = few + [OrganisationFactory() for _ in range(8)]
    for org in many:
        _member(org, NOW - dt.timedelta(days=2))
    with django_assert_max_num_queries(len(baseline.captured_queries)):
        account_signals.collect([o.pk for o in many], NOW)


def test_the_beat_schedule_runs_it_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["portal-record-account-signals"]
    assert entry["task"] == "portal.account_signals.record_account_signals"
    assert account_signals.record_account_signals.name == entry["task"]
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({4}, {0})


# --- the admin


def _url(name, *args):
    return reverse(f"account_health:{name}", args=args)


@pytest.fixture
def moderator(db, enable_totp):
    user = _staff("mod@greenloop.example", StaffRole.MODERATOR)
    enable_totp(user)
    return user


def _history(org, scores):
    today = timezone.localdate()
    for days_ago, score in scores:
        AccountHealth.objects.create(
            organisation=org,
            day=today - dt.timedelta(days=days_ago),
            computed_at=timezone.now(),
            trigger="daily",
            score=score,
            components=[
                {
                    "key": "active_users",
                    "score": score,
                    "weight": 25,
                    "source": "portal",
                    "signals": {"members": 3, "active_30d": 2},
                },
                {
                    "key": "points_use",
                    "score": None,
                    "weight": 20,
                    "source": "carbon",
                    "signals": {"earned_12m": 0},
                },
            ],
        )


def test_customer_success_sees_every_account_with_score_components_and_sparkline(
    client, staff_success, org_a, org_b
):
    _history(org_a, [(2, 40), (1, 55), (0, 71)])
    client.force_login(staff_success)
    response = client.get(_url("index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Acme Solar" in html
    assert "Globex" in html
    assert "<strong>71</strong>" in html
    assert html.count('<svg class="health-sparkline"') == 2
    assert "Active users" in html
    assert "Points use" in html
    assert _url("detail", org_a.pk) in html


def test_the_overview_runs_no_query_per_account(
    client, staff_success, django_assert_max_num_queries
):
    client.force_login(staff_success)
    orgs = [OrganisationFactory() for _ in range(2)]
    for org in orgs:
        _history(org, [(1, 50), (0, 60)])
    with CaptureQueriesContext(connection) as few:
        assert client.get(_url("index")).status_code == 200
    for _ in range(10):
        _history(OrganisationFactory(), [(3, 20), (2, 30), (0, 60)])
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(_url("index")).status_code == 200


def test_the_account_page_shows_each_component_and_what_it_contributed(
    client, staff_success, org_a
):
    _history(org_a, [(1, 55), (0, 71)])
    client.force_login(staff_success)
    response = client.get(_url("detail", org_a.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "71 / 100" in html
    assert "Active users" in html
    assert "nothing to score" in html  # points_use
    assert "71.0" in html  # active_users carries the whole score: 25 x 71 / 25
    assert "<code>active_30d</code>" in html
    assert "Recalculate now" in html


def test_recalculate_now_stores_publishes_and_audits(client, staff_success, org_a):
    _member(org_a, timezone.now() - dt.timedelta(days=1))
    client.force_login(staff_success)
    response = client.post(_url("recalculate", org_a.pk))
    assert response.status_code == 302
    assert response["Location"] == _url("detail", org_a.pk)
    row = AccountHealth.objects.get(organisation=org_a)
    assert row.trigger == "on_demand"
    assert row.score == 62  # active 100 (w 25), sign-in 100 (w 15), community 0 (w 25)
    assert OutboxEvent.objects.filter(type="greenloop.account.signals").count() == 1
    audit = AuditEvent.objects.get(action="account_health.recalculated")
    assert (audit.actor, audit.organisation, audit.details) == (staff_success, org_a, {"score": 62})


def test_recalculate_refuses_get(client, staff_success, org_a):
    client.force_login(staff_success)
    assert client.get(_url("recalculate", org_a.pk)).status_code == 405
    assert not AccountHealth.objects.exists()


def test_an_unknown_or_retired_organisation_is_404(client, staff_success):
    retired = OrganisationFactory(is_active=False)
    client.force_login(staff_success)
    assert client.get(_url("detail", retired.pk)).status_code == 404
    assert client.post(_url("recalculate", retired.pk)).status_code == 404
    assert client.get(_url("detail", 999999)).status_code == 404
    assert not AccountHealth.objects.exists()


def test_staff_without_the_permission_are_refused(client, moderator, org_a):
    client.force_login(moderator)
    for response in (
        client.get(_url("index")),
        client.get(_url("detail", org_a.pk)),
        client.post(_url("recalculate", org_a.pk)),
    ):
        # Wagtail answers a PermissionDenied in its admin by going back to the dashboard
        assert response.status_code == 302
        assert response["Location"] == reverse("wagtailadmin_home")
    assert not AccountHealth.objects.exists()
    # nor does the menu offer it
    assert _url("index") not in client.get(reverse("wagtailadmin_home")).content.decode()


def test_the_menu_offers_it_to_customer_success(client, staff_success):
    client.force_login(staff_success)
    assert _url("index") in client.get(reverse("wagtailadmin_home")).content.decode()


def test_customers_cannot_reach_it(client, admin_a, org_a):
    client.force_login(admin_a)
    response = client.get(_url("detail", org_a.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
