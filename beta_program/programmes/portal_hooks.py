"""Beta programmes' place in the portal: the top-bar link and demo data. Imported from
BetaProgramConfig.ready() (Wagtail auto-imports only `wagtail_hooks`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from portal.row_links import fixed_reverse

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@hooks.register("greenloop_nav_items")
def beta_nav(request, org_slug: str) -> list[dict]:
    if not org_slug:
        return []
    return [
        {
            "label": _("Beta"),
            "url": fixed_reverse("beta:index", org_slug=org_slug),
            "group": "cocreation",
        }
    ]


# After community's demo data: the confidential beta's cohort is community's "Beta cohort" group.
@hooks.register("greenloop_seed_demo", order=300)
def seed_beta_demo(stdout=None) -> None:
    from beta_program.programmes.demo import seed

    seed(stdout=stdout)


@hooks.register("greenloop_personal_data")
def beta_personal_data(user) -> dict:
    from beta_program.programmes.privacy import personal_data

    return personal_data(user)


@hooks.register("greenloop_notification_kinds")
def beta_notification_kinds() -> dict:
    from beta_program.programmes.announcement_actions import (
        NOTIFICATION_KIND,
        notification_message,
    )

    return {NOTIFICATION_KIND: notification_message}


# Names of the beta programme's audit actions in the audit trail (portal.audit_actions).
AUDIT_ACTIONS: dict[str, StrOrPromise] = {
    "beta.announcement_published": _("Beta announcement published"),
    "beta.application_decided": _("Beta application decided"),
    "beta.application_submitted": _("Beta application submitted"),
    "beta.application_withdrawn": _("Beta application withdrawn"),
    "beta.cohort_created": _("Beta cohort created"),
    "beta.cohort_members_changed": _("Beta cohort members changed"),
    "beta.feedback_assigned": _("Beta feedback assigned"),
    "beta.feedback_attachments_added": _("Files added to beta feedback"),
    "beta.feedback_commented": _("Beta feedback commented"),
    "beta.feedback_status_changed": _("Beta feedback status changed"),
    "beta.feedback_submitted": _("Beta feedback submitted"),
    "beta.nda_accepted": _("Beta NDA accepted"),
    "beta.nda_published": _("Beta NDA published"),
    "beta.programme_changed": _("Beta programme changed"),
    "beta.programme_created": _("Beta programme created"),
    "beta.programme_graduated": _("Beta programme graduated"),
    "beta.programme_status_changed": _("Beta programme status changed"),
    "beta.survey_answered": _("Beta survey answered"),
}


@hooks.register("greenloop_audit_actions")
def beta_audit_actions() -> dict[str, StrOrPromise]:
    return AUDIT_ACTIONS
