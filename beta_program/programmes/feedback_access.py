"""Who may see and file what feedback. A participant files on the builds they may download (the
same NDA and cohort gating as builds, `access.builds_for`) and reads the reports they filed for
the organisation they act for, while they may still see the programme's confidential content;
staff see everything in the admin. Everything else answers 404."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from beta_program.programmes.access import (
    builds_for,
    is_participant,
    may_see_confidential,
    programmes_for,
)
from beta_program.programmes.feedback_models import Feedback
from beta_program.programmes.models import Application, ApplicationStatus, Build, Programme
from portal.models import Organisation


def may_file(user, programme: Programme, organisation: Organisation | None) -> bool:
    """Participants of the programme (for `organisation`) who may see its content."""
    return (
        organisation is not None
        and is_participant(user, programme, organisation)
        and may_see_confidential(user, programme)
    )


def fileable_builds(user, programme: Programme, organisation: Organisation | None):
    """The current (unexpired) builds the person may file feedback on."""
    if not may_file(user, programme, organisation):
        return Build.objects.none()
    return builds_for(user, programme, organisation).current()


def build_for_feedback_or_404(
    user, organisation: Organisation, programme: Programme, build_id: int
) -> Build:
    build = fileable_builds(user, programme, organisation).filter(pk=build_id).first()
    if build is None:
        raise Http404("No such build.")
    return build


def open_programme_ids(user, organisation: Organisation | None) -> list[int]:
    """Programmes whose content the person may see while acting for `organisation`: visible to
    the organisation, the person holds a place there, and (under NDA) accepted the current
    agreement. One query for the places plus one NDA check per programme they take part in."""
    if organisation is None or not (user and user.is_authenticated and user.is_active):
        return []
    placed = Application.objects.filter(
        applicant=user, organisation=organisation, status=ApplicationStatus.ACCEPTED
    ).values("programme_id")
    programmes = programmes_for(user, organisation).filter(pk__in=placed)
    return [p.pk for p in programmes if may_see_confidential(user, p)]


def feedback_for(user, organisation: Organisation | None) -> QuerySet[Feedback]:
    """The reports the person filed for `organisation` that they may still read."""
    ids = open_programme_ids(user, organisation)
    if not ids:
        return Feedback.objects.none()
    return Feedback.objects.filter(reporter=user, organisation=organisation, programme_id__in=ids)


def feedback_or_404(user, organisation: Organisation, feedback_id: int) -> Feedback:
    found = (
        feedback_for(user, organisation)
        .select_related("programme", "build", "fixed_in_build")
        .filter(pk=feedback_id)
        .first()
    )
    if found is None:
        raise Http404("No such report.")
    return found
