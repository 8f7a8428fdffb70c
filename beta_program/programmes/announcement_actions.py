"""Publishing an announcement: the only writer of its published state. One transaction fixes
the text, records the audit trail, publishes the ids-only event and notifies the recipients in
the portal; e-mails follow after commit, one task per person, in their language.

What leaves the programme's page never carries confidential text: under NDA the notification
and the e-mail say only that there is a new announcement (with its id link); the title and text
are read on the page, behind the NDA check.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from beta_program.programmes.access import can_manage
from beta_program.programmes.announcement_models import Announcement, AnnouncementStatus
from beta_program.programmes.exceptions import BetaError
from beta_program.programmes.models import Application, ApplicationStatus, Programme, chinese
from portal import audit, events, notifications
from portal.exceptions import PermissionDeniedError
from portal.models import User

NOTIFICATION_KIND = "beta.announcement"
EVENT_TYPE = "greenloop.beta.announcement_published"


def recipients(announcement: Announcement) -> list[tuple[int, str]]:
    """(person id, organisation slug) of everyone the announcement is for: the participants
    (accepted applicants of active organisations), and of its cohorts only when it names any.
    One query."""
    accepted = Application.objects.filter(
        programme_id=announcement.programme_id,
        status=ApplicationStatus.ACCEPTED,
        organisation__is_active=True,
        applicant__is_active=True,
    )
    cohort_ids = list(announcement.cohorts.values_list("pk", flat=True))
    if cohort_ids:
        accepted = accepted.filter(applicant__groups__beta_cohort__in=cohort_ids)
    rows = accepted.order_by("applicant_id", "organisation__slug").values_list(
        "applicant_id", "organisation__slug"
    )
    # One place per person: the first organisation they take part for.
    first: dict[int, str] = {}
    for user_id, slug in rows:
        first.setdefault(user_id, slug)
    return sorted(first.items())


def notification_params(programme: Programme, announcement: Announcement) -> dict[str, Any]:
    """Ids, and the programme's public name unless it is under NDA."""
    if programme.is_confidential:
        return {"announcement_id": announcement.pk}
    return {
        "announcement_id": announcement.pk,
        "programme": programme.name,
        "programme_zh": programme.name_zh,
    }


def notification_message(params: Mapping[str, Any]) -> str:
    """The in-app line, worded when the reader looks (in their language)."""
    name = params.get("programme")
    if name:
        name = (params.get("programme_zh") or name) if chinese() else name
        return _("New announcement in %(programme)s") % {"programme": name}
    return _("New announcement in a beta programme you take part in (#%(id)s)") % {
        "id": params["announcement_id"]
    }


@transaction.atomic
def publish_announcement(
    announcement: Announcement, by: User, *, request: HttpRequest | None = None
) -> Announcement:
    """Publish a draft: from now on its recipients read it on the programme's page; each is
    notified once (a repeated publish is refused, and `notify` is idempotent per announcement)."""
    if not can_manage(by):
        raise PermissionDeniedError(_("Only product staff run beta programmes."))
    locked = (
        Announcement.objects.select_for_update().select_related("programme").get(pk=announcement.pk)
    )
    if locked.status != AnnouncementStatus.DRAFT:
        raise BetaError(_("This announcement is already published."))
    if not locked.title.strip():
        raise BetaError(_("An announcement needs a title."), field="title")
    if not locked.body.strip():
        raise BetaError(_("An announcement needs its text before it is published."), field="body")
    now = timezone.now()
    Announcement.objects.filter(pk=locked.pk).update(
        status=AnnouncementStatus.PUBLISHED, published_at=now, published_by=by
    )
    cohort_ids = sorted(locked.cohorts.values_list("pk", flat=True))
    people = recipients(locked)
    audit.record(
        "beta.announcement_published",
        actor=by,
        obj=locked,
        request=request,
        details={
            "programme_id": locked.programme_id,
            "cohort_ids": cohort_ids,
            "recipients": len(people),
        },
    )
    events.publish(
        EVENT_TYPE,
        None,
        f"beta/announcements/{locked.pk}",
        {
            "announcement_id": locked.pk,
            "programme_id": locked.programme_id,
            "published_by": by.pk,
            "cohort_ids": cohort_ids,
        },
    )
    by_organisation: dict[str, list[int]] = defaultdict(list)
    for user_id, slug in people:
        by_organisation[slug].append(user_id)
    params = notification_params(locked.programme, locked)
    for slug, user_ids in sorted(by_organisation.items()):
        notifications.notify(
            user_ids,
            NOTIFICATION_KIND,
            dedupe_key=f"beta.announcement:{locked.pk}",
            params=params,
            link=reverse(
                "beta:announcement", kwargs={"org_slug": slug, "announcement_id": locked.pk}
            ),
            # The announcement's own e-mail (tasks.py) already tells them.
            email=False,
        )
    transaction.on_commit(lambda: _email(locked.pk, people))
    announcement.refresh_from_db()
    return announcement


def _email(announcement_id: int, people: list[tuple[int, str]]) -> None:
    from beta_program.programmes.tasks import send_announcement_email

    for user_id, slug in people:
        send_announcement_email.delay(announcement_id, user_id, slug)
