"""Moving an idea along the status workflow staff configure: the one writer of an idea's
status. The change, its public note, the audit trail, the CRM events and the voters' and
subscribers' notifications land in one transaction."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from beta_program.boards import notifications
from beta_program.boards.access import can_manage
from beta_program.boards.actions import clean_text, lock_idea, subscriber_ids, voter_ids
from beta_program.boards.exceptions import IdeaRefused, TransitionRefused
from beta_program.boards.models import Idea, IdeaStatus, IdeaStatusChange, StatusKind, Vote
from portal import audit, events
from portal.exceptions import PermissionDeniedError
from portal.models import Organisation, User


def may_move(from_status: IdeaStatus, to_status: IdeaStatus) -> bool:
    """The workflow allows `from_status` -> `to_status` (no allowed list: any other status)."""
    if from_status.pk == to_status.pk:
        return False
    allowed = set(from_status.allowed_next.values_list("pk", flat=True))
    return not allowed or to_status.pk in allowed


def asking_organisation_ids(idea: Idea) -> list[int]:
    """The organisations that asked for the idea: its author's and every counted voter's."""
    ids = set(
        Vote.objects.filter(idea=idea, suppressed_by__isnull=True).values_list(
            "organisation_id", flat=True
        )
    )
    if idea.organisation_id:
        ids.add(idea.organisation_id)
    return sorted(ids)


def page_path(page) -> str:
    """The path of a Wagtail page on its site (a notification links to a portal path)."""
    return urlsplit(page.get_url() or "").path


def change_status(
    idea: Idea,
    to_status: IdeaStatus,
    by: User,
    *,
    note: str = "",
    note_zh: str = "",
    changelog_page=None,
    request: HttpRequest | None = None,
) -> IdeaStatusChange:
    """Move `idea` to `to_status` if the workflow allows it from its current status (read under
    a lock on the idea, so two staff members cannot both move it from the same state). Shipped
    and declined statuses need a public note. Voters and subscribers who may see the idea are
    notified (in their language when they read it); the CRM hears `idea_status_changed`, and on
    shipping one `idea_shipped` per organisation that asked for the idea, on that customer's
    record."""
    if not can_manage(by):
        raise PermissionDeniedError(_("Only product staff change an idea's status."))
    note = clean_text(note, "note", limit=5000)
    note_zh = clean_text(note_zh, "note_zh", limit=5000)
    if to_status.requires_note and not (note or note_zh or changelog_page):
        raise IdeaRefused(
            _("Moving an idea to %(status)s needs a public note for its voters.")
            % {"status": to_status.display_name},
            field="note",
        )
    now = timezone.now()
    with transaction.atomic():
        locked = lock_idea(idea)
        if locked.merged_into_id is not None:
            raise TransitionRefused(
                _("This idea was merged into #%(id)s; change that one.")
                % {"id": locked.merged_into_id},
                field="status",
            )
        from_status = locked.status
        if not may_move(from_status, to_status):
            raise TransitionRefused(
                _("An idea that is %(from)s cannot move to %(to)s.")
                % {"from": from_status.display_name, "to": to_status.display_name},
                field="status",
            )
        shipped = to_status.kind == StatusKind.SHIPPED
        Idea.objects.filter(pk=locked.pk).update(
            status=to_status,
            status_changed_at=now,
            last_activity_at=now,
            shipped_at=now if shipped else None,
        )
        change = IdeaStatusChange.objects.create(
            idea=locked,
            from_status=from_status,
            to_status=to_status,
            note=note,
            note_zh=note_zh,
            changelog_page=changelog_page,
            changed_by=by,
            changed_at=now,
        )
        audit.record(
            "boards.idea_status_changed",
            actor=by,
            obj=locked,
            request=request,
            details={"from": from_status.key, "to": to_status.key, "change_id": change.pk},
        )
        events.publish(
            "greenloop.boards.idea_status_changed",
            locked.organisation,
            f"boards/ideas/{locked.pk}",
            {
                "idea_id": locked.pk,
                "board_id": locked.board_id,
                "from": from_status.key,
                "to": to_status.key,
                "kind": to_status.kind,
                "changed_by": by.pk,
            },
        )
        if shipped:
            asked = asking_organisation_ids(locked)
            for organisation in Organisation.objects.filter(pk__in=asked).order_by("pk"):
                events.publish(
                    "greenloop.boards.idea_shipped",
                    organisation,
                    f"boards/ideas/{locked.pk}",
                    {
                        "idea_id": locked.pk,
                        "board_id": locked.board_id,
                        "changelog_page_id": changelog_page.pk if changelog_page else None,
                        "organisation_ids": asked,
                    },
                )
        params = {
            "status": to_status.name[:200],
            "status_zh": to_status.name_zh[:200],
            "changelog": bool(changelog_page),
        }
        notifications.notify_about(
            locked,
            voter_ids(locked) | subscriber_ids(locked),
            notifications.STATUS_CHANGED,
            dedupe_key=f"boards.status.{change.pk}",
            params=params,
            exclude={by.pk},
            link=page_path(changelog_page) if changelog_page else "",
        )
    idea.status, idea.status_changed_at = to_status, now
    return change


def statuses_after(idea: Idea):
    """The statuses staff may move `idea` to, in workflow order."""
    allowed = idea.status.allowed_next.all()
    if allowed.exists():
        return allowed.order_by("position", "pk")
    return IdeaStatus.objects.filter(~Q(pk=idea.status_id))
