"""The demo's feedback on the confidential firmware beta: reports in several triage states, one
past its triage SLA, and a second seed that adds nothing."""

from __future__ import annotations

import io

from django.core.management import call_command

from beta_program.programmes import sla
from beta_program.programmes.feedback_models import Feedback
from portal.models import OutboxEvent


def test_the_demo_holds_reports_in_several_triage_states(demo_seed):
    reports = Feedback.objects.filter(programme__slug="storage-controller-fw-4")
    assert sorted(reports.values_list("status", flat=True)) == [
        "confirmed",
        "fixed",
        "needs_info",
        "new",
    ]
    assert set(reports.values_list("reporter__email", flat=True)) == {
        "anna.schmidt@nordwind.example"
    }
    fixed = reports.get(status="fixed")
    assert fixed.status_label() == "Fixed in build 4.0.0-beta.3"
    assert [r.title for r in reports.filter(sla.overdue_q())] == ["Fan noise louder after update"]
    confirmed = OutboxEvent.objects.filter(type="greenloop.beta.bug_confirmed")
    assert confirmed.count() == 2
    assert all(
        set(e.data) == {"feedback_id", "programme_id", "build_id", "severity"} for e in confirmed
    )
    count = reports.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert Feedback.objects.filter(programme__slug="storage-controller-fw-4").count() == count
