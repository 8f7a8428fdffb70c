"""Participation scores: the pure score with worked examples, the weights setting, the loader
over a programme (counts, phase window, bounded queries) and the close-out figures (NPS, CSAT)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from beta_program.programmes import actions
from beta_program.programmes.closeout import closeout_summary, csat, nps
from beta_program.programmes.feedback_models import Feedback, FeedbackComment, SurveyResponse
from beta_program.programmes.models import BuildDownload, Phase
from beta_program.programmes.participation import (
    Activity,
    load_participation,
    organisation_scores,
    score,
    weights,
)
from tests.beta_program.builds import make_build


def at(day: int, hour: int = 10) -> dt.datetime:
    # In the site's time zone, where days are counted.
    return dt.datetime(2026, 3, day, hour, 0, tzinfo=timezone.get_current_timezone())


def test_worked_example_with_the_default_weights():
    # 2 builds x1 + 3 reports x3 + 1 confirmed bug x5 + 1 survey x2 + 4 days x1 = 22
    activity = Activity(
        builds_downloaded=2, reports_filed=3, confirmed_bugs=1, surveys_answered=1, days_active=4
    )
    assert score(activity) == 22
    assert score(Activity()) == 0
    assert Activity().is_silent
    assert not activity.is_silent


def test_weights_come_from_the_setting_over_the_defaults(settings):
    settings.BETA_PARTICIPATION_WEIGHTS = {"confirmed_bugs": 10, "days_active": 0}
    assert weights() == {
        "builds_downloaded": 1,
        "reports_filed": 3,
        "confirmed_bugs": 10,
        "surveys_answered": 2,
        "days_active": 0,
    }
    activity = Activity(
        builds_downloaded=2, reports_filed=3, confirmed_bugs=1, surveys_answered=1, days_active=4
    )
    # 2 + 9 + 10 + 2 + 0
    assert score(activity) == 23


def test_an_organisation_scores_the_sum_of_its_participants():
    assert organisation_scores([(7, 22), (7, 5), (9, 0)]) == {7: 27, 9: 0}


def test_nps_and_csat_worked_examples():
    # 3 promoters (9, 10, 9), 1 passive (8), 2 detractors (6, 0) of 6: 50% - 33.3% = 16.7 -> 17
    assert nps([9, 10, 9, 8, 6, 0]) == 17
    assert nps([10, 10]) == 100
    assert nps([0]) == -100
    assert nps([]) is None
    # 4 and 5 are satisfied: 2 of 3 = 66.7 -> 67
    assert csat([5, 4, 2]) == 67
    assert csat([]) is None


@pytest.fixture
def busy(recruiting, tester, org_a, org_b, member_b, admin_b):
    """Two builds; Acme's tester downloads both, files three reports (one confirmed bug, one
    bug fixed, one feature), answers a survey and comments, on four days of March 2026; Globex's
    member downloads one build; Globex's admin is a silent participant."""
    actions.submit_application(recruiting, org_b, member_b, {})
    actions.submit_application(recruiting, org_b, admin_b, {})
    first = make_build(recruiting, "3.0.0-beta.1")
    second = make_build(recruiting, "3.0.0-beta.2")
    BuildDownload.objects.create(build=first, user=tester, organisation=org_a, downloaded_at=at(2))
    BuildDownload.objects.create(build=first, user=tester, organisation=org_a, downloaded_at=at(2))
    BuildDownload.objects.create(build=second, user=tester, organisation=org_a, downloaded_at=at(9))
    BuildDownload.objects.create(
        build=first, user=member_b, organisation=org_b, downloaded_at=at(20)
    )
    common = {"programme": recruiting, "build": first, "organisation": org_a, "reporter": tester}
    confirmed = Feedback.objects.create(
        **common, title="Freeze", severity="high", status="confirmed", submitted_at=at(3)
    )
    Feedback.objects.create(
        **common,
        title="Crash",
        severity="low",
        status="fixed",
        fixed_in_build=second,
        submitted_at=at(9),
    )
    Feedback.objects.create(
        **common, kind="feature", title="Dark mode", submitted_at=at(10, hour=23)
    )
    SurveyResponse.objects.create(
        programme=recruiting,
        build=first,
        organisation=org_a,
        respondent=tester,
        nps=9,
        csat=4,
        submitted_at=at(10),
    )
    FeedbackComment.objects.create(
        feedback=confirmed, author=tester, body="More", created_at=at(12)
    )
    return recruiting


def test_the_loader_counts_each_participant_and_organisation(
    busy, tester, member_b, admin_b, org_a, org_b, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        participation = load_participation(busy)
    people = {p.user_id: p for p in participation.participants}
    # Days: 2, 3, 9, 10 (the survey and the late feature report share the 10th), 12.
    assert people[tester.pk].activity == Activity(
        builds_downloaded=2, reports_filed=3, confirmed_bugs=2, surveys_answered=1, days_active=5
    )
    # 2 + 9 + 10 + 2 + 5
    assert people[tester.pk].score == 28
    assert people[member_b.pk].activity == Activity(builds_downloaded=1, days_active=1)
    assert people[member_b.pk].score == 2
    assert people[admin_b.pk].activity.is_silent
    assert participation.organisations == {org_a.pk: 28, org_b.pk: 2}
    assert [p.user_id for p in participation.silent()] == [admin_b.pk]


def test_within_a_phase_only_its_days_count(busy, tester, member_b):
    phase = Phase.objects.create(
        programme=busy, name="Wave 2", starts_on=dt.date(2026, 3, 9), ends_on=dt.date(2026, 3, 15)
    )
    people = {p.user_id: p for p in load_participation(busy, phase).participants}
    assert people[tester.pk].activity == Activity(
        builds_downloaded=1, reports_filed=2, confirmed_bugs=1, surveys_answered=1, days_active=3
    )
    assert people[member_b.pk].activity.is_silent


def test_query_count_does_not_grow_with_participants(
    recruiting, org_b, member_b, admin_b, tester, django_assert_max_num_queries
):
    actions.submit_application(recruiting, org_b, member_b, {})
    actions.submit_application(recruiting, org_b, admin_b, {})
    with django_assert_max_num_queries(12):
        summary = closeout_summary(recruiting)
    assert len(summary.participants) == 3


def test_close_out_summary_counts_feedback_and_surveys(busy, tester, org_a):
    summary = closeout_summary(busy)
    assert summary.reports == 3
    assert summary.by_kind == [("Bug report", 2), ("Feature feedback", 1)]
    assert summary.by_status == [("New", 1), ("Confirmed", 1), ("Fixed", 1)]
    assert summary.by_severity == [("High", 1), ("Low", 1)]
    assert (summary.surveys, summary.nps, summary.csat) == (1, 100, 100)
    assert [(o.organisation, o.participants, o.score) for o in summary.organisations] == [
        ("Acme Solar", 1, 28),
        ("Globex Power", 2, 2),
    ]
    assert summary.participants[0].email == "member@acme.example"
