"""Notification e-mails: immediately after commit in the recipient's language, or grouped in a
daily/weekly digest at 07:00 in their time zone, or never; each notification e-mailed at most
once, even when two digest runs overlap."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import translation
from wagtail import hooks

from portal import notification_email, notifications
from portal.models import Notification, User
from portal.tasks import send_notification_digests
from tests.concurrency import race

pytestmark = pytest.mark.django_db

KIND = "test.email_parcel"
# 07:30 UTC on a Monday: digest time for both frequencies in UTC.
MONDAY_MORNING = dt.datetime(2026, 11, 30, 7, 30, tzinfo=dt.UTC)


def _parcel(params):
    # A message the portal already translates, so the test sees the recipient's language.
    return translation.gettext("You have a new notification.") + f" #{params['parcel_id']}"


@pytest.fixture(autouse=True)
def parcel_kind():
    with hooks.register_temporarily(notifications.KINDS_HOOK, lambda: {KIND: _parcel}):
        yield


def _prefer(user, choice, language="", time_zone="UTC"):
    User.objects.filter(pk=user.pk).update(
        notification_email=choice, preferred_language=language, time_zone=time_zone
    )


def _notify(people, parcel_id, *, email=True, link="/o/acme/"):
    return notifications.notify(
        people,
        KIND,
        dedupe_key=f"parcel:{parcel_id}",
        params={"parcel_id": parcel_id},
        link=link,
        email=email,
    )


def _notify_at(people, parcel_id, when):
    _notify(people, parcel_id)
    Notification.objects.filter(dedupe_key=f"parcel:{parcel_id}").update(created_at=when)


def test_immediate_email_is_sent_after_commit_in_the_recipients_language(
    member_a, admin_a, django_capture_on_commit_callbacks
):
    # given one person reading English and one reading Chinese, both wanting e-mail at once
    _prefer(member_a, "immediately", "en")
    _prefer(admin_a, "immediately", "zh-hans")
    # when they are notified, nothing is sent before the transaction commits
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _notify([member_a, admin_a], 7)
        assert mail.outbox == []
    assert len(callbacks) == 1
    # then each got one e-mail, worded in their own language, with an absolute link
    by_address = {message.to[0]: message for message in mail.outbox}
    assert sorted(by_address) == ["admin@acme.example", "member@acme.example"]
    english, chinese = by_address["member@acme.example"], by_address["admin@acme.example"]
    assert english.subject == "You have a new notification. #7"
    assert "Open it in GreenLoop:\nhttp://127.0.0.1:8000/o/acme/" in english.body
    assert "http://127.0.0.1:8000/accounts/profile/" in english.body
    assert chinese.subject == "您有一条新通知。 #7"
    assert "在 GreenLoop 中查看：\nhttp://127.0.0.1:8000/o/acme/" in chinese.body
    assert "您有一条新通知。 #7" in chinese.alternatives[0][0]
    # and both are marked e-mailed, so running the task again sends nothing
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0
    assert notification_email.send_immediate("parcel:7", [member_a.pk, admin_a.pk]) == 0
    assert len(mail.outbox) == 2


def test_never_and_digest_people_get_no_immediate_email(
    member_a, admin_a, viewer_a, django_capture_on_commit_callbacks
):
    _prefer(member_a, "never")
    _prefer(admin_a, "daily")
    _prefer(viewer_a, "weekly")
    with django_capture_on_commit_callbacks(execute=True):
        assert _notify([member_a, admin_a, viewer_a], 1) == 3
    assert mail.outbox == []


def test_never_sends_no_digest_either(member_a):
    _prefer(member_a, "never")
    _notify_at([member_a], 1, MONDAY_MORNING - dt.timedelta(hours=3))
    assert notification_email.send_digests("daily", MONDAY_MORNING) == 0
    assert notification_email.send_digests("weekly", MONDAY_MORNING) == 0
    assert mail.outbox == []


def test_inactive_or_erased_people_get_no_email(
    member_a, admin_a, viewer_a, django_capture_on_commit_callbacks
):
    # given three people notified while still active, two of whom then leave
    _prefer(member_a, "immediately")
    _prefer(admin_a, "daily")
    _prefer(viewer_a, "immediately")
    _notify_at([admin_a], 2, MONDAY_MORNING - dt.timedelta(hours=3))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _notify([member_a, viewer_a], 1)
    User.objects.filter(pk=member_a.pk).update(is_active=False)
    User.objects.filter(pk__in=[viewer_a.pk, admin_a.pk]).update(erased_at=MONDAY_MORNING)
    # when the e-mail task and the digest run afterwards
    for callback in callbacks:
        callback()
    assert notification_email.send_digests("daily", MONDAY_MORNING) == 0
    # then nobody was e-mailed
    assert mail.outbox == []


def test_an_app_that_emails_itself_passes_email_false(member_a, django_capture_on_commit_callbacks):
    _prefer(member_a, "immediately")
    with django_capture_on_commit_callbacks(execute=True):
        _notify([member_a], 1, email=False)
    assert mail.outbox == []
    # nor does the notification turn up in a later digest
    _prefer(member_a, "daily")
    assert notification_email.send_digests("daily", dt.datetime.now(dt.UTC)) == 0
    assert mail.outbox == []


def test_daily_digest_groups_notifications_and_sends_nothing_the_second_time(member_a, admin_a):
    # given a daily-digest reader of Chinese with three unread notifications, one of them read
    _prefer(member_a, "daily", "zh-hans")
    _prefer(admin_a, "daily")
    earlier = MONDAY_MORNING - dt.timedelta(hours=5)
    for parcel_id in (1, 2, 3):
        _notify_at([member_a], parcel_id, earlier)
    Notification.objects.filter(dedupe_key="parcel:3").update(read_at=earlier)
    # when the digest runs at 07:30 UTC
    assert notification_email.send_digests("daily", MONDAY_MORNING) == 1
    # then one e-mail lists both unread notifications, in Chinese
    assert len(mail.outbox) == 1
    digest = mail.outbox[0]
    assert digest.to == ["member@acme.example"]
    assert digest.subject == "您的 GreenLoop 每日通知"
    assert "您有一条新通知。 #1" in digest.body
    assert "您有一条新通知。 #2" in digest.body
    assert "#3" not in digest.body
    assert User.objects.get(pk=member_a.pk).last_digest_at == MONDAY_MORNING
    # and the person with nothing to read got no e-mail at all
    assert User.objects.get(pk=admin_a.pk).last_digest_at is None
    # when it runs again an hour later, and again the next morning with nothing new
    assert notification_email.send_digests("daily", MONDAY_MORNING + dt.timedelta(hours=1)) == 0
    assert notification_email.send_digests("daily", MONDAY_MORNING + dt.timedelta(days=1)) == 0
    # then nothing more was sent
    assert len(mail.outbox) == 1


def test_next_days_digest_holds_only_what_is_new(member_a):
    _prefer(member_a, "daily")
    _notify_at([member_a], 1, MONDAY_MORNING - dt.timedelta(hours=2))
    assert notification_email.send_digests("daily", MONDAY_MORNING) == 1
    _notify_at([member_a], 2, MONDAY_MORNING + dt.timedelta(hours=4))
    assert notification_email.send_digests("daily", MONDAY_MORNING + dt.timedelta(days=1)) == 1
    second = mail.outbox[1]
    assert second.subject == "Your daily GreenLoop notifications"
    assert "#2" in second.body
    assert "#1" not in second.body


def test_digest_waits_for_seven_in_the_persons_time_zone(member_a, admin_a):
    # given two daily readers, one in Shanghai (UTC+8) and one in New York (UTC-5)
    _prefer(member_a, "daily", time_zone="Asia/Shanghai")
    _prefer(admin_a, "daily", time_zone="America/New_York")
    _notify_at([member_a, admin_a], 1, MONDAY_MORNING - dt.timedelta(hours=8))
    # when it is 23:30 UTC on Sunday (07:30 on Monday in Shanghai, 18:30 in New York)
    sunday_night = dt.datetime(2026, 11, 29, 23, 30, tzinfo=dt.UTC)
    _notify_at([member_a, admin_a], 2, sunday_night - dt.timedelta(hours=1))
    assert notification_email.send_digests("daily", sunday_night) == 1
    assert [message.to for message in mail.outbox] == [["member@acme.example"]]
    # and at 02:30 UTC (21:30 in New York, 10:30 in Shanghai), still nothing for New York
    assert notification_email.send_digests("daily", sunday_night + dt.timedelta(hours=3)) == 0
    # at 12:30 UTC (07:30 in New York) the New York reader gets theirs
    assert notification_email.send_digests("daily", sunday_night + dt.timedelta(hours=13)) == 1
    assert mail.outbox[1].to == ["admin@acme.example"]


def test_weekly_digest_goes_out_on_monday_only(member_a):
    _prefer(member_a, "weekly")
    _notify_at([member_a], 1, MONDAY_MORNING - dt.timedelta(days=2))
    tuesday = MONDAY_MORNING + dt.timedelta(days=1)
    assert notification_email.send_digests("weekly", tuesday - dt.timedelta(days=7)) == 0
    assert notification_email.send_digests("weekly", MONDAY_MORNING) == 1
    assert mail.outbox[0].subject == "Your weekly GreenLoop notifications"
    # the daily run does not send weekly readers anything
    _notify_at([member_a], 2, tuesday - dt.timedelta(hours=1))
    assert notification_email.send_digests("daily", tuesday) == 0
    assert len(mail.outbox) == 1


def test_the_hourly_task_runs_both_digests(member_a, admin_a, monkeypatch):
    _prefer(member_a, "daily")
    _prefer(admin_a, "weekly")
    _notify_at([member_a, admin_a], 1, MONDAY_MORNING - dt.timedelta(hours=1))
    monkeypatch.setattr(notification_email.timezone, "now", lambda: MONDAY_MORNING)
    assert send_notification_digests.delay().get() == 2
    assert sorted(message.subject for message in mail.outbox) == [
        "Your daily GreenLoop notifications",
        "Your weekly GreenLoop notifications",
    ]


def test_digest_of_more_than_fifty_says_how_many_more(member_a):
    _prefer(member_a, "daily")
    for parcel_id in range(1, 53):
        _notify_at([member_a], parcel_id, MONDAY_MORNING - dt.timedelta(hours=1))
    assert notification_email.send_digests("daily", MONDAY_MORNING) == 1
    assert "And 2 more in your notifications: http://127.0.0.1:8000/notifications/" in (
        mail.outbox[0].body
    )
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


def test_a_failed_send_releases_the_claim_for_the_retry(member_a, monkeypatch):
    _prefer(member_a, "daily")
    _notify_at([member_a], 1, MONDAY_MORNING - dt.timedelta(hours=1))
    monkeypatch.setattr(notification_email, "_send", lambda email, connection_: False)
    assert notification_email.send_digests("daily", MONDAY_MORNING) == 0
    assert Notification.objects.get().emailed_at is None
    monkeypatch.undo()
    assert notification_email.send_digests("daily", MONDAY_MORNING) == 1


@pytest.mark.postgres
@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_two_overlapping_digest_runs_email_each_notification_once(member_a, admin_a):
    # given two daily readers with notifications waiting
    _prefer(member_a, "daily")
    _prefer(admin_a, "daily")
    for parcel_id in (1, 2, 3):
        _notify_at([member_a, admin_a], parcel_id, MONDAY_MORNING - dt.timedelta(hours=1))
    # when two workers run the digest at the same moment
    results = race(lambda _index: notification_email.send_digests("daily", MONDAY_MORNING), 2)
    # then each person got exactly one digest, whichever worker sent it
    assert sorted(results) == [0, 2] or list(results) == [1, 1]
    assert sorted(message.to[0] for message in mail.outbox) == [
        "admin@acme.example",
        "member@acme.example",
    ]
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


@pytest.mark.postgres
@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_two_overlapping_immediate_tasks_email_once(member_a):
    _prefer(member_a, "immediately")
    _notify([member_a], 1)  # autocommit: its own task already ran
    Notification.objects.update(emailed_at=None)
    mail.outbox.clear()
    results = race(lambda _index: notification_email.send_immediate("parcel:1", [member_a.pk]), 3)
    assert sorted(results) == [0, 0, 1]
    assert len(mail.outbox) == 1


def test_the_digests_are_scheduled_hourly():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["portal-notification-digests"]
    assert entry["task"] == "portal.tasks.send_notification_digests"
    assert entry["schedule"].minute == {5}
    assert entry["schedule"].hour == set(range(24))
