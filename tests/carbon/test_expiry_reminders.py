"""Expiry reminders: once per account and date, 30 days ahead, to the organisation's admins only,
for the points that will really expire (FIFO: not those already spent or held), in each admin's
language, with a link to the points statement."""

from __future__ import annotations

import datetime as dt

import pytest

from carbon.models import ExpiryReminder
from carbon.points import actions, ledger, tasks
from portal.models import Role
from tests.carbon.factories import hold
from tests.carbon.test_points_ledger import delivered_order, make_policy
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

# Delivered 2025-03-01, active from 2025-03-15 (14 days), expiring 2026-03-15 (12 months).
DELIVERED = dt.date(2025, 3, 1)
EXPIRES = dt.date(2026, 3, 15)
REMINDER_DAY = "2026-02-20"  # 23 days before


@pytest.fixture
def policy(db):
    return make_policy(pending_days=14, expiry_months=12)


def earn(organisation, points: int, delivered: dt.date = DELIVERED):
    """`points` available to `organisation`, in a lot expiring 12 months after activation."""
    order = delivered_order(organisation, points, delivered)
    actions.award_order(order)
    actions.activate_due(delivered + dt.timedelta(days=14))
    return ledger.account_for(organisation)


def remind(day: str, capture) -> int:
    with capture(execute=True):
        return tasks.send_expiry_reminders.delay(day).get()


def test_admins_are_reminded_once_of_points_expiring_within_30_days(
    org_a,
    org_b,
    admin_a,
    member_a,
    viewer_a,
    admin_b,
    policy,
    mailoutbox,
    settings,
    django_capture_on_commit_callbacks,
):
    # given 120 points of Acme and 75 of Globex expiring on 2026-03-15
    settings.WAGTAILADMIN_BASE_URL = "https://portal.greenloop.example/"
    acme = earn(org_a, 120)
    earn(org_b, 75)
    # when the daily task runs 33 days before: too early, nothing is sent
    assert remind("2026-02-10", django_capture_on_commit_callbacks) == 0
    assert mailoutbox == []
    # when it runs 23 days before
    assert remind(REMINDER_DAY, django_capture_on_commit_callbacks) == 2
    # then each organisation's admin gets one e-mail about their own points, members do not
    assert sorted(m.to for m in mailoutbox) == [["admin@acme.example"], ["admin@globex.example"]]
    [to_acme] = [m for m in mailoutbox if m.to == ["admin@acme.example"]]
    assert to_acme.subject == "Carbon points expiring on March 15, 2026: 120"
    assert "120 of Acme Solar's carbon points expire on March 15, 2026." in to_acme.body
    assert "https://portal.greenloop.example/o/acme/points/" in to_acme.body
    assert "75" not in to_acme.body
    reminder = ExpiryReminder.objects.get(account=acme)
    assert (reminder.expires_on, reminder.points) == (EXPIRES, 120)
    # and the next days' runs send nothing more
    assert remind("2026-02-21", django_capture_on_commit_callbacks) == 0
    assert remind("2026-03-14", django_capture_on_commit_callbacks) == 0
    assert len(mailoutbox) == 2
    assert ExpiryReminder.objects.count() == 2
    # and it is on beat's daily schedule
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "carbon.tasks.send_expiry_reminders" in scheduled


def test_spent_and_held_points_are_not_in_the_reminder(
    org_a, admin_a, policy, mailoutbox, django_capture_on_commit_callbacks
):
    # given 100 points expiring 2026-03-15 and 50 expiring 2026-05-15
    account = earn(org_a, 100)
    earn(org_a, 50, dt.date(2025, 5, 1))
    # and 70 spent and 20 held, which come out of the older lot first
    hold(account, 70, "h1", redemption_id=1)
    ledger.capture_hold(account, 1, "c1")
    hold(account, 20, "h2", redemption_id=2)
    # when the reminders run 23 days before the first date
    assert remind(REMINDER_DAY, django_capture_on_commit_callbacks) == 1
    # then the admin is told about the 10 points that will really expire
    [mail] = mailoutbox
    assert "10 of Acme Solar's carbon points expire on March 15, 2026." in mail.body
    assert ExpiryReminder.objects.get().points == 10


def test_no_reminder_when_every_expiring_point_is_spent(
    org_a, admin_a, policy, mailoutbox, django_capture_on_commit_callbacks
):
    account = earn(org_a, 100)
    hold(account, 100, "h1", redemption_id=1)
    ledger.capture_hold(account, 1, "c1")
    assert remind(REMINDER_DAY, django_capture_on_commit_callbacks) == 0
    assert mailoutbox == []
    assert not ExpiryReminder.objects.exists()


def test_each_admin_reads_the_reminder_in_their_language(
    org_a, admin_a, policy, mailoutbox, django_capture_on_commit_callbacks
):
    # given a second admin who reads Chinese
    li = UserFactory(email="li@acme.example", preferred_language="zh-hans")
    MembershipFactory(user=li, organisation=org_a, role=Role.ADMIN)
    earn(org_a, 120)
    # when the reminders run
    assert remind(REMINDER_DAY, django_capture_on_commit_callbacks) == 1
    # then one reminder is recorded and each admin gets an e-mail with the date in their language
    by_address = {m.to[0]: m for m in mailoutbox}
    assert set(by_address) == {"admin@acme.example", "li@acme.example"}
    assert "2026年3月15日" in by_address["li@acme.example"].body
    assert "2026年3月15日" in by_address["li@acme.example"].subject
    assert "March 15, 2026" in by_address["admin@acme.example"].body


def test_the_reminder_is_recorded_with_the_e_mails_enqueued_after_commit(
    org_a, admin_a, policy, mailoutbox, django_capture_on_commit_callbacks
):
    earn(org_a, 120)
    # when the task runs but its transaction has not committed yet
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert tasks.send_expiry_reminders.delay(REMINDER_DAY).get() == 1
    # then the reminder is recorded and its e-mail waits for the commit
    assert ExpiryReminder.objects.count() == 1
    assert len(callbacks) == 1
    assert mailoutbox == []


def test_an_organisation_without_admins_is_reminded_once_an_admin_joins(
    org_a, member_a, policy, mailoutbox, django_capture_on_commit_callbacks
):
    earn(org_a, 120)
    assert remind(REMINDER_DAY, django_capture_on_commit_callbacks) == 0
    assert not ExpiryReminder.objects.exists()
    admin = UserFactory(email="new-admin@acme.example")
    MembershipFactory(user=admin, organisation=org_a, role=Role.ADMIN)
    assert remind("2026-02-21", django_capture_on_commit_callbacks) == 1
    assert [m.to for m in mailoutbox] == [["new-admin@acme.example"]]


def test_points_already_due_are_left_to_the_expiry_run(
    org_a, admin_a, policy, mailoutbox, django_capture_on_commit_callbacks
):
    earn(org_a, 120)
    # on the expiry date itself (the expiry task runs earlier that night) nothing is announced
    assert remind("2026-03-15", django_capture_on_commit_callbacks) == 0
    assert mailoutbox == []


def test_expiring_lots_lists_the_unspent_points_per_date(org_a, policy):
    account = earn(org_a, 100)
    earn(org_a, 50, dt.date(2025, 5, 1))
    earn(org_a, 30, dt.date(2025, 8, 1))
    hold(account, 70, "h1", redemption_id=1)
    today = dt.date(2026, 2, 20)
    assert ledger.expiring_lots(account, 90, today) == [
        (dt.date(2026, 3, 15), 30),
        (dt.date(2026, 5, 15), 50),
    ]
    assert ledger.expiring_lots(account, 30, today) == [(dt.date(2026, 3, 15), 30)]
    assert ledger.balances(account, today).expiring_soon == 80
