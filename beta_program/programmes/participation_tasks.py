"""Participation background work: the daily reminder run and the e-mails it and graduation
send. Tasks take ids, reload rows and send nothing to someone who is no longer a participant.
Task names are fixed (the beat schedule names them)."""

from __future__ import annotations

import datetime as dt
import smtplib

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

# participation_actions imports this module too; both sides import the module, never its names,
# so the cycle resolves at call time.
from beta_program.programmes import participation_actions
from beta_program.programmes.models import Application, ApplicationStatus, Programme
from beta_program.programmes.participation_models import ParticipationReminder
from portal.models import User

MAIL_RETRY = {
    "autoretry_for": (smtplib.SMTPException, ConnectionError),
    "retry_backoff": True,
    "max_retries": 6,
    "acks_late": True,
}


@shared_task(name="beta_program.tasks.remind_silent_participants", acks_late=True)
def remind_silent_participants(day: str | None = None) -> int:
    """Daily (Celery beat): remind participants who have been silent in a running phase, once
    per phase. Returns the number of reminders sent."""
    today = dt.date.fromisoformat(day) if day else None
    return len(participation_actions.remind_silent_participants(today))


def _reachable(user: User | None) -> bool:
    return bool(user and user.is_active and not user.erased_at and user.email)


def _programme_url(application: Application) -> str:
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse(
        "beta:programme",
        kwargs={
            "org_slug": application.organisation.slug,
            "programme_slug": application.programme.slug,
        },
    )


def _place(programme_id: int, user_id: int) -> Application | None:
    """The person's accepted place in the programme (for an active organisation), if any."""
    return (
        Application.objects.select_related("programme", "organisation", "applicant")
        .filter(
            programme_id=programme_id,
            applicant_id=user_id,
            status=ApplicationStatus.ACCEPTED,
            organisation__is_active=True,
        )
        .first()
    )


@shared_task(name="beta_program.tasks.send_participation_reminder", **MAIL_RETRY)
def send_participation_reminder(reminder_id: int) -> bool:
    """Ask a silent participant, in their language, to try the current build and tell the
    product team what they found. Names the programme (as application e-mails do), never its
    confidential content."""
    reminder = (
        ParticipationReminder.objects.select_related("phase__programme", "user")
        .filter(pk=reminder_id)
        .first()
    )
    if reminder is None or not _reachable(reminder.user):
        return False
    application = _place(reminder.phase.programme_id, reminder.user_id)
    if application is None:
        return False
    person = reminder.user
    with translation.override(person.preferred_language or settings.LANGUAGE_CODE):
        subject = _("We would love your feedback: %(programme)s") % {
            "programme": application.programme.display_name
        }
        body = render_to_string(
            "beta_program/programmes/email/participation_reminder.txt",
            {
                "person": person,
                "programme": application.programme,
                "phase": reminder.phase,
                "url": _programme_url(application),
            },
        )
    send_mail(subject, body, None, [person.email])
    return True


@shared_task(name="beta_program.tasks.send_graduation_thanks", **MAIL_RETRY)
def send_graduation_thanks(programme_id: int) -> int:
    """Thank every participant of a graduated programme, each in their language. Returns the
    number of messages sent."""
    programme = Programme.objects.filter(pk=programme_id, status="graduated").first()
    if programme is None:
        return 0
    places = (
        Application.objects.select_related("programme", "organisation", "applicant")
        .filter(programme=programme, status=ApplicationStatus.ACCEPTED)
        .order_by("pk")
    )
    sent = 0
    for application in places:
        person = application.applicant
        if not _reachable(person):
            continue
        with translation.override(person.preferred_language or settings.LANGUAGE_CODE):
            subject = _("Thank you for testing %(programme)s") % {
                "programme": programme.display_name
            }
            body = render_to_string(
                "beta_program/programmes/email/graduation_thanks.txt",
                {"person": person, "programme": programme, "application": application},
            )
        send_mail(subject, body, None, [person.email])
        sent += 1
    return sent
