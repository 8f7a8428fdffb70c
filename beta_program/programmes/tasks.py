"""Beta-programme background work: e-mails about applications. Tasks take ids, reload rows and
send nothing when the row has moved on (a repeated run after a later decision is a no-op)."""

from __future__ import annotations

import smtplib

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

SUBJECTS = {
    "accepted": gettext_noop("You are in: %(programme)s"),
    "pending": gettext_noop("Application received: %(programme)s"),
    "waitlisted": gettext_noop("You are on the waiting list: %(programme)s"),
    "rejected": gettext_noop("Your application to %(programme)s"),
}


@shared_task(
    autoretry_for=(smtplib.SMTPException, ConnectionError),
    retry_backoff=True,
    max_retries=6,
    acks_late=True,
)
def send_application_email(application_id: int, status: str) -> bool:
    """Tell the applicant, in their own language, that their application is `status`."""
    from beta_program.programmes.models import Application

    application = (
        Application.objects.select_related("programme", "organisation", "applicant")
        .filter(pk=application_id, status=status)
        .first()
    )
    person = application.applicant if application else None
    if person is None or not person.is_active or person.erased_at or status not in SUBJECTS:
        return False
    language = person.preferred_language or settings.LANGUAGE_CODE
    with translation.override(language):
        subject = _(SUBJECTS[status]) % {"programme": application.programme.display_name}
        body = render_to_string(
            "beta_program/programmes/email/application.txt",
            {
                "application": application,
                "programme": application.programme,
                "base_url": settings.WAGTAILADMIN_BASE_URL.rstrip("/"),
            },
        )
    send_mail(subject, body, None, [person.email])
    return True


@shared_task(
    autoretry_for=(smtplib.SMTPException, ConnectionError),
    retry_backoff=True,
    max_retries=6,
    acks_late=True,
)
def send_feedback_status_email(feedback_id: int, status: str) -> bool:
    """Tell the reporter, in their own language, that their report is now `status`. The
    message names the report by number only: the programme may be under NDA, and e-mail leaves
    the portal."""
    from beta_program.programmes.feedback_models import Feedback

    feedback = (
        Feedback.objects.select_related("reporter", "organisation", "fixed_in_build")
        .filter(pk=feedback_id, status=status)
        .first()
    )
    person = feedback.reporter if feedback else None
    if person is None or not person.is_active or person.erased_at:
        return False
    language = person.preferred_language or settings.LANGUAGE_CODE
    with translation.override(language):
        subject = _("Your beta report #%(id)s: %(status)s") % {
            "id": feedback.pk,
            "status": feedback.status_label(),
        }
        body = render_to_string(
            "beta_program/programmes/email/feedback_status.txt",
            {
                "feedback": feedback,
                "person": person,
                "base_url": settings.WAGTAILADMIN_BASE_URL.rstrip("/"),
            },
        )
    send_mail(subject, body, None, [person.email])
    return True


@shared_task(
    autoretry_for=(smtplib.SMTPException, ConnectionError),
    retry_backoff=True,
    max_retries=6,
    acks_late=True,
)
def send_announcement_email(announcement_id: int, user_id: int, org_slug: str) -> bool:
    """Tell one recipient, in their own language, that the programme has a new announcement.
    Under NDA the e-mail says only that (e-mail leaves the portal): the title and text are read
    on the page, behind the agreement."""
    from django.urls import reverse

    from beta_program.programmes.announcement_models import Announcement, AnnouncementStatus
    from portal.models import User

    announcement = (
        Announcement.objects.select_related("programme")
        .filter(pk=announcement_id, status=AnnouncementStatus.PUBLISHED)
        .first()
    )
    person = User.objects.filter(pk=user_id, is_active=True, erased_at__isnull=True).first()
    if announcement is None or person is None:
        return False
    programme = announcement.programme
    language = person.preferred_language or settings.LANGUAGE_CODE
    url = settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse(
        "beta:announcement", kwargs={"org_slug": org_slug, "announcement_id": announcement.pk}
    )
    with translation.override(language):
        if programme.is_confidential:
            subject = _("New announcement in a beta programme you take part in")
        else:
            subject = _("New announcement in %(programme)s") % {"programme": programme.display_name}
        body = render_to_string(
            "beta_program/programmes/email/announcement.txt",
            {"person": person, "announcement": announcement, "programme": programme, "url": url},
        )
    send_mail(subject, body, None, [person.email])
    return True
