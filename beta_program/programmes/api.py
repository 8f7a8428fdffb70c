"""Beta-programme endpoints of the REST API, under /api/v1/organisations/{slug}/beta/.

The caller acts for the organisation in the path (a token for its own; a person for one they
belong to, or any as vendor staff): anything else is 404. They see the programmes the pages show
(`access.programmes_for`); a programme outside that is 404, never 403, so a slug does not tell
whether a confidential programme exists. Only public fields are returned: a programme's content
for participants is read on its pages. Applications are made by people: a token is refused
with 403 `person_required` before the body is read.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy
from ninja import Field, Router, Schema, Status

from beta_program.programmes import actions
from beta_program.programmes.access import announcements_for, builds_for, programmes_for
from beta_program.programmes.models import (
    OPEN_APPLICATION_STATUSES,
    Application,
    Programme,
    ProgrammeStatus,
)
from portal.access import reachable_or_404
from portal.api import ApiError, Caller, ErrorOut, Input, PathParams, api, caller, requires
from portal.api_scopes import register_scope
from portal.models import Organisation
from portal.permissions import Perm, has_perm
from portal.text import Text, ascii_integer, text_problem

READ = "beta:read"
WRITE = "beta:write"
register_scope(
    READ, gettext_lazy("Read the beta programmes the organisation may see and its applications")
)
register_scope(
    WRITE,
    gettext_lazy("Apply to beta programmes (needs a signed-in person, so a token is refused)"),
)

READ_ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS: dict[int, Any] = {400: ErrorOut, 409: ErrorOut, **READ_ERRORS}

router = Router(tags=["Beta programmes"])


def _organisation(c: Caller, params: PathParams) -> Organisation:
    slug = str(params.get("slug", ""))
    if text_problem(slug):
        raise Http404
    return reachable_or_404(c.request, c.organisations(), slug=slug)


def _programme(c: Caller, organisation: Organisation, slug: str) -> Programme:
    if text_problem(slug):
        raise Http404
    programme = programmes_for(c.user, organisation).filter(slug=slug).first()
    if programme is None:
        raise Http404
    return programme


def organisation_in_path(c: Caller, params: PathParams) -> Organisation:
    """The organisation the caller acts for (for the wing's other endpoint modules)."""
    return _organisation(c, params)


def programme_for_caller(c: Caller, organisation: Organisation, slug: str) -> Programme:
    """A programme the caller sees while acting for `organisation`, or 404."""
    return _programme(c, organisation, slug)


def _load_organisation(c: Caller, params: PathParams) -> Organisation:
    return _organisation(c, params)


def _load_for_applying(c: Caller, params: PathParams) -> tuple[Organisation, Programme]:
    organisation = _organisation(c, params)
    programme = _programme(c, organisation, str(params.get("programme_slug", "")))
    if c.token is not None:
        raise ApiError(
            403,
            "person_required",
            "Applications are made by people: sign in, an organisation token cannot apply.",
        )
    return organisation, programme


def _load_for_builds(c: Caller, params: PathParams) -> tuple[Organisation, Programme]:
    organisation = _organisation(c, params)
    programme = _programme(c, organisation, str(params.get("programme_slug", "")))
    if c.token is not None:
        raise ApiError(
            403,
            "person_required",
            "Builds and announcements are released to people: sign in, an organisation token "
            "cannot read them.",
        )
    return organisation, programme


def _load_for_withdrawing(c: Caller, params: PathParams) -> Application:
    """The organisation's application named in the path (another organisation's is 404, for a
    token too), for a person who may withdraw it: the applicant or an organisation admin."""
    organisation = _organisation(c, params)
    application_id = ascii_integer(str(params.get("application_id", "")))
    application = (
        Application.objects.filter(organisation=organisation, pk=application_id)
        .select_related("programme", "organisation")
        .first()
        if application_id is not None
        else None
    )
    if application is None:
        raise Http404
    if c.token is not None:
        raise ApiError(
            403,
            "person_required",
            "Applications are withdrawn by people: sign in, an organisation token cannot.",
        )
    if not (
        application.applicant_id == c.user.pk
        or has_perm(c.user, Perm.ORG_MANAGE_MEMBERS, organisation)
    ):
        raise Http404
    return application


class ApplicationRef(Schema):
    id: int
    status: str
    submitted_at: datetime


class ProgrammeOut(Schema):
    slug: str
    name: str
    name_zh: str
    product_line: str
    product_line_zh: str
    summary: str
    summary_zh: str
    confidential: bool = Field(..., description="Under NDA: content only for participants")
    status: str = Field(..., examples=["recruiting"])
    application: ApplicationRef | None = Field(
        ..., description="The organisation's latest application, if any"
    )


class QuestionOut(Schema):
    id: int
    text: str
    text_zh: str
    kind: str = Field(..., examples=["choice"])
    choices: list[str]
    required: bool


class ProgrammeDetailOut(ProgrammeOut):
    may_apply: bool
    not_eligible_because: list[str]
    questions: list[QuestionOut]


class ApplicationOut(Schema):
    id: int
    programme: str
    status: str
    reason: str = Field(..., description="The reviewer's reason, when rejected")
    submitted_at: datetime
    decided_at: datetime | None


class ApplyIn(Input):
    answers: dict[str, Any] = Field(
        default_factory=dict,
        description="Screening answers by question id: text, a number, one choice or a list",
    )


def _latest(organisation: Organisation, programmes: list[Programme]) -> dict[int, Application]:
    latest: dict[int, Application] = {}
    for application in Application.objects.filter(
        organisation=organisation, programme__in=programmes
    ).order_by("programme_id", "-submitted_at", "-id"):
        latest.setdefault(application.programme_id, application)
    return latest


def _programme_out(programme: Programme, application: Application | None) -> dict[str, Any]:
    return {
        "slug": programme.slug,
        "name": programme.name,
        "name_zh": programme.name_zh,
        "product_line": programme.product_line,
        "product_line_zh": programme.product_line_zh,
        "summary": programme.summary,
        "summary_zh": programme.summary_zh,
        "confidential": programme.is_confidential,
        "status": programme.status,
        "application": application,
    }


def _application_out(application: Application) -> dict[str, Any]:
    return {
        "id": application.pk,
        "programme": application.programme.slug,
        "status": application.status,
        "reason": application.reason if application.status == "rejected" else "",
        "submitted_at": application.submitted_at,
        "decided_at": application.decided_at,
    }


@router.get(
    "/organisations/{slug}/beta/programmes",
    response={200: list[ProgrammeOut], **READ_ERRORS},
    auth=requires(READ, load=_load_organisation),
    summary="Beta programmes the organisation may see",
)
def list_programmes(request: HttpRequest, slug: Text):
    c = caller(request)
    organisation = c.target
    programmes = list(programmes_for(c.user, organisation).order_by("name")[:200])
    latest = _latest(organisation, programmes)
    return [_programme_out(p, latest.get(p.pk)) for p in programmes]


@router.get(
    "/organisations/{slug}/beta/programmes/{programme_slug}",
    response={200: ProgrammeDetailOut, **READ_ERRORS},
    auth=requires(READ, load=_load_organisation),
    summary="One beta programme, whether the caller may apply and its screening questions",
)
def programme_detail(request: HttpRequest, slug: Text, programme_slug: Text):
    c = caller(request)
    organisation = c.target
    programme = _programme(c, organisation, programme_slug)
    application = _latest(organisation, [programme]).get(programme.pk)
    if c.user is not None:
        reasons = actions.unmet_reasons(programme, c.user, organisation)
        applied = Application.objects.filter(
            programme=programme, applicant=c.user, status__in=OPEN_APPLICATION_STATUSES
        ).exists()
    else:
        reasons, applied = ["Applications are made by people, not by a token."], False
    recruiting = programme.status == ProgrammeStatus.RECRUITING
    questions = list(programme.questions.all()) if recruiting else []
    return {
        **_programme_out(programme, application),
        "may_apply": recruiting and not reasons and not applied,
        "not_eligible_because": reasons,
        "questions": [
            {
                "id": q.pk,
                "text": q.text,
                "text_zh": q.text_zh,
                "kind": q.kind,
                "choices": [value for value, _label in q.options()],
                "required": q.required,
            }
            for q in questions
        ],
    }


@router.post(
    "/organisations/{slug}/beta/programmes/{programme_slug}/applications",
    response={201: ApplicationOut, **WRITE_ERRORS},
    auth=requires(WRITE, load=_load_for_applying),
    summary="Apply to a beta programme for the organisation (people only)",
)
def apply(request: HttpRequest, slug: Text, programme_slug: Text, payload: ApplyIn):
    c = caller(request)
    organisation, programme = c.target
    application = actions.submit_application(
        programme, organisation, c.user, payload.answers, request=request
    )
    return Status(201, _application_out(application))


class BuildOut(Schema):
    id: int
    version: str
    release_notes: str
    what_to_test: str
    published_at: datetime
    expires_on: date
    expired: bool
    sha256: str
    size: int | None
    download_url: str | None = Field(
        ..., description="The access-checked download (records it); null once expired"
    )


@router.get(
    "/organisations/{slug}/beta/programmes/{programme_slug}/builds",
    response={200: list[BuildOut], **READ_ERRORS},
    auth=requires(READ, load=_load_for_builds),
    summary="The programme's builds released to the caller (people only)",
)
def list_builds(request: HttpRequest, slug: Text, programme_slug: Text):
    c = caller(request)
    organisation, programme = c.target
    builds = builds_for(c.user, programme, organisation).order_by("-published_at", "-id")[:100]
    return [
        {
            "id": b.pk,
            "version": b.version,
            "release_notes": b.release_notes,
            "what_to_test": b.what_to_test,
            "published_at": b.published_at,
            "expires_on": b.expires_on,
            "expired": b.is_expired,
            "sha256": b.sha256,
            "size": b.size,
            "download_url": None
            if b.is_expired
            else request.build_absolute_uri(
                reverse(
                    "beta:download_build",
                    kwargs={
                        "org_slug": organisation.slug,
                        "programme_slug": programme.slug,
                        "build_id": b.pk,
                    },
                )
            ),
        }
        for b in builds
    ]


@router.get(
    "/organisations/{slug}/beta/applications",
    response={200: list[ApplicationOut], **READ_ERRORS},
    auth=requires(READ, load=_load_organisation),
    summary="The organisation's applications to beta programmes, newest first",
)
def list_applications(request: HttpRequest, slug: Text):
    organisation = caller(request).target
    rows = (
        Application.objects.filter(organisation=organisation)
        .select_related("programme")
        .order_by("-submitted_at", "-id")[:200]
    )
    return [_application_out(a) for a in rows]


@router.post(
    "/organisations/{slug}/beta/applications/{application_id}/withdraw",
    response={200: ApplicationOut, **WRITE_ERRORS},
    auth=requires(WRITE, load=_load_for_withdrawing),
    summary="Withdraw an open application or leave the programme (the applicant or an admin)",
    description=(
        "The applicant, or an admin of the organisation, withdraws a pending or waitlisted "
        "application, or gives up an accepted place (the applicant leaves the programme's "
        "cohorts). Someone else's application, for a member who is not an admin, is 404; one "
        "that is no longer open is 409 `application_refused`."
    ),
)
def withdraw_application(request: HttpRequest, slug: Text, application_id: int):
    c = caller(request)
    return _application_out(actions.withdraw_application(c.target, c.user, request=request))


class AnnouncementOut(Schema):
    id: int
    title: str
    title_zh: str
    body: str = Field(..., description="Markdown")
    body_zh: str = Field(..., description="Markdown (Chinese), or empty")
    html: str = Field(..., description="Sanitised HTML in the caller's language")
    published_at: datetime
    url: str = Field(..., description="The announcement's page")


@router.get(
    "/organisations/{slug}/beta/programmes/{programme_slug}/announcements",
    response={200: list[AnnouncementOut], **READ_ERRORS},
    auth=requires(READ, load=_load_for_builds),
    summary="The programme's announcements released to the caller (people only), newest first",
    description=(
        "The same rule as builds: participants who may see the programme's content (under NDA, "
        "after accepting its current agreement), announcements for every participant and for "
        "the cohorts they are in. Anyone else gets an empty list; a token is refused with 403 "
        "`person_required`."
    ),
)
def list_announcements(request: HttpRequest, slug: Text, programme_slug: Text):
    c = caller(request)
    organisation, programme = c.target
    rows = announcements_for(c.user, programme, organisation)[:100]
    return [
        {
            "id": a.pk,
            "title": a.title,
            "title_zh": a.title_zh,
            "body": a.body,
            "body_zh": a.body_zh,
            "html": a.display_html,
            "published_at": a.published_at,
            "url": request.build_absolute_uri(
                reverse(
                    "beta:announcement",
                    kwargs={"org_slug": organisation.slug, "announcement_id": a.pk},
                )
            ),
        }
        for a in rows
    ]


api.add_router("/", router)
