"""Demo feedback on the confidential firmware beta (run from `demo.seed`): an environment field
and a few bug reports by the cohort's tester in different triage states, one of them past its
triage SLA, so the admin's queue has something to work on. Idempotent.

The reports are written as rows (dated in the past) rather than through `file_feedback`, which
would refuse them: the demo tester has not accepted the NDA yet. Triage goes through the
actions, so history, audit trail and events are the real ones."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from beta_program.programmes import feedback_actions, sla
from beta_program.programmes.feedback_models import EnvironmentField, Feedback, TriageStatus
from beta_program.programmes.models import Application, ApplicationStatus, Build, Programme
from portal.models import User

# (title, title in the tester's notes, severity, frequency, days ago, build, triage path)
REPORTS = [
    (
        "Cabinet drops the site for 2 s when the grid returns",
        "Cut the grid feed, wait 10 minutes, restore it.",
        "The site stays up while the cabinet resynchronises.",
        "All loads drop for about two seconds, then come back.",
        "critical",
        "always",
        6,
        "4.0.0-beta.1",
        [TriageStatus.CONFIRMED, TriageStatus.IN_PROGRESS, TriageStatus.FIXED],
    ),
    (
        "状态页的荷电状态显示滞后约一分钟",
        "完成一次完整充放电循环后打开状态页。",
        "荷电状态实时更新。",
        "数值约一分钟后才更新。",
        "medium",
        "often",
        4,
        "4.0.0-beta.3",
        [TriageStatus.CONFIRMED],
    ),
    (
        "Schedule editor rejects a 23:30 end time",
        "Open the schedule editor, add a discharge window 22:00-23:30, save.",
        "The window is saved.",
        "Error: 'end must be after start'.",
        "low",
        "always",
        3,
        "4.0.0-beta.3",
        [TriageStatus.NEEDS_INFO],
    ),
    (
        "Fan noise louder after update",
        "Run a full cycle at 30 °C ambient.",
        "Same noise as 3.x.",
        "Fans run at full speed for the whole cycle.",
        "high",
        "sometimes",
        4,
        "4.0.0-beta.3",
        [],
    ),
]


def seed(firmware: Programme, owner: User | None) -> None:
    if owner is None or Feedback.objects.filter(programme=firmware).exists():
        return
    if not firmware.environment_fields.exists():
        EnvironmentField.objects.create(
            programme=firmware,
            label="Controller serial number",
            label_zh="控制器序列号",
            required=True,
            sort_order=0,
        )
    serial = firmware.environment_fields.first()
    place = (
        Application.objects.filter(programme=firmware, status=ApplicationStatus.ACCEPTED)
        .select_related("applicant", "organisation")
        .first()
    )
    if place is None or place.applicant is None or serial is None:
        return
    builds = {b.version: b for b in Build.objects.filter(programme=firmware)}
    fixed_in = builds.get("4.0.0-beta.3")
    now = timezone.now()
    with transaction.atomic():
        for title, steps, expected, actual, severity, frequency, days, version, path in REPORTS:
            submitted = now - dt.timedelta(days=days)
            report = Feedback.objects.create(
                programme=firmware,
                build=builds[version],
                organisation=place.organisation,
                reporter=place.applicant,
                kind="bug",
                title=title,
                steps=steps,
                expected=expected,
                actual=actual,
                severity=severity,
                frequency=frequency,
                environment={str(serial.pk): "BAT-LFP-215-00042"},
                submitted_at=submitted,
                status_changed_at=submitted,
                triage_due_at=sla.triage_due(severity, submitted),
            )
            feedback_actions.index(report)
            for status in path:
                feedback_actions.transition(
                    report,
                    status,
                    owner,
                    fixed_in_build=fixed_in if status == TriageStatus.FIXED else None,
                )
            if path:
                feedback_actions.assign(report, owner, owner)
        feedback_actions.comment(
            Feedback.objects.get(programme=firmware, status=TriageStatus.NEEDS_INFO),
            owner,
            "Which time zone is the site set to?",
        )
