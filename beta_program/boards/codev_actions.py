"""Co-development on a private board: which customer organisations co-own an idea, its
milestones, and the documents the board's organisations and the vendor team share on it.

Only ideas on private boards have these (a public board's idea is every customer's, and a
document shared there would reach them all). Product staff choose co-owners; staff and the
co-owners' members keep the milestones; any member of the board's organisations may share a
document (`access.may_share_documents`). Each change is audited; none is a CRM event (the plans
are confidential, and the idea's status events already tell the account owner)."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from beta_program.boards.access import can_manage, may_share_documents
from beta_program.boards.actions import clean_text
from beta_program.boards.exceptions import BoardError, IdeaRefused
from beta_program.boards.models import Idea, Milestone, MilestoneStatus, SharedDocument
from portal import attachments, audit
from portal.exceptions import PermissionDeniedError
from portal.models import Organisation, Role, User
from portal.permissions import role_in

DEFAULT_DOCUMENT_MAX_BYTES = 20 * 1024 * 1024


def document_max_bytes() -> int:
    return int(getattr(settings, "BOARDS_DOCUMENT_MAX_BYTES", DEFAULT_DOCUMENT_MAX_BYTES))


def _private_only(idea: Idea) -> None:
    if not idea.board.is_private:
        raise BoardError(
            _("Co-development belongs to ideas on private boards."), code="not_co_development"
        )


def set_co_owners(
    idea: Idea, organisations: list[Organisation], by: User, *, request: HttpRequest | None = None
) -> None:
    """Product staff name the customer organisations that co-own the idea: each must take part
    in the idea's private board."""
    if not can_manage(by):
        raise PermissionDeniedError(_("Only product staff choose an idea's co-owners."))
    _private_only(idea)
    taking_part = set(idea.board.organisations.values_list("pk", flat=True))
    outside = [o.name for o in organisations if o.pk not in taking_part]
    if outside:
        raise IdeaRefused(
            _("%(names)s does not take part in this board.") % {"names": ", ".join(outside)},
            field="co_owners",
        )
    with transaction.atomic():
        idea.co_owners.set(organisations)
        audit.record(
            "boards.co_owners_set",
            actor=by,
            obj=idea,
            request=request,
            details={"organisation_ids": sorted(o.pk for o in organisations)},
        )


def may_keep_milestones(user: User, organisation: Organisation | None, idea: Idea) -> bool:
    """Product staff, and members (not viewers) of an organisation co-owning the idea."""
    if can_manage(user):
        return True
    if organisation is None or not idea.board.is_private:
        return False
    role = role_in(user, organisation)
    if role is None or Role.rank(role) < Role.rank(Role.MEMBER):
        return False
    return idea.co_owners.filter(pk=organisation.pk).exists()


def _milestone_fields(title: str, title_zh: str, due_on: dt.date | None) -> tuple[str, str]:
    title = clean_text(title, "title", required=True, limit=160)
    title_zh = clean_text(title_zh, "title_zh", limit=160)
    if due_on is None:
        raise IdeaRefused(_("Give the date the milestone is due (YYYY-MM-DD)."), field="due_on")
    return title, title_zh


def add_milestone(
    idea: Idea,
    organisation: Organisation | None,
    user: User,
    *,
    title: str,
    due_on: dt.date | None,
    title_zh: str = "",
    request: HttpRequest | None = None,
) -> Milestone:
    _private_only(idea)
    if not may_keep_milestones(user, organisation, idea):
        raise PermissionDeniedError(_("Only the idea's co-owners and product staff keep its plan."))
    title, title_zh = _milestone_fields(title, title_zh, due_on)
    with transaction.atomic():
        milestone = Milestone.objects.create(
            idea=idea, title=title, title_zh=title_zh, due_on=due_on
        )
        audit.record(
            "boards.milestone_added",
            actor=user,
            organisation=organisation,
            obj=idea,
            request=request,
            details={"milestone_id": milestone.pk, "due_on": str(due_on)},
        )
    return milestone


def update_milestone(
    milestone: Milestone,
    organisation: Organisation | None,
    user: User,
    *,
    status: str,
    due_on: dt.date | None,
    request: HttpRequest | None = None,
) -> Milestone:
    """Move a milestone on (a done one records today as its completion date) or to a new date."""
    idea = milestone.idea
    if not may_keep_milestones(user, organisation, idea):
        raise PermissionDeniedError(_("Only the idea's co-owners and product staff keep its plan."))
    if status not in MilestoneStatus.values:
        raise IdeaRefused(_("Choose one of the milestone statuses."), field="status")
    if due_on is None:
        raise IdeaRefused(_("Give the date the milestone is due (YYYY-MM-DD)."), field="due_on")
    before = (milestone.status, milestone.due_on)
    milestone.status, milestone.due_on = status, due_on
    if status == MilestoneStatus.DONE:
        milestone.completed_on = milestone.completed_on or timezone.localdate()
    else:
        milestone.completed_on = None
    with transaction.atomic():
        milestone.save(update_fields=["status", "due_on", "completed_on"])
        audit.record(
            "boards.milestone_updated",
            actor=user,
            organisation=organisation,
            obj=idea,
            request=request,
            details={
                "milestone_id": milestone.pk,
                "from": [before[0], str(before[1])],
                "to": [status, str(due_on)],
            },
        )
    return milestone


def share_document(
    idea: Idea,
    organisation: Organisation | None,
    user: User,
    upload: File,
    *,
    title: str = "",
    request: HttpRequest | None = None,
) -> SharedDocument:
    """Share a PDF or an image with the board's organisations, in private storage, checked by
    its content (portal.attachments) within `document_max_bytes()`."""
    _private_only(idea)
    if not may_share_documents(user, organisation, idea):
        raise PermissionDeniedError(_("You cannot share documents on this idea."))
    checked = attachments.check(
        upload, max_bytes=document_max_bytes(), error=IdeaRefused, field="file"
    )
    name = (getattr(upload, "name", "") or "file").rsplit("/", 1)[-1][-200:]
    title = clean_text(title, "title", limit=200) or name
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    with transaction.atomic():
        document = SharedDocument(
            idea=idea,
            title=title,
            name=name,
            content_type=checked.content_type,
            size=checked.size,
            sha256=digest.hexdigest(),
            uploaded_by=user,
            organisation=organisation,
        )
        document.file.save(name, upload, save=False)
        document.save()
        audit.record(
            "boards.document_shared",
            actor=user,
            organisation=organisation,
            obj=idea,
            request=request,
            details={"document_id": document.pk, "sha256": document.sha256},
        )
    return document
