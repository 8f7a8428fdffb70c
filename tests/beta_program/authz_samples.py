"""Beta programmes' entries for the authorisation walk (tests/authz.py imports this module).

The walk's foreign organisation holds an accepted place in a running confidential programme:
nobody else's organisation can see it (it is not recruiting and they never applied), so its
slug under the caller's own /o/<slug>/beta/ URL, and in the API, must answer 404.
"""

from __future__ import annotations


def _foreign_programme(org):
    from django.utils import timezone

    from beta_program.programmes.models import (
        Application,
        ApplicationStatus,
        Confidentiality,
        NdaVersion,
        Programme,
        ProgrammeStatus,
    )

    slug = f"walk-beta-{org.slug}"
    programme = Programme.objects.filter(slug=slug).first()
    if programme is None:
        programme = Programme.objects.create(
            slug=slug,
            name=f"Confidential beta of {org.name}",
            product_line="Storage",
            summary="Secret firmware",
            confidentiality=Confidentiality.NDA,
            status=ProgrammeStatus.RUNNING,
        )
        Application.objects.create(
            programme=programme, organisation=org, status=ApplicationStatus.ACCEPTED
        )
        nda = NdaVersion.objects.create(programme=programme, title="NDA", body="Keep quiet.")
        NdaVersion.objects.filter(pk=nda.pk).update(
            status="published", version=1, content_hash="0" * 64, published_at=timezone.now()
        )
    return programme


def _foreign_build(org):
    from beta_program.programmes.models import Build

    programme = _foreign_programme(org)
    build = Build.objects.filter(programme=programme).first()
    if build is None:
        build = Build.objects.create(
            programme=programme, version="1.0-beta", external_url="https://example.com/fw.bin"
        )
    return build


def _foreign_feedback(org):
    """A bug report filed by the foreign organisation on its confidential build, with a
    screenshot."""
    from django.core.files.base import ContentFile

    from beta_program.programmes.feedback_models import Feedback, FeedbackAttachment

    build = _foreign_build(org)
    report = Feedback.objects.filter(build=build).first()
    if report is None:
        report = Feedback.objects.create(
            programme=build.programme,
            build=build,
            organisation=org,
            title="Secret firmware crashes",
            steps="Boot",
            actual="Crash",
            severity="high",
        )
        attachment = FeedbackAttachment(
            feedback=report, name="shot.png", content_type="image/png", size=4
        )
        attachment.file.save("shot.png", ContentFile(b"\x89PNG"), save=False)
        attachment.save()
    return report


def _foreign_announcement(org):
    """A published announcement to every participant of the foreign organisation's programme."""
    from django.utils import timezone

    from beta_program.programmes.announcement_models import Announcement

    programme = _foreign_programme(org)
    announcement = Announcement.objects.filter(programme=programme).first()
    if announcement is None:
        announcement = Announcement.objects.create(
            programme=programme,
            title="Secret firmware ships Friday",
            body="Flash it.",
            status="published",
            published_at=timezone.now(),
        )
    return announcement


def _foreign_application(org):
    """The foreign organisation's accepted place (withdrawing it must be 404 to everyone else)."""
    return _foreign_programme(org).applications.get(organisation=org).pk


NESTED_PARAM_SAMPLES: dict = {
    "programme_slug": lambda org: _foreign_programme(org).slug,
    "application_id": _foreign_application,
    "build_id": lambda org: _foreign_build(org).pk,
    "feedback_id": lambda org: _foreign_feedback(org).pk,
    "attachment_id": lambda org: _foreign_feedback(org).attachments.get().pk,
    "announcement_id": lambda org: _foreign_announcement(org).pk,
}
API_PARAM_SAMPLES: dict = {
    "programme_slug": lambda org: _foreign_programme(org).slug,
    "application_id": _foreign_application,
    "build_id": lambda org: _foreign_build(org).pk,
    "feedback_id": lambda org: _foreign_feedback(org).pk,
    "attachment_id": lambda org: _foreign_feedback(org).attachments.get().pk,
}
WRITE_BODIES: dict = {
    "beta:apply": lambda own, foreign: {},
    "beta:nda": lambda own, foreign: {"version": 1, "accept": "on"},
    "beta:feedback_new": lambda own, foreign: {
        "build": _foreign_build(foreign).pk,
        "kind": "feature",
        "title": "Walk",
        "description": "Walk",
    },
    "beta:feedback_detail": lambda own, foreign: {"body": "Walk"},
    "beta:survey": lambda own, foreign: {"nps": "5", "csat": "3"},
    "beta:withdraw": lambda own, foreign: {},
}
API_BODIES: dict = {
    (
        "post",
        "/api/v1/organisations/{slug}/beta/programmes/{programme_slug}/applications",
    ): lambda own, foreign: {"answers": {}},
    (
        "post",
        "/api/v1/organisations/{slug}/beta/programmes/{programme_slug}/feedback",
    ): lambda own, foreign: {
        "build_id": _foreign_build(foreign).pk,
        "kind": "feature",
        "title": "Walk",
        "description": "Walk",
    },
    (
        "post",
        "/api/v1/organisations/{slug}/beta/programmes/{programme_slug}/builds/{build_id}/survey",
    ): lambda own, foreign: {"nps": 5, "csat": 3},
    # A multipart operation: the walk sends this as JSON, and the report's lookup must answer
    # 404 before the body (its files) is read.
    (
        "post",
        "/api/v1/organisations/{slug}/beta/feedback/{feedback_id}/attachments",
    ): lambda own, foreign: {"files": []},
}


def _merge_boards() -> None:
    # The boards wing keeps its samples beside its tests; the walk reads this module only.
    from tests.beta_program.boards import authz_samples as boards

    for name in ("NESTED_PARAM_SAMPLES", "API_PARAM_SAMPLES", "WRITE_BODIES", "API_BODIES"):
        globals()[name].update(getattr(boards, name))
    globals().setdefault("URL_PARAM_SAMPLES", {}).update(boards.URL_PARAM_SAMPLES)


_merge_boards()
