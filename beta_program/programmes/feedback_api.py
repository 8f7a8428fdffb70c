"""Feedback endpoints of the REST API, beside the programme endpoints (same tag and scopes):
file a bug report or feature feedback on a build, list and read one's own reports (status,
public comments and attachments), add screenshots or PDFs to one's own report and download
them, answer a build's survey.

Feedback is personal: a participant files it and reads their own, so an organisation token gets
403 `person_required` before the body is read. Visibility is the pages' (`feedback_access`):
a programme whose content the person may not see, a build not released to them and a report
that is not theirs are 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest
from django.urls import reverse
from ninja import Field, File, Schema, Status, UploadedFile

from beta_program.programmes import feedback_actions
from beta_program.programmes.api import (
    READ,
    READ_ERRORS,
    WRITE,
    WRITE_ERRORS,
    organisation_in_path,
    programme_for_caller,
    router,
)
from beta_program.programmes.feedback_access import (
    build_for_feedback_or_404,
    feedback_for,
    feedback_or_404,
    may_file,
)
from beta_program.programmes.feedback_actions import Report
from beta_program.programmes.feedback_models import (
    Feedback,
    FeedbackAttachment,
    FeedbackKind,
    Frequency,
    Severity,
)
from beta_program.programmes.feedback_views import attachment_download
from beta_program.programmes.models import Build, Programme
from portal.api import ApiError, Caller, Input, PathParams, caller, requires
from portal.models import Organisation
from portal.text import Text, ascii_integer

LIST_LIMIT = 200


def _person(c: Caller) -> None:
    if c.token is not None:
        raise ApiError(
            403,
            "person_required",
            "Feedback is filed and read by participants: sign in, an organisation token cannot.",
        )


def _participant_programme(c: Caller, params: PathParams) -> tuple[Organisation, Programme]:
    organisation = organisation_in_path(c, params)
    programme = programme_for_caller(c, organisation, str(params.get("programme_slug", "")))
    _person(c)
    if not may_file(c.user, programme, organisation):
        raise Http404
    return organisation, programme


def _survey_build(c: Caller, params: PathParams) -> tuple[Organisation, Build]:
    organisation, programme = _participant_programme(c, params)
    build_id = ascii_integer(str(params.get("build_id", "")))
    if build_id is None:
        raise Http404
    return organisation, build_for_feedback_or_404(c.user, organisation, programme, build_id)


def _own_feedback(c: Caller, params: PathParams) -> tuple[Organisation, Feedback]:
    organisation = organisation_in_path(c, params)
    feedback_id = ascii_integer(str(params.get("feedback_id", "")))
    if feedback_id is None:
        raise Http404
    if c.token is not None:
        # A report of the organisation exists (else 404 like any other id), but it is a person's.
        if not Feedback.objects.filter(organisation=organisation, pk=feedback_id).exists():
            raise Http404
        _person(c)
    return organisation, feedback_or_404(c.user, organisation, feedback_id)


# `requires` keeps the function it is given: the loaders call the lookups above by name, so each
# stays one place to check (and the authorisation walk's breakage test can replace it).
def _load_for_filing(c: Caller, params: PathParams) -> tuple[Organisation, Programme]:
    return _participant_programme(c, params)


def _load_for_survey(c: Caller, params: PathParams) -> tuple[Organisation, Build]:
    return _survey_build(c, params)


def _load_feedback(c: Caller, params: PathParams) -> tuple[Organisation, Feedback]:
    return _own_feedback(c, params)


def _own_attachment(c: Caller, params: PathParams) -> FeedbackAttachment:
    """An attachment of one of the caller's own reports (the report found as by
    `_own_feedback`); any other id is 404."""
    _organisation_, report = _own_feedback(c, params)
    attachment_id = ascii_integer(str(params.get("attachment_id", "")))
    attachment = (
        report.attachments.filter(pk=attachment_id).first() if attachment_id is not None else None
    )
    if attachment is None:
        raise Http404
    return attachment


def _load_attachment(c: Caller, params: PathParams) -> FeedbackAttachment:
    return _own_attachment(c, params)


def _load_person(c: Caller, params: PathParams) -> Organisation:
    organisation = organisation_in_path(c, params)
    _person(c)
    return organisation


class FeedbackIn(Input):
    build_id: int = Field(..., description="A current build released to the caller")
    kind: str = Field(..., examples=["bug"], description=" or ".join(FeedbackKind.values))
    title: str = Field(..., max_length=200)
    description: str = Field("", description="Required for feature feedback")
    steps: str = Field("", description="Steps to reproduce (bug reports)")
    expected: str = ""
    actual: str = Field("", description="What happened (bug reports)")
    severity: str = Field("", examples=["high"], description=", ".join(Severity.values))
    frequency: str = Field("", examples=["often"], description=", ".join(Frequency.values))
    environment: dict[str, str] = Field(
        default_factory=dict, description="The programme's environment fields, by field id"
    )


class CommentOut(Schema):
    author: str
    product_team: bool
    body: str
    created_at: datetime


class AttachmentOut(Schema):
    id: int
    name: str = Field(..., examples=["screenshot.png"])
    content_type: str = Field(..., examples=["image/png"])
    size: int = Field(..., description="Bytes")
    uploaded_at: datetime
    download_url: str = Field(
        ..., description="The file, for the reporter's own session (never rendered inline)"
    )


class FeedbackOut(Schema):
    id: int
    programme: str
    build: str
    kind: str
    title: str
    severity: str
    frequency: str
    status: str = Field(..., examples=["fixed"])
    status_label: str = Field(..., examples=["Fixed in build 4.0.0-beta.3"])
    fixed_in_build: str | None
    duplicate_of: int | None
    submitted_at: datetime
    status_changed_at: datetime


class FeedbackDetailOut(FeedbackOut):
    description: str
    steps: str
    expected: str
    actual: str
    environment: dict[str, str]
    comments: list[CommentOut] = Field(..., description="Public comments; internal notes never")
    attachments: list[AttachmentOut] = Field(..., description="Screenshots and PDFs, oldest first")


class SurveyIn(Input):
    nps: int = Field(..., description="How likely to recommend the product, 0-10")
    csat: int = Field(..., description="Satisfaction with the build, 1-5")
    comment: str = ""


class SurveyOut(Schema):
    id: int
    build: str
    nps: int
    csat: int
    comment: str
    submitted_at: datetime


def _out(report: Feedback) -> dict[str, Any]:
    return {
        "id": report.pk,
        "programme": report.programme.slug,
        "build": report.build.version,
        "kind": report.kind,
        "title": report.title,
        "severity": report.severity,
        "frequency": report.frequency,
        "status": report.status,
        "status_label": report.status_label(),
        "fixed_in_build": report.fixed_in_build.version if report.fixed_in_build_id else None,
        "duplicate_of": report.duplicate_of_id,
        "submitted_at": report.submitted_at,
        "status_changed_at": report.status_changed_at,
    }


def _attachment_out(attachment: FeedbackAttachment, organisation_slug: str) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "name": attachment.name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "uploaded_at": attachment.uploaded_at,
        "download_url": reverse(
            "api-v1:beta_feedback_attachment",
            kwargs={
                "slug": organisation_slug,
                "feedback_id": attachment.feedback_id,
                "attachment_id": attachment.pk,
            },
        ),
    }


def _detail(report: Feedback, slug: str) -> dict[str, Any]:
    comments = report.comments.filter(internal=False).select_related("author")
    return {
        **_out(report),
        "description": report.description,
        "steps": report.steps,
        "expected": report.expected,
        "actual": report.actual,
        "environment": report.environment,
        "comments": [
            {
                "author": (c.author.get_full_name() or c.author.email) if c.author else "",
                "product_team": bool(c.author and c.author.is_staff),
                "body": c.body,
                "created_at": c.created_at,
            }
            for c in comments
        ],
        "attachments": [_attachment_out(a, slug) for a in report.attachments.all()],
    }


@router.post(
    "/organisations/{slug}/beta/programmes/{programme_slug}/feedback",
    response={201: FeedbackDetailOut, **WRITE_ERRORS},
    auth=requires(WRITE, load=_load_for_filing),
    summary="File a bug report or feature feedback on a build (participants only)",
)
def file_feedback(request: HttpRequest, slug: Text, programme_slug: Text, payload: FeedbackIn):
    c = caller(request)
    organisation, programme = c.target
    build = build_for_feedback_or_404(c.user, organisation, programme, payload.build_id)
    report = feedback_actions.file_feedback(
        build,
        organisation,
        c.user,
        Report(
            kind=payload.kind,
            title=payload.title,
            description=payload.description,
            steps=payload.steps,
            expected=payload.expected,
            actual=payload.actual,
            severity=payload.severity,
            frequency=payload.frequency,
            environment=payload.environment,
        ),
        request=request,
    )
    return Status(201, _detail(report, organisation.slug))


@router.get(
    "/organisations/{slug}/beta/feedback",
    response={200: list[FeedbackOut], **READ_ERRORS},
    auth=requires(READ, load=_load_person),
    summary="The caller's own bug reports and feedback, newest first (people only)",
)
def list_feedback(request: HttpRequest, slug: Text):
    c = caller(request)
    reports = (
        feedback_for(c.user, c.target)
        .select_related("programme", "build", "fixed_in_build")
        .order_by("-submitted_at", "-id")[:LIST_LIMIT]
    )
    return [_out(r) for r in reports]


@router.get(
    "/organisations/{slug}/beta/feedback/{feedback_id}",
    response={200: FeedbackDetailOut, **READ_ERRORS},
    auth=requires(READ, load=_load_feedback),
    summary="One of the caller's reports with its status and public comments",
)
def feedback_detail(request: HttpRequest, slug: Text, feedback_id: int):
    organisation, report = caller(request).target
    return _detail(report, organisation.slug)


ATTACHMENT_RULES = (
    "Screenshots and PDFs only (PNG, JPEG, GIF, WebP, PDF), judged by their content: a file whose "
    "content is not its name's kind is refused. At most 5 MB each and 5 files per report in "
    "all. Refusals are 422 `validation_error`, `attachment_type`, `attachment_disguised`, "
    "`attachment_corrupt`, `attachment_empty`, `attachment_too_large` or `too_many_attachments`, "
    "naming the field `files`."
)


@router.post(
    "/organisations/{slug}/beta/feedback/{feedback_id}/attachments",
    response={201: list[AttachmentOut], **WRITE_ERRORS},
    auth=requires(WRITE, load=_load_feedback),
    summary="Add screenshots or PDFs to one of the caller's own reports (multipart)",
    description="A `multipart/form-data` body with one or more parts named `files`. "
    + ATTACHMENT_RULES
    + " Answers the attachments added.",
)
def add_attachments(
    request: HttpRequest,
    slug: Text,
    feedback_id: int,
    files: list[UploadedFile] = File(..., description="One or more files"),  # noqa: B008
):
    c = caller(request)
    organisation, report = c.target
    added = feedback_actions.add_attachments(report, c.user, list(files), request=request)
    return Status(201, [_attachment_out(a, organisation.slug) for a in added])


@router.get(
    "/organisations/{slug}/beta/feedback/{feedback_id}/attachments/{attachment_id}",
    response={200: None, **READ_ERRORS},
    auth=requires(READ, load=_load_attachment),
    summary="Download an attachment of one of the caller's own reports",
    description="The file as an attachment under its uploaded name, never rendered inline. "
    "404 for any report that is not the caller's, or whose programme they may no longer see "
    "(a new NDA version to accept, a place withdrawn).",
    url_name="beta_feedback_attachment",
)
def download_attachment(request: HttpRequest, slug: Text, feedback_id: int, attachment_id: int):
    return attachment_download(caller(request).target)


@router.post(
    "/organisations/{slug}/beta/programmes/{programme_slug}/builds/{build_id}/survey",
    response={201: SurveyOut, **WRITE_ERRORS},
    auth=requires(WRITE, load=_load_for_survey),
    summary="Answer a build's survey: NPS (0-10) and CSAT (1-5) with a comment, once per build",
)
def answer_survey(
    request: HttpRequest, slug: Text, programme_slug: Text, build_id: int, payload: SurveyIn
):
    c = caller(request)
    organisation, build = c.target
    response = feedback_actions.answer_survey(
        build,
        organisation,
        c.user,
        nps=payload.nps,
        csat=payload.csat,
        comment_text=payload.comment,
        request=request,
    )
    return Status(
        201,
        {
            "id": response.pk,
            "build": build.version,
            "nps": response.nps,
            "csat": response.csat,
            "comment": response.comment,
            "submitted_at": response.submitted_at,
        },
    )
