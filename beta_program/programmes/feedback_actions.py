"""The only writers of feedback: filing a report (with attachments), commenting, triage
transitions and assignment, survey answers. Each runs in one transaction with the audit trail
and its domain events (ids only: no title, text or answer reaches the CRM); reporters are
e-mailed after commit, in their language."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.postgres.search import SearchVector
from django.core.files import File
from django.db import connections, transaction
from django.db.models import Value
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from beta_program.programmes import sla, tasks
from beta_program.programmes.access import can_manage, is_beta_staff
from beta_program.programmes.exceptions import BetaError, TransitionRefused
from beta_program.programmes.feedback_access import fileable_builds, may_file
from beta_program.programmes.feedback_models import (
    TRIAGE_TRANSITIONS,
    EnvironmentField,
    Feedback,
    FeedbackAttachment,
    FeedbackComment,
    FeedbackKind,
    Frequency,
    Severity,
    SurveyResponse,
    TriageChange,
    TriageStatus,
)
from beta_program.programmes.models import Build
from portal import attachments as attachment_checks
from portal import audit, events, search_text
from portal.exceptions import PermissionDeniedError, PortalError
from portal.models import Organisation, User
from portal.text import check_text

DEFAULT_ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
ATTACHMENTS_PER_REPORT = 5


def attachment_max_bytes() -> int:
    return int(getattr(settings, "BETA_ATTACHMENT_MAX_BYTES", DEFAULT_ATTACHMENT_MAX_BYTES))


class FeedbackRefused(BetaError):
    code = "validation_error"
    status = 422


class AlreadyAnswered(BetaError):
    code = "already_answered"
    status = 409


@dataclass
class Report:
    """What a participant files: the same shape from the page form and the API."""

    kind: str
    title: str
    description: str = ""
    steps: str = ""
    expected: str = ""
    actual: str = ""
    severity: str = ""
    frequency: str = ""
    environment: dict[str, str] = field(default_factory=dict)


def _text(value: str, name: str, *, required: bool = False, limit: int = 10000) -> str:
    value = (value or "").strip()
    if required and not value:
        raise FeedbackRefused(_("This field is required."), field=name)
    if len(value) > limit:
        raise FeedbackRefused(
            _("Keep this under %(limit)d characters.") % {"limit": limit}, field=name
        )
    try:
        return check_text(value)
    except ValueError as exc:
        raise FeedbackRefused(str(exc), field=name) from exc


def clean_report(report: Report, environment_fields: list[EnvironmentField]) -> Report:
    """The report with its texts trimmed and checked, or FeedbackRefused naming the field."""
    if report.kind not in FeedbackKind.values:
        raise FeedbackRefused(_("Choose a bug report or feature feedback."), field="kind")
    cleaned = Report(
        kind=report.kind,
        title=_text(report.title, "title", required=True, limit=200),
        description=_text(report.description, "description"),
    )
    if report.kind == FeedbackKind.FEATURE:
        if not cleaned.description:
            raise FeedbackRefused(_("Describe your idea or feedback."), field="description")
        return cleaned
    if report.severity not in Severity.values:
        raise FeedbackRefused(_("Choose a severity."), field="severity")
    if report.frequency and report.frequency not in Frequency.values:
        raise FeedbackRefused(_("Choose how often it happens."), field="frequency")
    cleaned.severity, cleaned.frequency = report.severity, report.frequency
    cleaned.steps = _text(report.steps, "steps", required=True)
    cleaned.expected = _text(report.expected, "expected", limit=5000)
    cleaned.actual = _text(report.actual, "actual", required=True, limit=5000)
    known = {str(f.pk): f for f in environment_fields}
    unknown = sorted(set(report.environment) - set(known))
    if unknown:
        raise FeedbackRefused(
            _("Unknown environment field: %(id)s") % {"id": unknown[0]},
            field=f"environment.{unknown[0]}",
        )
    for key, env_field in known.items():
        value = _text(str(report.environment.get(key, "")), f"environment.{key}", limit=200)
        if env_field.required and not value:
            raise FeedbackRefused(
                _("%(label)s is required.") % {"label": env_field.display_label},
                field=f"environment.{key}",
            )
        if value:
            cleaned.environment[key] = value
    return cleaned


def check_attachments(
    files: list[File],
    *,
    field: str = "attachments",
    error: type[PortalError] = FeedbackRefused,
) -> list[attachment_checks.CheckedFile]:
    """Each file's checked kind, or `error` naming `field` (more than
    `ATTACHMENTS_PER_REPORT` files, too large, or not the image or PDF its name says). The
    R&D boards' ideas pass their own error class: the same rule for every beta upload."""
    if len(files) > ATTACHMENTS_PER_REPORT:
        raise error(
            _("Attach at most %(n)d files.") % {"n": ATTACHMENTS_PER_REPORT},
            field=field,
            code="too_many_attachments",
        )
    return [
        attachment_checks.check(f, max_bytes=attachment_max_bytes(), error=error, field=field)
        for f in files
    ]


def file_feedback(
    build: Build,
    organisation: Organisation,
    user: User,
    report: Report,
    *,
    files: list[File] | None = None,
    request: HttpRequest | None = None,
) -> Feedback:
    """File a bug report or feature feedback on `build` for `organisation`. The person must be
    a participant who may download the build (NDA and cohort as for builds) and the build must
    not have expired. Starts the triage SLA clock of the report's severity."""
    programme = build.programme
    if not fileable_builds(user, programme, organisation).filter(pk=build.pk).exists():
        raise PermissionDeniedError(_("You cannot give feedback on this build."))
    cleaned = clean_report(report, list(programme.environment_fields.all()))
    files = files or []
    checked = check_attachments(files)
    now = timezone.now()
    with transaction.atomic():
        feedback = Feedback.objects.create(
            programme=programme,
            build=build,
            organisation=organisation,
            reporter=user,
            kind=cleaned.kind,
            title=cleaned.title,
            description=cleaned.description,
            steps=cleaned.steps,
            expected=cleaned.expected,
            actual=cleaned.actual,
            severity=cleaned.severity,
            frequency=cleaned.frequency,
            environment=cleaned.environment,
            submitted_at=now,
            status_changed_at=now,
            triage_due_at=sla.triage_due(cleaned.severity, now),
        )
        index(feedback)
        _store_attachments(feedback, user, files, checked)
        audit.record(
            "beta.feedback_submitted",
            actor=user,
            organisation=organisation,
            obj=feedback,
            request=request,
            details={"programme_id": programme.pk, "build_id": build.pk, "kind": feedback.kind},
        )
        events.publish(
            "greenloop.beta.feedback_submitted",
            organisation,
            f"beta/feedback/{feedback.pk}",
            {
                "feedback_id": feedback.pk,
                "programme_id": programme.pk,
                "build_id": build.pk,
                "kind": feedback.kind,
                "severity": feedback.severity or None,
            },
        )
    return feedback


def _store_attachments(
    feedback: Feedback,
    user: User,
    files: list[File],
    checked: list[attachment_checks.CheckedFile],
) -> list[FeedbackAttachment]:
    return [
        FeedbackAttachment.objects.create(
            feedback=feedback,
            file=upload,
            name=(getattr(upload, "name", "") or "file")[-200:],
            content_type=info.content_type,
            size=info.size,
            uploaded_by=user,
        )
        for upload, info in zip(files, checked, strict=True)
    ]


def add_attachments(
    feedback: Feedback,
    user: User,
    files: list[File],
    *,
    request: HttpRequest | None = None,
) -> list[FeedbackAttachment]:
    """Attach more screenshots or PDFs to a report already filed. Only its reporter, while they
    may still see the programme's content, and never beyond `ATTACHMENTS_PER_REPORT` files per
    report in all (counted under a lock on the report, so two uploads cannot both fit)."""
    if feedback.reporter_id != user.pk or not may_file(
        user, feedback.programme, feedback.organisation
    ):
        raise PermissionDeniedError(_("Only the reporter can add attachments to a report."))
    if not files:
        raise FeedbackRefused(_("Choose at least one file to attach."), field="files")
    checked = check_attachments(files, field="files")
    with transaction.atomic():
        Feedback.objects.select_for_update().filter(pk=feedback.pk).first()
        already = feedback.attachments.count()
        if already + len(files) > ATTACHMENTS_PER_REPORT:
            raise FeedbackRefused(
                _("A report holds at most %(n)d files; this one has %(already)d.")
                % {"n": ATTACHMENTS_PER_REPORT, "already": already},
                field="files",
                code="too_many_attachments",
            )
        stored = _store_attachments(feedback, user, files, checked)
        audit.record(
            "beta.feedback_attachments_added",
            actor=user,
            organisation=feedback.organisation,
            obj=feedback,
            request=request,
            details={"attachment_ids": [a.pk for a in stored]},
        )
    return stored


def index(feedback: Feedback) -> None:
    """Search terms for duplicate suggestions: title (weight A) and the text (B)."""
    body = " ".join([feedback.description, feedback.steps, feedback.actual])
    document = search_text.document(feedback.title, body)
    Feedback.objects.filter(pk=feedback.pk).update(search_document=document)
    if connections[Feedback.objects.db].vendor == "postgresql":
        Feedback.objects.filter(pk=feedback.pk).update(
            search_vector=SearchVector(
                Value(search_text.document(feedback.title)), config="simple", weight="A"
            )
            + SearchVector(Value(search_text.document(body)), config="simple", weight="B")
        )


def comment(
    feedback: Feedback,
    user: User,
    body: str,
    *,
    organisation: Organisation | None = None,
    internal: bool = False,
    request: HttpRequest | None = None,
) -> FeedbackComment:
    """A comment on a report. Staff may write internal notes; the reporter writes public
    comments on their own report (acting for its organisation). A reporter's answer to a
    report that needs information puts it back in the triage queue as new."""
    staff = is_beta_staff(user)
    if not staff:
        if internal:
            raise PermissionDeniedError(_("Only staff write internal notes."))
        if (
            feedback.reporter_id != user.pk
            or organisation is None
            or feedback.organisation_id != organisation.pk
            or not may_file(user, feedback.programme, organisation)
        ):
            raise PermissionDeniedError(_("You cannot comment on this report."))
    body = _text(body, "body", required=True, limit=5000)
    with transaction.atomic():
        note = FeedbackComment.objects.create(
            feedback=feedback, author=user, body=body, internal=internal
        )
        audit.record(
            "beta.feedback_commented",
            actor=user,
            organisation=feedback.organisation,
            obj=feedback,
            request=request,
            details={"comment_id": note.pk, "internal": internal},
        )
        if not staff and feedback.status == TriageStatus.NEEDS_INFO:
            _move(feedback, TriageStatus.NEW, user, request=request)
    return note


def transition(
    feedback: Feedback,
    to_status: str,
    by: User,
    *,
    fixed_in_build: Build | None = None,
    duplicate_of: Feedback | None = None,
    request: HttpRequest | None = None,
) -> Feedback:
    """Move the report to `to_status` if TRIAGE_TRANSITIONS allows it (under a row lock).
    "Fixed" names the build of the same programme that has the fix, "duplicate" the report of
    the same programme it repeats. The reporter is told by e-mail."""
    if not can_manage(by):
        raise PermissionDeniedError(_("Only product staff triage feedback."))
    if to_status == TriageStatus.FIXED and (
        fixed_in_build is None or fixed_in_build.programme_id != feedback.programme_id
    ):
        raise TransitionRefused(
            _("Name the build of this programme that has the fix."), field="fixed_in_build"
        )
    if to_status == TriageStatus.DUPLICATE and (
        duplicate_of is None
        or duplicate_of.pk == feedback.pk
        or duplicate_of.programme_id != feedback.programme_id
    ):
        raise TransitionRefused(
            _("Name another report of this programme that this one repeats."),
            field="duplicate_of",
        )
    with transaction.atomic():
        locked = _move(
            feedback,
            to_status,
            by,
            fixed_in_build=fixed_in_build,
            duplicate_of=duplicate_of,
            request=request,
        )
    feedback.refresh_from_db()
    return locked


def _move(
    feedback: Feedback,
    to_status: str,
    by: User,
    *,
    fixed_in_build: Build | None = None,
    duplicate_of: Feedback | None = None,
    request: HttpRequest | None = None,
) -> Feedback:
    """The one place a report's status changes. Runs inside the caller's transaction."""
    locked = Feedback.objects.select_for_update().get(pk=feedback.pk)
    if to_status not in TRIAGE_TRANSITIONS.get(locked.status, frozenset()):
        raise TransitionRefused(
            _("A report that is %(from)s cannot become %(to)s.")
            % {
                "from": locked.get_status_display().lower(),
                "to": TriageStatus(to_status).label.lower(),
            },
            field="status",
        )
    from_status = locked.status
    now = timezone.now()
    first_confirmation = (
        to_status == TriageStatus.CONFIRMED
        and locked.kind == FeedbackKind.BUG
        and not TriageChange.objects.filter(
            feedback=locked, to_status=TriageStatus.CONFIRMED
        ).exists()
    )
    locked.status = to_status
    locked.status_changed_at = now
    locked.fixed_in_build = fixed_in_build if to_status == TriageStatus.FIXED else None
    locked.duplicate_of = duplicate_of if to_status == TriageStatus.DUPLICATE else None
    if locked.first_triaged_at is None and from_status == TriageStatus.NEW:
        locked.first_triaged_at = now
    locked.save(
        update_fields=[
            "status",
            "status_changed_at",
            "fixed_in_build",
            "duplicate_of",
            "first_triaged_at",
        ]
    )
    TriageChange.objects.create(
        feedback=locked, from_status=from_status, to_status=to_status, changed_by=by, changed_at=now
    )
    audit.record(
        "beta.feedback_status_changed",
        actor=by,
        organisation=locked.organisation,
        obj=locked,
        request=request,
        details={
            "from": from_status,
            "to": to_status,
            "fixed_in_build_id": locked.fixed_in_build_id,
            "duplicate_of_id": locked.duplicate_of_id,
        },
    )
    if first_confirmation:
        events.publish(
            "greenloop.beta.bug_confirmed",
            locked.organisation,
            f"beta/feedback/{locked.pk}",
            {
                "feedback_id": locked.pk,
                "programme_id": locked.programme_id,
                "build_id": locked.build_id,
                "severity": locked.severity,
            },
        )
    if by.pk != locked.reporter_id:
        pk = locked.pk
        transaction.on_commit(lambda: _notify(pk, to_status))
    return locked


def _notify(feedback_id: int, status: str) -> None:
    tasks.send_feedback_status_email.delay(feedback_id, status)


@transaction.atomic
def assign(
    feedback: Feedback, assignee: User | None, by: User, *, request: HttpRequest | None = None
) -> Feedback:
    """Give the report to a member of staff (None: nobody)."""
    if not can_manage(by):
        raise PermissionDeniedError(_("Only product staff triage feedback."))
    if assignee is not None and not is_beta_staff(assignee):
        raise FeedbackRefused(_("Reports are assigned to staff only."), field="assignee")
    locked = Feedback.objects.select_for_update().get(pk=feedback.pk)
    before = locked.assignee_id
    locked.assignee = assignee
    locked.save(update_fields=["assignee"])
    audit.record(
        "beta.feedback_assigned",
        actor=by,
        organisation=locked.organisation,
        obj=locked,
        request=request,
        details={"from": before, "to": assignee.pk if assignee else None},
    )
    feedback.assignee = assignee
    return locked


def answer_survey(
    build: Build,
    organisation: Organisation,
    user: User,
    *,
    nps: int,
    csat: int,
    comment_text: str = "",
    request: HttpRequest | None = None,
) -> SurveyResponse:
    """The participant's survey answer for `build` (once per build)."""
    if not fileable_builds(user, build.programme, organisation).filter(pk=build.pk).exists():
        raise PermissionDeniedError(_("You cannot answer the survey of this build."))
    if not (isinstance(nps, int) and 0 <= nps <= 10):
        raise FeedbackRefused(_("Choose a number from 0 to 10."), field="nps")
    if not (isinstance(csat, int) and 1 <= csat <= 5):
        raise FeedbackRefused(_("Choose a number from 1 to 5."), field="csat")
    text = _text(comment_text, "comment", limit=5000)
    with transaction.atomic():
        if SurveyResponse.objects.filter(build=build, respondent=user).exists():
            raise AlreadyAnswered(_("You have already answered the survey of this build."))
        response = SurveyResponse.objects.create(
            programme=build.programme,
            build=build,
            organisation=organisation,
            respondent=user,
            nps=nps,
            csat=csat,
            comment=text,
        )
        audit.record(
            "beta.survey_answered",
            actor=user,
            organisation=organisation,
            obj=response,
            request=request,
            details={"build_id": build.pk},
        )
    return response
