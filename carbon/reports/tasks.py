"""Background work of carbon reports. Tasks take ids, reload rows and are safe to run twice. Task
names are fixed (beat schedules and queued messages name them)."""

from __future__ import annotations

import smtplib

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from carbon.models import Report, ReportStatus
from carbon.reports import actions


@shared_task(name="carbon.tasks.generate_report", acks_late=True)
def generate_report(report_id: int) -> str:
    """Generate a queued report; returns its status ("missing" for a report that is gone)."""
    report = (
        Report.objects.select_related("organisation", "requested_by").filter(pk=report_id).first()
    )
    if report is None:
        return "missing"
    return actions.generate_report(report).status


@shared_task(name="carbon.tasks.expire_reports", acks_late=True)
def expire_reports() -> int:
    """Daily (Celery beat): delete report files past GREENLOOP_REPORT_RETENTION_DAYS."""
    return actions.expire_reports()


def report_url(report: Report) -> str:
    """Where the requester follows and downloads the report: the portal's page, or for every
    customer's report the admin's."""
    if report.organisation is None:
        path = reverse("carbon_reports:inspect", args=(report.pk,))
    else:
        path = reverse(
            "carbon:report_detail",
            kwargs={"org_slug": report.organisation.slug, "report_id": report.public_id},
        )
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


@shared_task(
    name="carbon.tasks.send_report_email",
    autoretry_for=(smtplib.SMTPException, ConnectionError),
    retry_backoff=True,
    max_retries=6,
    acks_late=True,
)
def send_report_email(report_id: int) -> bool:
    """Tell the person who asked for a report that it is ready (or failed), in their language.
    False when there is nobody to tell."""
    report = (
        Report.objects.select_related("organisation", "requested_by").filter(pk=report_id).first()
    )
    if report is None or report.requested_by is None or not report.requested_by.is_active:
        return False
    if report.status not in (ReportStatus.DONE, ReportStatus.FAILED):
        return False
    user = report.requested_by
    with translation.override(user.preferred_language or settings.LANGUAGE_CODE):
        scope = report.organisation.name if report.organisation else _("all customers")
        if report.status == ReportStatus.DONE:
            subject = _("Your carbon report is ready: %(scope)s, %(period)s")
        else:
            subject = _("Your carbon report could not be generated: %(scope)s, %(period)s")
        subject = subject % {"scope": scope, "period": report.period}
        body = render_to_string(
            "carbon/email/report.txt",
            {"report": report, "scope": scope, "url": report_url(report)},
        )
    send_mail(subject, body, None, [user.email])
    return True
