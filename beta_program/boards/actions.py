"""The writers of ideas, votes and subscriptions. Each runs in one transaction with the audit
trail and its domain events (ids only: an idea's title and text never reach the CRM, since a
private board's ideas are the customers' confidential plans).

Vote counters live on the idea row and are recomputed from the votes under a lock on that row
(`_recount`), so concurrent votes, withdrawals and merges cannot leave them wrong."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.postgres.search import SearchVector
from django.db import connections, transaction
from django.db.models import Count, Q, Sum, Value
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from beta_program.boards.access import ideas_for, may_participate
from beta_program.boards.exceptions import BoardError, IdeaRefused, VotingClosed
from beta_program.boards.models import (
    Board,
    Category,
    Idea,
    IdeaStatus,
    Importance,
    Subscription,
    Tag,
    Vote,
)
from portal import audit, events, search_text
from portal.exceptions import PermissionDeniedError
from portal.models import Organisation, User
from portal.text import check_text


@dataclass
class Proposal:
    """What a customer proposes: the same shape from the page form and the API."""

    title: str
    problem: str
    solution: str = ""
    category_id: int | None = None
    tag_ids: tuple[int, ...] = ()


def clean_text(value: str, name: str, *, required: bool = False, limit: int = 10000) -> str:
    """`value` trimmed and checked (portal.text), or IdeaRefused naming the field."""
    value = (value or "").strip()
    if required and not value:
        raise IdeaRefused(_("This field is required."), field=name)
    if len(value) > limit:
        raise IdeaRefused(_("Keep this under %(limit)d characters.") % {"limit": limit}, field=name)
    try:
        return check_text(value)
    except ValueError as exc:
        raise IdeaRefused(str(exc), field=name) from exc


def _subscribe(idea: Idea, user: User) -> None:
    """Join the idea's subscribers unless the person left them before (they chose to)."""
    Subscription.objects.get_or_create(idea=idea, user=user)


def propose(
    board: Board,
    organisation: Organisation,
    user: User,
    proposal: Proposal,
    *,
    request: HttpRequest | None = None,
) -> Idea:
    """A new idea on `board` by `user` acting for `organisation`, who must see the board. The
    author is subscribed; the idea starts in the workflow's initial status."""
    if not may_participate(user, organisation):
        raise PermissionDeniedError(_("You cannot propose ideas for this organisation."))
    if not Board.objects.visible_to(user, organisation).filter(pk=board.pk).exists():
        raise PermissionDeniedError(_("You cannot propose ideas on this board."))
    title = clean_text(proposal.title, "title", required=True, limit=160)
    problem = clean_text(proposal.problem, "problem", required=True)
    solution = clean_text(proposal.solution, "solution")
    category = None
    if proposal.category_id is not None:
        category = Category.objects.filter(board=board, pk=proposal.category_id).first()
        if category is None:
            raise IdeaRefused(_("Choose one of the board's categories."), field="category")
    tags = list(Tag.objects.filter(pk__in=set(proposal.tag_ids)))
    if len(tags) != len(set(proposal.tag_ids)):
        raise IdeaRefused(_("Choose tags from the list."), field="tags")
    status = IdeaStatus.objects.initial()
    if status is None:
        raise BoardError(_("No idea statuses are configured; ask the product team."))
    now = timezone.now()
    with transaction.atomic():
        idea = Idea.objects.create(
            board=board,
            category=category,
            title=title,
            problem=problem,
            solution=solution,
            author=user,
            organisation=organisation,
            status=status,
            created_at=now,
            status_changed_at=now,
            last_activity_at=now,
        )
        if tags:
            idea.tags.set(tags)
        index(idea)
        _subscribe(idea, user)
        audit.record(
            "boards.idea_created",
            actor=user,
            organisation=organisation,
            obj=idea,
            request=request,
            details={"board_id": board.pk},
        )
        events.publish(
            "greenloop.boards.idea_created",
            organisation,
            f"boards/ideas/{idea.pk}",
            {
                "idea_id": idea.pk,
                "board_id": board.pk,
                "author_id": user.pk,
                "private_board": board.is_private,
            },
        )
    return idea


def index(idea: Idea) -> None:
    """Search terms for lists and suggestions: title (weight A), problem and solution (B)."""
    body = f"{idea.problem} {idea.solution}"
    Idea.objects.filter(pk=idea.pk).update(search_document=search_text.document(idea.title, body))
    if connections[Idea.objects.db].vendor == "postgresql":
        Idea.objects.filter(pk=idea.pk).update(
            search_vector=SearchVector(
                Value(search_text.document(idea.title)), config="simple", weight="A"
            )
            + SearchVector(Value(search_text.document(body)), config="simple", weight="B")
        )


def _open_for_votes(idea: Idea) -> None:
    if idea.merged_into_id is not None:
        raise VotingClosed(
            _("This idea was merged into #%(id)s: vote there.") % {"id": idea.merged_into_id},
            code="idea_merged",
        )
    if idea.status.is_closed:
        raise VotingClosed(
            _("Voting is closed: this idea is %(status)s.")
            % {"status": idea.status.display_name.lower()}
        )


def recount(idea_id: int) -> None:
    """Recompute the idea's counters from its counted votes and comments. Call under the lock
    on the idea row (every writer here takes it first)."""
    counted = Vote.objects.filter(idea_id=idea_id, suppressed_by__isnull=True)
    totals = counted.aggregate(
        people=Count("pk", filter=Q(on_behalf=False)),
        votes=Count("pk"),
        organisations=Count("organisation", distinct=True),
        importance=Sum("importance"),
    )
    Idea.objects.filter(pk=idea_id).update(
        vote_count=totals["votes"],
        organisation_count=totals["organisations"],
        importance_total=totals["importance"] or 0,
        comment_count=Idea.objects.filter(pk=idea_id)
        .annotate(n=Count("comments", filter=Q(comments__hidden=False)))
        .values("n")[:1],
    )


def lock_idea(idea: Idea | int) -> Idea:
    """The idea row locked, then read afresh with its status and board (every writer of an
    idea's votes, status or merge locks it this way first). Only the idea row is locked, and
    without the join: a joined SELECT ... FOR UPDATE also locks the status and board rows every
    idea shares, and PostgreSQL drops the row from its answer when, while it waited, a merge or
    status change gave the idea another status (it re-checks the join on the new version)."""
    pk = getattr(idea, "pk", idea)
    Idea.objects.select_for_update().filter(pk=pk).values_list("pk", flat=True).get()
    return Idea.objects.select_related("status", "board").get(pk=pk)


def vote(
    idea: Idea,
    organisation: Organisation,
    user: User,
    importance: int,
    reason: str = "",
    *,
    request: HttpRequest | None = None,
) -> Vote:
    """Cast or change the person's vote on `idea` for `organisation`. Voting again changes the
    importance and the reason (one vote per person, whichever organisation they act for: the
    vote moves to the organisation of the latest one). The voter is subscribed unless they left
    the idea's subscribers before."""
    if not may_participate(user, organisation):
        raise PermissionDeniedError(_("You cannot vote for this organisation."))
    if not ideas_for(user, organisation).filter(pk=idea.pk).exists():
        raise PermissionDeniedError(_("You cannot vote on this idea."))
    if importance not in Importance.values:
        raise IdeaRefused(
            _("Choose an importance: 1 (nice to have), 2 (important) or 3 (critical)."),
            field="importance",
        )
    reason = clean_text(reason, "reason", limit=2000)
    now = timezone.now()
    with transaction.atomic():
        locked = lock_idea(idea)
        _open_for_votes(locked)
        existing = Vote.objects.filter(
            idea=locked, voter=user, on_behalf=False, suppressed_by__isnull=True
        ).first()
        if existing is None:
            cast = Vote.objects.create(
                idea=locked,
                voter=user,
                organisation=organisation,
                importance=importance,
                reason=reason,
                created_at=now,
                updated_at=now,
            )
        else:
            cast = existing
            cast.organisation, cast.importance, cast.reason = organisation, importance, reason
            cast.updated_at = now
            cast.save(update_fields=["organisation", "importance", "reason", "updated_at"])
        recount(locked.pk)
        Idea.objects.filter(pk=locked.pk).update(last_activity_at=now)
        _subscribe(locked, user)
        events.publish(
            "greenloop.boards.idea_voted",
            organisation,
            f"boards/ideas/{locked.pk}",
            {
                "idea_id": locked.pk,
                "vote_id": cast.pk,
                "voter_id": user.pk,
                "importance": cast.importance,
                "changed": existing is not None,
                "on_behalf": False,
            },
        )
    return cast


def withdraw_vote(idea: Idea, user: User, *, request: HttpRequest | None = None) -> bool:
    """Take back the person's vote (subscriptions stay). False if there was none."""
    with transaction.atomic():
        locked = lock_idea(idea)
        deleted, _rows = Vote.objects.filter(
            idea=locked, voter=user, on_behalf=False, suppressed_by__isnull=True
        ).delete()
        if deleted:
            recount(locked.pk)
    return bool(deleted)


def set_subscribed(
    idea: Idea, organisation: Organisation, user: User, subscribed: bool
) -> Subscription:
    """Follow or leave the idea; leaving is remembered (voting again does not re-subscribe)."""
    if not ideas_for(user, organisation).filter(pk=idea.pk).exists():
        raise PermissionDeniedError(_("You cannot follow this idea."))
    subscription, created = Subscription.objects.get_or_create(
        idea=idea, user=user, defaults={"active": subscribed}
    )
    if not created and subscription.active != subscribed:
        subscription.active = subscribed
        subscription.save(update_fields=["active"])
    return subscription


def subscriber_ids(idea: Idea) -> set[int]:
    """People following the idea (those who left excluded), before the visibility filter that
    every notification applies (`access.who_may_see`)."""
    return set(
        Subscription.objects.filter(idea=idea, active=True).values_list("user_id", flat=True)
    )


def voter_ids(idea: Idea) -> set[int]:
    return set(
        Vote.objects.filter(idea=idea, suppressed_by__isnull=True, voter__isnull=False)
        .exclude(on_behalf=True)
        .values_list("voter_id", flat=True)
    )
