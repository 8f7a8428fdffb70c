"""Background work of the portal. Tasks take ids, reload rows and are safe to run twice."""

from __future__ import annotations

import smtplib

from celery import shared_task
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from portal.models import Invitation


@shared_task(
    autoretry_for=(smtplib.SMTPException, ConnectionError),
    retry_backoff=True,
    max_retries=6,
    acks_late=True,
)
def send_invitation_email(invitation_id: int, accept_url: str, language: str) -> bool:
    """E-mail an invitation link in the inviter's language. Returns False when there is nothing
    to send any more (the invitation was accepted, withdrawn or has expired meanwhile)."""
    invitation = (
        Invitation.objects.select_related("organisation", "invited_by")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or invitation.status != "pending":
        return False
    with translation.override(language):
        subject = _("You are invited to %(org)s on GreenLoop") % {"org": invitation.organisation}
        body = render_to_string(
            "portal/email/invitation.txt", {"invitation": invitation, "url": accept_url}
        )
    send_mail(subject, body, None, [invitation.email])
    return True
