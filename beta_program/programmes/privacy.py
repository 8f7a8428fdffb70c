"""Beta programmes' part of a person's personal data (portal.privacy): their applications (with
their screening answers) and the NDA versions they accepted (when, from which address and
browser). Registered as Wagtail hooks in beta_program.programmes.portal_hooks.

Erasure deletes nothing here: an application is the organisation's record of its place, and an
NDA acceptance is evidence of a legal agreement (append-only in the database). The portal
anonymises the user row, so both then point at nobody.
"""

from __future__ import annotations

from typing import Any

from beta_program.programmes.models import Application, NdaAcceptance
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
        }
    }
