"""Feedback on beta builds: filing bug reports and feature feedback (texts, environment fields,
attachments by content), the triage workflow and its constraints, the SLA clock, comments and
internal notes, survey answers, the CRM events (ids only) and the reporter's e-mail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from beta_program.programmes import actions, feedback_actions, sla
from beta_program.programmes.exceptions import BetaError, TransitionRefused
from beta_program.programmes.feedback_actions import Report
from beta_program.programmes.feedback_models import (
    EnvironmentField,
    Feedback,
    FeedbackComment,
    SurveyResponse,
    TriageChange,
)
from beta_program.programmes.models import NdaVersion
from portal.exceptions import PermissionDeniedError
from portal.models import AuditEvent, OutboxEvent
from portal.privacy import personal_data
from tests.beta_program.builds import make_build
from tests.factories import png_bytes

PNG = png_bytes(4, 3)


def bug(**fields) -> Report:
    values = {
        "kind": "bug",
        "title": "Dashboard freezes on export",
        "steps": "Open the dashboard, press Export",
        "expected": "A CSV file",
        "actual": "The page freezes",
        "severity": "high",
        "frequency": "always",
    }
    values.update(fields)
    return Report(**values)


def test_sla_days_per_severity_and_the_overdue_rule(settings):
    filed = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    assert sla.triage_due("critical", filed) == dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC)
    assert sla.triage_due("high", filed) == dt.datetime(2026, 3, 5, 9, 0, tzinfo=dt.UTC)
    assert sla.triage_due("medium", filed) == dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.UTC)
    assert sla.triage_due("low", filed) == dt.datetime(2026, 3, 16, 9, 0, tzinfo=dt.UTC)
    assert sla.triage_due("", filed) is None
    settings.BETA_TRIAGE_SLA_DAYS = {"low": 30}
    assert sla.triage_due("low", filed) == dt.datetime(2026, 4, 1, 9, 0, tzinfo=dt.UTC)
    assert sla.triage_due("critical", filed) == dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC)

    due = dt.datetime(2026, 3, 5, 9, 0, tzinfo=dt.UTC)
    before, after = due - dt.timedelta(minutes=1), due + dt.timedelta(minutes=1)
    assert not sla.sla_state(due, None, now=before).overdue
    assert sla.sla_state(due, None, now=after).overdue
    assert not sla.sla_state(due, before, now=after).overdue
    assert sla.sla_state(due, after, now=after).missed
    assert not sla.sla_state(None, None, now=after).overdue


def test_a_participant_files_a_bug_with_a_screenshot(tester, org_a, build):
    report = feedback_actions.file_feedback(
        build,
        org_a,
        tester,
        bug(),
        files=[SimpleUploadedFile("screen.png", PNG, content_type="image/png")],
    )
    assert (report.status, report.severity, report.reporter, report.organisation) == (
        "new",
        "high",
        tester,
        org_a,
    )
    assert report.triage_due_at == report.submitted_at + dt.timedelta(days=3)
    assert report.first_triaged_at is None
    attachment = report.attachments.get()
    assert (attachment.name, attachment.content_type, attachment.size) == (
        "screen.png",
        "image/png",
        len(PNG),
    )
    assert "freezes" in Feedback.objects.get(pk=report.pk).search_document
    event = OutboxEvent.objects.get(type="greenloop.beta.feedback_submitted")
    # Ids only: nothing the reporter wrote reaches the CRM.
    assert event.data == {
        "feedback_id": report.pk,
        "programme_id": build.programme_id,
        "build_id": build.pk,
        "kind": "bug",
        "severity": "high",
    }
    assert event.subject == f"beta/feedback/{report.pk}"
    assert AuditEvent.objects.filter(action="beta.feedback_submitted").count() == 1


def test_a_script_named_png_is_refused_and_nothing_is_filed(tester, org_a, build):
    with pytest.raises(BetaError) as refused:
        feedback_actions.file_feedback(
            build,
            org_a,
            tester,
            bug(),
            files=[SimpleUploadedFile("screen.png", b"#!/bin/sh\nrm -rf /\n")],
        )
    assert refused.value.code == "attachment_type"
    assert refused.value.field == "attachments"
    assert Feedback.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "  "}, "title"),
        ({"severity": ""}, "severity"),
        ({"severity": "urgent"}, "severity"),
        ({"frequency": "daily"}, "frequency"),
        ({"steps": ""}, "steps"),
        ({"actual": "x\x00y"}, "actual"),
        ({"kind": "rant"}, "kind"),
    ],
)
def test_a_bug_report_names_the_field_it_is_refused_for(tester, org_a, build, fields, field):
    with pytest.raises(BetaError) as refused:
        feedback_actions.file_feedback(build, org_a, tester, bug(**fields))
    assert refused.value.field == field
    assert refused.value.status == 422


def test_environment_fields_defined_per_programme(tester, org_a, build, recruiting):
    firmware = EnvironmentField.objects.create(
        programme=recruiting, label="Firmware", label_zh="固件", required=True
    )
    with pytest.raises(BetaError) as refused:
        feedback_actions.file_feedback(build, org_a, tester, bug())
    assert refused.value.field == f"environment.{firmware.pk}"
    with pytest.raises(BetaError):
        feedback_actions.file_feedback(
            build, org_a, tester, bug(environment={str(firmware.pk): "3.1", "999": "x"})
        )
    report = feedback_actions.file_feedback(
        build, org_a, tester, bug(environment={str(firmware.pk): " 3.1 "})
    )
    assert report.environment == {str(firmware.pk): "3.1"}


def test_feature_feedback_needs_a_description_and_has_no_sla(tester, org_a, build):
    with pytest.raises(BetaError):
        feedback_actions.file_feedback(build, org_a, tester, Report(kind="feature", title="Dark"))
    idea = feedback_actions.file_feedback(
        build, org_a, tester, Report(kind="feature", title="Dark mode", description="Please")
    )
    assert (idea.severity, idea.triage_due_at) == ("", None)
    assert OutboxEvent.objects.get(type="greenloop.beta.feedback_submitted").data["severity"] is (
        None
    )


def test_who_may_file(recruiting, org_a, org_b, admin_b, member_a, tester, build, product):
    # Not a participant (another organisation, or staff): refused.
    with pytest.raises(PermissionDeniedError):
        feedback_actions.file_feedback(build, org_b, admin_b, bug())
    with pytest.raises(PermissionDeniedError):
        feedback_actions.file_feedback(build, org_a, product, bug())
    # An expired build takes no new reports.
    old = make_build(recruiting, "2.9", days_left=-1)
    with pytest.raises(PermissionDeniedError):
        feedback_actions.file_feedback(old, org_a, tester, bug())
    assert Feedback.objects.count() == 0


def test_under_nda_only_after_accepting_the_current_version(confidential, org_a, member_a, product):
    actions.submit_application(confidential, org_a, member_a, {})
    firmware = make_build(confidential, "4.0.0-beta.3")
    nda = NdaVersion.objects.create(programme=confidential, title="NDA", body="Keep it quiet.")
    actions.publish_nda(nda, product)
    with pytest.raises(PermissionDeniedError):
        feedback_actions.file_feedback(firmware, org_a, member_a, bug())
    actions.accept_nda(confidential, org_a, member_a, version=1)
    assert feedback_actions.file_feedback(firmware, org_a, member_a, bug()).pk


def test_triage_walks_the_allowed_transitions_only(tester, org_a, build, product, recruiting):
    report = feedback_actions.file_feedback(build, org_a, tester, bug())
    with pytest.raises(TransitionRefused):
        feedback_actions.transition(report, "verified", product)
    with pytest.raises(PermissionDeniedError):
        feedback_actions.transition(report, "confirmed", tester)
    feedback_actions.transition(report, "confirmed", product)
    assert report.first_triaged_at is not None
    feedback_actions.transition(report, "in_progress", product)
    with pytest.raises(TransitionRefused) as refused:
        feedback_actions.transition(report, "fixed", product)
    assert refused.value.field == "fixed_in_build"
    fix = make_build(recruiting, "3.0.0-beta.2")
    feedback_actions.transition(report, "fixed", product, fixed_in_build=fix)
    assert report.status_label() == "Fixed in build 3.0.0-beta.2"
    feedback_actions.transition(report, "verified", product)
    assert list(TriageChange.objects.values_list("from_status", "to_status")) == [
        ("new", "confirmed"),
        ("confirmed", "in_progress"),
        ("in_progress", "fixed"),
        ("fixed", "verified"),
    ]
    assert AuditEvent.objects.filter(action="beta.feedback_status_changed").count() == 4


def test_duplicate_of_names_another_report_of_the_programme(tester, org_a, build, product):
    first = feedback_actions.file_feedback(build, org_a, tester, bug())
    second = feedback_actions.file_feedback(build, org_a, tester, bug(title="Export freezes"))
    with pytest.raises(TransitionRefused):
        feedback_actions.transition(second, "duplicate", product, duplicate_of=second)
    feedback_actions.transition(second, "duplicate", product, duplicate_of=first)
    assert second.status_label() == f"Duplicate of #{first.pk}"


def test_the_database_refuses_inconsistent_triage_rows(tester, org_a, build):
    report = feedback_actions.file_feedback(build, org_a, tester, bug())
    for change in ({"status": "fixed"}, {"status": "duplicate"}, {"status": "lost"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Feedback.objects.filter(pk=report.pk).update(**change)
    with pytest.raises(IntegrityError), transaction.atomic():
        Feedback.objects.filter(pk=report.pk).update(duplicate_of=report)
    with pytest.raises(IntegrityError), transaction.atomic():
        Feedback.objects.filter(pk=report.pk).update(severity="")


def test_bug_confirmed_is_published_once_with_ids_only(tester, org_a, build, product):
    report = feedback_actions.file_feedback(build, org_a, tester, bug())
    feedback_actions.transition(report, "confirmed", product)
    feedback_actions.transition(report, "in_progress", product)
    feedback_actions.transition(report, "confirmed", product)
    event = OutboxEvent.objects.get(type="greenloop.beta.bug_confirmed")
    assert event.data == {
        "feedback_id": report.pk,
        "programme_id": build.programme_id,
        "build_id": build.pk,
        "severity": "high",
    }


def test_the_reporter_is_emailed_in_their_language_without_the_report_text(
    tester, org_a, build, product, django_capture_on_commit_callbacks
):
    tester.preferred_language = "zh-hans"
    tester.save(update_fields=["preferred_language"])
    report = feedback_actions.file_feedback(build, org_a, tester, bug())
    with django_capture_on_commit_callbacks(execute=True):
        feedback_actions.transition(report, "confirmed", product)
    message = mail.outbox[-1]
    assert message.to == ["member@acme.example"]
    assert message.subject == f"您的测试版报告 #{report.pk}：已确认"
    assert f"/o/acme/beta/feedback/{report.pk}/" in message.body
    assert "Dashboard" not in message.subject + message.body
    assert "Monitor" not in message.subject + message.body


def test_internal_notes_are_for_staff_and_an_answer_reopens_needs_info(
    tester, org_a, build, product, admin_a
):
    report = feedback_actions.file_feedback(build, org_a, tester, bug())
    with pytest.raises(PermissionDeniedError):
        feedback_actions.comment(report, tester, "psst", organisation=org_a, internal=True)
    # Someone else in the organisation does not comment on another person's report.
    with pytest.raises(PermissionDeniedError):
        feedback_actions.comment(report, admin_a, "me too", organisation=org_a)
    feedback_actions.comment(report, product, "Probably the exporter.", internal=True)
    feedback_actions.transition(report, "needs_info", product)
    feedback_actions.comment(report, product, "Which browser?")
    feedback_actions.comment(report, tester, "Firefox 140", organisation=org_a)
    report.refresh_from_db()
    assert report.status == "new"
    assert list(FeedbackComment.objects.values_list("body", "internal")) == [
        ("Probably the exporter.", True),
        ("Which browser?", False),
        ("Firefox 140", False),
    ]


def test_assignee_is_staff(tester, org_a, build, product):
    report = feedback_actions.file_feedback(build, org_a, tester, bug())
    with pytest.raises(BetaError):
        feedback_actions.assign(report, tester, product)
    feedback_actions.assign(report, product, product)
    assert Feedback.objects.get(pk=report.pk).assignee == product


def test_one_survey_answer_per_build_within_the_scales(tester, org_a, build):
    with pytest.raises(BetaError) as refused:
        feedback_actions.answer_survey(build, org_a, tester, nps=11, csat=3)
    assert refused.value.field == "nps"
    with pytest.raises(BetaError) as refused:
        feedback_actions.answer_survey(build, org_a, tester, nps=9, csat=0)
    assert refused.value.field == "csat"
    feedback_actions.answer_survey(build, org_a, tester, nps=9, csat=4, comment_text="Nice")
    with pytest.raises(BetaError):
        feedback_actions.answer_survey(build, org_a, tester, nps=8, csat=4)
    assert list(SurveyResponse.objects.values_list("nps", "csat", "comment")) == [(9, 4, "Nice")]
    with pytest.raises(IntegrityError), transaction.atomic():
        SurveyResponse.objects.update(nps=12)


def test_overdue_filter_matches_the_sla_rule(tester, org_a, build):
    report = feedback_actions.file_feedback(build, org_a, tester, bug(severity="critical"))
    later = timezone.now() + dt.timedelta(days=1, minutes=1)
    assert list(Feedback.objects.filter(sla.overdue_q(later))) == [report]
    assert not Feedback.objects.filter(sla.overdue_q()).exists()


def test_the_personal_data_export_holds_reports_public_comments_and_surveys(
    tester, org_a, build, product
):
    report = feedback_actions.file_feedback(build, org_a, tester, bug())
    feedback_actions.comment(report, tester, "More detail", organisation=org_a)
    feedback_actions.comment(report, product, "Staff only", internal=True)
    feedback_actions.answer_survey(build, org_a, tester, nps=7, csat=4)
    data = personal_data(tester)["beta_programmes"]
    assert [(f["title"], f["build"]) for f in data["feedback"]] == [
        ("Dashboard freezes on export", "3.0.0-beta.1")
    ]
    assert [c["body"] for c in data["feedback_comments"]] == ["More detail"]
    assert [(s["nps"], s["csat"]) for s in data["survey_answers"]] == [(7, 4)]
    assert "Staff only" not in str(personal_data(product))
