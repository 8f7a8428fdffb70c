"""Merging a duplicate idea into its primary, and undoing the merge.

A merge moves the duplicate's votes, comments and subscriptions to the primary, adds its tags
there, marks it merged and moves it to the workflow's "duplicate" status; `IdeaMerge.moved`
records every id it touched, so `undo_merge` restores the duplicate exactly.

Locks: both idea rows are locked (lower id first, so two merges cannot deadlock) before
anything is read, the same row locks `actions.vote` and `actions.withdraw_vote` take first. A
vote racing the merge therefore runs either wholly before it (and is moved) or wholly after it
(on the duplicate it is refused, `VotingClosed`; on the primary it finds the person's moved
vote and changes it), never in between. Both take the lock through `actions.lock_idea`,
which locks the idea row alone: a lock joined to the status row would be dropped by PostgreSQL
once the merge has moved the duplicate to another status (a waiting vote found no idea).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from beta_program.boards import actions, notifications
from beta_program.boards.access import can_manage
from beta_program.boards.exceptions import BoardError
from beta_program.boards.models import (
    Board,
    Comment,
    Idea,
    IdeaMerge,
    IdeaStatus,
    IdeaStatusChange,
    StatusKind,
    Subscription,
    Visibility,
    Vote,
)
from portal import audit
from portal.exceptions import PermissionDeniedError
from portal.models import User

MERGED = "boards.merged"
# The parts of `IdeaMerge.moved`, each a list of row ids.
MOVED_PARTS = ("votes", "suppressed", "comments", "subscriptions", "tags")


class MergeRefused(BoardError):
    """The two ideas cannot be merged, or the merge cannot be undone (the message says why)."""

    code = "merge_refused"
    status = 409


# --- rules (read only)


def board_reaches_everyone_of(primary_board: Board, duplicate_board: Board) -> bool:
    """Whether everyone who sees `duplicate_board` also sees `primary_board`, so that the
    duplicate's voters keep sight of their votes: the same board; or a public primary board
    behind no NDA other than the duplicate board's; or a private primary board open to every
    organisation of a private duplicate board, behind the same NDA or none."""
    if primary_board.pk == duplicate_board.pk:
        return True
    if primary_board.nda_programme_id not in (None, duplicate_board.nda_programme_id):
        return False
    if primary_board.visibility == Visibility.PUBLIC:
        return True
    if duplicate_board.visibility == Visibility.PUBLIC:
        return False
    invited = set(primary_board.organisations.values_list("pk", flat=True))
    return set(duplicate_board.organisations.values_list("pk", flat=True)) <= invited


def merge_refusal(duplicate: Idea, primary: Idea) -> str | None:
    """Why `duplicate` cannot be merged into `primary` as they stand, or None."""
    if duplicate.pk == primary.pk:
        return _("An idea cannot be merged into itself.")
    if duplicate.merged_into_id is not None:
        return _("#%(id)s is already merged into #%(into)s; undo that merge first.") % {
            "id": duplicate.pk,
            "into": duplicate.merged_into_id,
        }
    if primary.merged_into_id is not None:
        return _("#%(id)s is itself merged into #%(into)s; merge into #%(into)s instead.") % {
            "id": primary.pk,
            "into": primary.merged_into_id,
        }
    if not board_reaches_everyone_of(primary.board, duplicate.board):
        return _(
            "Some people who see #%(duplicate)s cannot see the board of #%(primary)s: they "
            "would lose sight of their votes. Merge into an idea on a board they all see."
        ) % {"duplicate": duplicate.pk, "primary": primary.pk}
    return None


def duplicate_status() -> IdeaStatus:
    """The status a merged duplicate moves to: the first of kind "duplicate"."""
    status = IdeaStatus.objects.filter(kind=StatusKind.DUPLICATE).order_by("position", "pk").first()
    if status is None:
        raise MergeRefused(_("No status means “duplicate”; add one to the workflow first."))
    return status


@dataclass
class MergePlan:
    """What a merge of `duplicate` into `primary` would do, by row id: votes moved, votes
    suppressed (the weaker of one person's or one organisation's two votes, on either idea),
    comments and subscriptions moved, tags added to the primary."""

    votes: list[int]
    suppressed: list[int]
    comments: list[int]
    subscriptions: list[int]
    tags: list[int]

    def counts(self) -> dict[str, int]:
        return {name: len(ids) for name, ids in self.as_moved().items()}

    def as_moved(self) -> dict[str, list[int]]:
        return {
            "votes": self.votes,
            "suppressed": self.suppressed,
            "comments": self.comments,
            "subscriptions": self.subscriptions,
            "tags": self.tags,
        }


def _counted(idea: Idea | int) -> QuerySet[Vote]:
    return Vote.objects.filter(idea=idea, suppressed_by__isnull=True)


def plan_merge(duplicate: Idea, primary: Idea) -> MergePlan:
    """The merge's moves as they stand (read under the ideas' locks when merging). One counted
    vote per person and one staff vote per organisation survive on the primary: of two, the
    higher importance wins, and on a tie the primary's (it was there first for the voters who
    found the primary)."""
    plan = MergePlan([], [], [], [], [])
    personal = {v.voter_id: v for v in _counted(primary).filter(on_behalf=False) if v.voter_id}
    on_behalf = {v.organisation_id: v for v in _counted(primary).filter(on_behalf=True)}
    for vote in _counted(duplicate).order_by("pk"):
        if vote.on_behalf:
            rival = on_behalf.get(vote.organisation_id)
        else:
            rival = personal.get(vote.voter_id) if vote.voter_id else None
        if rival is None:
            plan.votes.append(vote.pk)
        elif vote.importance > rival.importance:
            plan.votes.append(vote.pk)
            plan.suppressed.append(rival.pk)
        else:
            plan.suppressed.append(vote.pk)
    plan.comments = list(
        Comment.objects.filter(idea=duplicate).order_by("pk").values_list("pk", flat=True)
    )
    following = Subscription.objects.filter(idea=primary).values("user_id")
    plan.subscriptions = list(
        Subscription.objects.filter(idea=duplicate)
        .exclude(user_id__in=following)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    present = primary.tags.values("pk")
    plan.tags = list(
        duplicate.tags.exclude(pk__in=present).order_by("pk").values_list("pk", flat=True)
    )
    return plan


# --- writers


def _lock_pair(first_id: int, second_id: int) -> dict[int, Idea]:
    """Both ideas locked, lower id first (every merge and undo locks in this order), each the
    way `actions.lock_idea` locks it for a vote or a status change."""
    return {pk: actions.lock_idea(pk) for pk in sorted((first_id, second_id))}


def _bilingual(message: str, **values: Any) -> tuple[str, str]:
    """A public note in English and Chinese (voters read the status history in either)."""
    with translation.override("en"):
        english = _(message) % values
    with translation.override("zh-hans"):
        chinese = _(message) % values
    return english, chinese


def _set_status(idea: Idea, to_status: IdeaStatus, by: User, note: tuple[str, str]) -> None:
    """The duplicate's status history across a merge and its undo. `change_status` refuses
    merged ideas and notifies voters; here the merge's own notice is the one voters get."""
    now = timezone.now()
    IdeaStatusChange.objects.create(
        idea=idea,
        from_status=idea.status,
        to_status=to_status,
        note=note[0],
        note_zh=note[1],
        changed_by=by,
        changed_at=now,
    )
    Idea.objects.filter(pk=idea.pk).update(status=to_status, status_changed_at=now)


def merge(
    duplicate: Idea, primary: Idea, by: User, request: HttpRequest | None = None
) -> IdeaMerge:
    """Merge `duplicate` into `primary` (product staff only). See the module's docstring for the
    locks; `plan_merge` for which votes survive. The duplicate's voters and subscribers who may
    see the primary are told once; the duplicate's status change notifies nobody and is no CRM
    event."""
    if not can_manage(by):
        raise PermissionDeniedError(_("Only product staff merge ideas."))
    if duplicate.pk == primary.pk:
        raise MergeRefused(_("An idea cannot be merged into itself."))
    to_status = duplicate_status()
    with transaction.atomic():
        locked = _lock_pair(duplicate.pk, primary.pk)
        dup, prim = locked[duplicate.pk], locked[primary.pk]
        refusal = merge_refusal(dup, prim)
        if refusal:
            raise MergeRefused(refusal)
        told = actions.voter_ids(dup) | actions.subscriber_ids(dup)
        plan = plan_merge(dup, prim)
        record = IdeaMerge.objects.create(
            duplicate=dup,
            primary=prim,
            previous_status=dup.status,
            moved=plan.as_moved(),
            merged_by=by,
        )
        Vote.objects.filter(pk__in=plan.suppressed).update(suppressed_by=record)
        for model, ids in ((Vote, plan.votes), (Comment, plan.comments)):
            # Rows an earlier merge brought to the duplicate keep their first origin.
            model.objects.filter(pk__in=ids, origin_idea__isnull=True).update(origin_idea=dup)
            model.objects.filter(pk__in=ids).update(idea=prim)
        Subscription.objects.filter(pk__in=plan.subscriptions, origin_idea__isnull=True).update(
            origin_idea=dup
        )
        Subscription.objects.filter(pk__in=plan.subscriptions).update(idea=prim)
        prim.tags.add(*plan.tags)
        _set_status(dup, to_status, by, _bilingual("Merged into #%(id)s", id=prim.pk))
        Idea.objects.filter(pk=dup.pk).update(merged_into=prim)
        Idea.objects.filter(pk=prim.pk).update(last_activity_at=timezone.now())
        _recount_and_audit("boards.ideas_merged", record, dup, by, request, plan.counts())
        notifications.notify_about(
            prim,
            told,
            MERGED,
            dedupe_key=f"boards.merged.{record.pk}",
            params={"duplicate_id": dup.pk},
            exclude={by.pk},
        )
    duplicate.merged_into, duplicate.status = prim, to_status
    return record


def undo_merge(merge: IdeaMerge, by: User, request: HttpRequest | None = None) -> IdeaMerge:
    """Undo `merge` (product staff only): the moved votes, comments and subscriptions go back to
    the duplicate, suppressed votes count again, the tags the merge added leave the primary, and
    the duplicate returns to its previous status, open for votes.

    What happened on the primary since is kept. A moved vote the person changed there goes back
    changed (it is the same row); one they withdrew stays withdrawn. If someone whose vote on
    the primary the merge suppressed has since voted there again (withdrawn the moved vote and
    voted anew), their newer vote stays the counted one and the old one stays suppressed: one
    counted vote per person, and the newer says what they think now. A subscription whose person
    has since followed the duplicate again stays on the primary (one per person and idea).

    Refused while the primary is itself merged into a third idea: undo that merge first (the
    moved rows are there now)."""
    if not can_manage(by):
        raise PermissionDeniedError(_("Only product staff undo merges."))
    with transaction.atomic():
        locked = _lock_pair(merge.duplicate_id, merge.primary_id)
        dup, prim = locked[merge.duplicate_id], locked[merge.primary_id]
        record = IdeaMerge.objects.select_for_update().get(pk=merge.pk)
        if record.undone_at is not None:
            raise MergeRefused(_("This merge was already undone."))
        if prim.merged_into_id is not None:
            raise MergeRefused(
                _("#%(id)s was merged into #%(into)s since; undo that merge first.")
                % {"id": prim.pk, "into": prim.merged_into_id}
            )
        moved: dict[str, list[int]] = record.moved
        for model, ids in ((Vote, moved.get("votes", [])), (Comment, moved.get("comments", []))):
            model.objects.filter(pk__in=ids, idea=prim).update(idea=dup)
            model.objects.filter(pk__in=ids, origin_idea=dup).update(origin_idea=None)
        _restore_subscriptions(dup, prim, moved.get("subscriptions", []))
        kept_suppressed = _unsuppress(record)
        prim.tags.remove(*moved.get("tags", []))
        _set_status(dup, record.previous_status, by, _bilingual("Merge undone"))
        Idea.objects.filter(pk=dup.pk).update(merged_into=None)
        record.undone_at, record.undone_by = timezone.now(), by
        record.save(update_fields=["undone_at", "undone_by"])
        details = {"kept_suppressed": kept_suppressed}
        _recount_and_audit("boards.merge_undone", record, dup, by, request, details)
    merge.undone_at, merge.undone_by = record.undone_at, by
    return record


def _recount_and_audit(
    action: str,
    record: IdeaMerge,
    dup: Idea,
    by: User,
    request: HttpRequest | None,
    details: dict[str, Any],
) -> None:
    """Both ideas' counters recomputed (under their locks) and the audit record, on the
    duplicate, naming the merge and the primary."""
    actions.recount(record.duplicate_id)
    actions.recount(record.primary_id)
    audit.record(
        action,
        actor=by,
        obj=dup,
        request=request,
        details={"merge_id": record.pk, "primary_id": record.primary_id, **details},
    )


def _restore_subscriptions(dup: Idea, prim: Idea, ids: list[int]) -> None:
    following = Subscription.objects.filter(idea=dup).values("user_id")
    back = Subscription.objects.filter(pk__in=ids, idea=prim).exclude(user_id__in=following)
    back_ids = list(back.values_list("pk", flat=True))
    Subscription.objects.filter(pk__in=back_ids).update(idea=dup)
    Subscription.objects.filter(pk__in=back_ids, origin_idea=dup).update(origin_idea=None)


def _unsuppress(record: IdeaMerge) -> list[int]:
    """Count the votes `record` suppressed again, except where the person (or, for staff votes,
    the organisation) has a counted vote on that idea now; returns the ids left suppressed."""
    kept: list[int] = []
    for vote in Vote.objects.filter(suppressed_by=record).order_by("pk"):
        rivals = _counted(vote.idea_id).filter(on_behalf=vote.on_behalf)
        if vote.on_behalf:
            rivals = rivals.filter(organisation_id=vote.organisation_id)
        elif vote.voter_id is None:
            rivals = rivals.none()  # an erased person's vote meets no rival
        else:
            rivals = rivals.filter(voter_id=vote.voter_id)
        if rivals.exists():
            kept.append(vote.pk)
        else:
            Vote.objects.filter(pk=vote.pk).update(suppressed_by=None)
    return kept


# --- notification wording


def merged_message(params: Mapping[str, Any]) -> str:
    return _("Idea #%(duplicate)s, which you voted for or follow, was merged into %(idea)s") % {
        "duplicate": params["duplicate_id"],
        "idea": notifications.idea_label(params),
    }


notifications.WORDING[MERGED] = merged_message
