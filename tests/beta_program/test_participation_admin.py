"""Reminders to silent participants (once per phase, in their language), graduation to general
availability in the admin (audited, thanks in each participant's language, points granted
through the event and credited by carbon), and the close-out summary with its CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from beta_program.programmes import actions, participation_actions
from beta_program.programmes.models import BuildDownload, Phase, Programme, ProgrammeStatus
from beta_program.programmes.participation_models import ParticipationReminder
from beta_program.programmes.participation_tasks import remind_silent_participants
from beta_program.programmes.privacy import personal_data
from carbon.models import LedgerEntry, PointsAccount
from carbon.points.tasks import grant_graduation_points
from portal.models import AuditEvent, OutboxEvent
from tests.beta_program.builds import make_build


@pytest.fixture
def running(recruiting, tester, org_b, member_b, admin_b, product):
    """The programme running in a phase that began ten days ago, with three participants."""
    actions.submit_application(recruiting, org_b, member_b, {})
    actions.submit_application(recruiting, org_b, admin_b, {})
    actions.change_status(recruiting, ProgrammeStatus.RUNNING, product)
    today = timezone.localdate()
    Phase.objects.create(
        programme=recruiting,
        name="Wave 1",
        starts_on=today - dt.timedelta(days=10),
        ends_on=today + dt.timedelta(days=20),
    )
    return recruiting


def test_silent_participants_are_reminded_once_per_phase_in_their_language(
    running, tester, member_b, admin_b, org_a, django_capture_on_commit_callbacks
):
    admin_b.preferred_language = "zh-hans"
    admin_b.save(update_fields=["preferred_language"])
    build = make_build(running, "3.0.0-beta.1")
    BuildDownload.objects.create(build=build, user=tester, organisation=org_a)

    with django_capture_on_commit_callbacks(execute=True):
        assert remind_silent_participants() == 2

    assert sorted(m.to[0] for m in mail.outbox) == [admin_b.email, member_b.email]
    by_person = {m.to[0]: m for m in mail.outbox}
    assert by_person[member_b.email].subject == "We would love your feedback: Monitor app beta"
    assert "/o/globex/beta/p/monitor-beta/" in by_person[member_b.email].body
    assert by_person[admin_b.email].subject == "期待您的反馈：Monitor app beta"
    assert "每个阶段只提醒一次" in by_person[admin_b.email].body
    # the same day again, and the next day: nobody hears twice in the phase
    with django_capture_on_commit_callbacks(execute=True):
        assert remind_silent_participants() == 0
        tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
        assert remind_silent_participants(tomorrow) == 0
    assert len(mail.outbox) == 2
    assert ParticipationReminder.objects.count() == 2
    # the person's data export lists the reminder
    exported = personal_data(admin_b)["beta_programmes"]["participation_reminders"]
    assert [(r["programme"], r["phase"]) for r in exported] == [("monitor-beta", "Wave 1")]


def test_each_reminder_publishes_an_event_with_ids_only(
    running, tester, member_b, admin_b, org_a, org_b, django_capture_on_commit_callbacks
):
    # given two silent participants of Globex (Acme's tester downloaded a build)
    build = make_build(running, "3.0.0-beta.1")
    BuildDownload.objects.create(build=build, user=tester, organisation=org_a)
    # when the daily run reminds them, and runs again
    with django_capture_on_commit_callbacks(execute=True):
        remind_silent_participants()
        remind_silent_participants()
    # then one event per reminder, on Globex's account, carrying ids only
    phase = Phase.objects.get()
    events = OutboxEvent.objects.filter(type="greenloop.beta.participant_reminded").order_by("id")
    reminders = {r.user_id: r for r in ParticipationReminder.objects.all()}
    # (the run reminds people in no promised order, so compare by person)
    published = sorted(events, key=lambda e: e.data["user_id"])
    assert [(e.organisation_id, e.subject, e.data) for e in published] == [
        (
            org_b.pk,
            f"beta/reminders/{reminders[user.pk].pk}",
            {
                "reminder_id": reminders[user.pk].pk,
                "programme_id": running.pk,
                "phase_id": phase.pk,
                "user_id": user.pk,
            },
        )
        for user in sorted([member_b, admin_b], key=lambda u: u.pk)
    ]
    assert (
        events[0].dataschema == "urn:greenloop:event-schema:greenloop.beta.participant_reminded:1"
    )


def test_no_reminder_early_in_a_phase_or_outside_running_programmes(
    running, product, settings, django_capture_on_commit_callbacks
):
    settings.BETA_REMINDER_AFTER_DAYS = 11
    with django_capture_on_commit_callbacks(execute=True):
        assert remind_silent_participants() == 0
    settings.BETA_REMINDER_AFTER_DAYS = 7
    actions.change_status(running, ProgrammeStatus.CLOSED, product)
    with django_capture_on_commit_callbacks(execute=True):
        assert remind_silent_participants() == 0
    assert mail.outbox == []
    assert not OutboxEvent.objects.filter(type="greenloop.beta.participant_reminded").exists()


@pytest.fixture
def closed(running, tester, org_a, product):
    build = make_build(running, "3.0.0-beta.1")
    BuildDownload.objects.create(build=build, user=tester, organisation=org_a)
    actions.change_status(running, ProgrammeStatus.CLOSED, product)
    return running


def test_graduation_in_the_admin_thanks_participants_and_grants_points(
    client,
    closed,
    product,
    tester,
    member_b,
    admin_b,
    org_a,
    org_b,
    django_capture_on_commit_callbacks,
):
    tester.preferred_language = "zh-hans"
    tester.save(update_fields=["preferred_language"])
    client.force_login(product)
    url = reverse("beta_programmes:graduate", args=[closed.pk])
    assert client.get(url).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"points_per_organisation": "250", "min_score": "1", "note": "GA on 1 April"}
        )

    assert response.status_code == 302
    closed.refresh_from_db()
    assert closed.status == "graduated"
    # only Acme was active (one download: score 2); Globex scored 0
    event = OutboxEvent.objects.get(type="greenloop.beta.programme_graduated")
    assert event.data == {
        "programme_id": closed.pk,
        "graduated_by": product.pk,
        "grants": [{"organisation_id": org_a.pk, "points": 250}],
    }
    audit = AuditEvent.objects.get(action="beta.programme_graduated")
    assert audit.details["points_per_organisation"] == 250
    # carbon credited the points as an adjustment approved by the product manager
    entry = LedgerEntry.objects.get(account__organisation=org_a)
    assert (entry.kind, entry.available_delta, entry.approved_by_id) == ("adjust", 250, product.pk)
    assert entry.idempotency_key == f"beta-graduation:{closed.pk}:{org_a.pk}"
    assert PointsAccount.objects.get(organisation=org_a).available == 250
    assert not PointsAccount.objects.filter(organisation=org_b, available__gt=0).exists()
    # every participant thanked, each in their language
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects == {
        tester.email: "感谢您测试 Monitor app beta",
        member_b.email: "Thank you for testing Monitor app beta",
        admin_b.email: "Thank you for testing Monitor app beta",
    }


def test_a_repeated_grant_credits_nothing_twice(closed, product, org_a):
    grants = [{"organisation_id": org_a.pk, "points": 40}]
    assert grant_graduation_points(closed.pk, product.pk, grants) == 1
    assert grant_graduation_points(closed.pk, product.pk, grants) == 1
    assert PointsAccount.objects.get(organisation=org_a).available == 40
    assert LedgerEntry.objects.filter(account__organisation=org_a).count() == 1


def test_graduation_without_points_publishes_no_grants(closed, product):
    grants = participation_actions.graduate(closed, product)
    assert grants == []
    event = OutboxEvent.objects.get(type="greenloop.beta.programme_graduated")
    assert event.data["grants"] == []
    assert not LedgerEntry.objects.exists()


def test_only_product_staff_graduate_and_only_a_closed_programme(
    client, running, product, staff_success
):
    client.force_login(staff_success)
    url = reverse("beta_programmes:graduate", args=[running.pk])
    # Wagtail answers a refused admin screen by sending the user to the dashboard
    refused = client.post(url, {"points_per_organisation": "0", "min_score": "1"})
    assert refused["Location"] == "/admin/"
    client.force_login(product)
    response = client.post(url, {"points_per_organisation": "0", "min_score": "1"})
    assert response.status_code == 302
    running.refresh_from_db()
    assert running.status == "running"
    # the general status screen no longer offers graduation
    change = client.get(reverse("beta_programmes:change_status", args=[running.pk]))
    assert b'value="graduated"' not in change.content
    assert b'value="closed"' in change.content


def test_negative_points_are_a_form_error(client, closed, product):
    client.force_login(product)
    response = client.post(
        reverse("beta_programmes:graduate", args=[closed.pk]),
        {"points_per_organisation": "-5", "min_score": "1"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["points_per_organisation"]
    closed.refresh_from_db()
    assert closed.status == "closed"


def test_close_out_summary_page_and_csv(
    client, closed, staff_success, org_a, tester, django_assert_max_num_queries
):
    org_a.name = "=HYPERLINK(1)"
    org_a.save(update_fields=["name"])
    tester.first_name, tester.last_name = "Mia", "Tester"
    tester.save(update_fields=["first_name", "last_name"])
    client.force_login(staff_success)
    with django_assert_max_num_queries(40):
        page = client.get(reverse("beta_programmes:closeout", args=[closed.pk]))
    assert page.status_code == 200
    assert b"Close-out summary" in page.content
    assert b"member@acme.example" in page.content

    response = client.get(reverse("beta_programmes:closeout_csv", args=[closed.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["Programme", "Monitor app beta"]
    header = rows.index(
        [
            "Participant",
            "E-mail",
            "Organisation",
            "Builds downloaded",
            "Reports filed",
            "Confirmed bugs",
            "Surveys answered",
            "Days active",
            "Score",
        ]
    )
    assert rows[header + 1] == [
        "Mia Tester",
        "member@acme.example",
        "'=HYPERLINK(1)",
        "1",
        "0",
        "0",
        "0",
        "1",
        "2",
    ]


def test_customers_do_not_reach_the_close_out(client, closed, member_a):
    client.force_login(member_a)
    for name in ("closeout", "closeout_csv", "closeout_pdf", "graduate"):
        response = client.get(reverse(f"beta_programmes:{name}", args=[closed.pk]))
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert Programme.objects.get(pk=closed.pk).status == "closed"


def test_close_out_pdf_in_the_staff_members_language(client, closed, staff_success, tester):
    tester.first_name, tester.last_name = "Mia", "Tester"
    tester.save(update_fields=["first_name", "last_name"])
    client.force_login(staff_success)
    url = reverse("beta_programmes:closeout_pdf", args=[closed.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "Close-out summary: Monitor app beta" in text
    assert "Mia Tester" in text
    chinese = client.get(url, headers={"accept-language": "zh-hans"})
    text = PdfReader(io.BytesIO(chinese.content)).pages[0].extract_text()
    assert "结项总结" in text
