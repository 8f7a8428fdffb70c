"""Beta programmes' part of a person's personal data (portal.privacy): their applications (with
their screening answers), the NDA versions they accepted (when, from which address and
browser), the bug reports and feedback they filed, their comments and survey answers, and the
reminders they were sent.
Registered as Wagtail hooks in beta_program.programmes.portal_hooks.

Erasure deletes nothing here: an application is the organisation's record of its place, and an
NDA acceptance is evidence of a legal agreement (append-only in the database), and reports are
the product team's record of a defect. The portal anonymises the user row, so all of them then
point at nobody.
"""

from __future__ import annotations

from typing import Any

from beta_program.programmes.feedback_models import Feedback, FeedbackComment, SurveyResponse
from beta_program.programmes.models import Application, NdaAcceptance
from beta_program.programmes.participation_models import ParticipationReminder
from portal.models import User


def personal_data(user: User) -> dict[str, Any]:
    applications = Application.objects.filter(applicant=user).select_related(
        "programme", "organisation"
    )
    acceptances = NdaAcceptance.objects.filter(user=user).select_related(
        "programme", "organisation"
    )
    return {
        "beta_programmes": {
            "applications": [
                {
                    "id": a.pk,
                    "programme": a.programme.slug,
                    "organisation": a.organisation.slug,
                    "status": a.status,
                    "answers": a.answers,
                    "submitted_at": a.submitted_at,
                    "decided_at": a.decided_at,
                }
                for a in applications
            ],
            "nda_acceptances": [
                {
                    "id": n.pk,
                    "programme": n.programme.slug,
                    "organisation": n.organisation.slug,
                    "version": n.version,
                    "sha256": n.content_hash,
                    "accepted_at": n.accepted_at,
                    "ip_address": n.ip_address,
                    "user_agent": n.user_agent,
                }
                for n in acceptances
            ],
            "feedback": [
                {
                    "id": f.pk,
                    "programme": f.programme.slug,
                    "build": f.build.version,
                    "kind": f.kind,
                    "title": f.title,
                    "description": f.description,
                    "steps": f.steps,
                    "expected": f.expected,
                    "actual": f.actual,
                    "environment": f.environment,
                    "status": f.status,
                    "submitted_at": f.submitted_at,
                }
                for f in Feedback.objects.filter(reporter=user).select_related("programme", "build")
            ],
            # Public comments only: staff's internal notes are not the person's data.
            "feedback_comments": [
                {"feedback_id": c.feedback_id, "body": c.body, "created_at": c.created_at}
                for c in FeedbackComment.objects.filter(author=user, internal=False)
            ],
            "survey_answers": [
                {
                    "build": r.build.version,
                    "nps": r.nps,
                    "csat": r.csat,
                    "comment": r.comment,
                    "submitted_at": r.submitted_at,
                }
                for r in SurveyResponse.objects.filter(respondent=user).select_related("build")
            ],
            "participation_reminders": [
                {
                    "programme": r.phase.programme.slug,
                    "phase": r.phase.name,
                    "sent_at": r.sent_at,
                }
                for r in ParticipationReminder.objects.filter(user=user).select_related(
                    "phase__programme"
                )
            ],
        }
    }
