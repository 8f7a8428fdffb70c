"""Ideas rolled up by account, for staff: which organisations asked for an idea (its author's
organisation and every counted vote's), their tier and contract value, and the idea's weighted
value; and the votes product staff record on behalf of an organisation that asked through its
account manager.

Weighted value (README, "R&D boards"): the sum over the asking organisations of the contract
value converted to the reporting currency (`ReportingRate`, kept by staff) times the
organisation's strongest importance (1 nice to have, 2 important, 3 critical). A currency without
a rate counts 0 and is flagged, never converted silently. Customers never see any of this: only
the staff screens in beta_program/boards/admin_accounts.py read it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from beta_program.boards.access import can_manage
from beta_program.boards.actions import clean_text, lock_idea, recount
from beta_program.boards.exceptions import IdeaRefused, VotingClosed
from beta_program.boards.models import Board, Idea, Importance, Visibility, Vote
from beta_program.boards.value_models import ReportingRate, reporting_currency
from portal import audit, events
from portal.exceptions import PermissionDeniedError
from portal.models import Organisation, Tier, User

# An author's organisation that has not voted asks with a vote's default importance.
AUTHOR_IMPORTANCE = int(Importance.IMPORTANT)
TRENDING_DAYS = 14
CENT = Decimal("0.01")
# Highest first: the tiers a listing names as an idea's "top tiers".
TIER_RANK = {Tier.STRATEGIC: 4, Tier.GOLD: 3, Tier.SILVER: 2, Tier.STANDARD: 1}


def rates() -> dict[str, Decimal]:
    """Units of the reporting currency per unit of each currency (the reporting currency 1)."""
    table = dict(ReportingRate.objects.values_list("currency", "rate"))
    table[reporting_currency()] = Decimal(1)
    return table


@dataclass
class Weighing:
    """One organisation's contribution to an idea's weighted value."""

    weighted: Decimal
    # The currency whose rate is missing ("" if converted or nothing to convert).
    missing_rate: str = ""
    # A contract value with no currency at all.
    no_currency: bool = False


def weigh(
    value: Decimal | None, currency: str, importance: int, table: dict[str, Decimal]
) -> Weighing:
    """contract value x rate x importance, to the cent; 0 without a value or a rate."""
    if value is None:
        return Weighing(Decimal("0.00"))
    currency = (currency or "").upper()
    if not currency:
        return Weighing(Decimal("0.00"), no_currency=True)
    rate = table.get(currency)
    if rate is None:
        return Weighing(Decimal("0.00"), missing_rate=currency)
    return Weighing((value * rate * importance).quantize(CENT))


@dataclass
class AccountRow:
    """One organisation that asked for an idea."""

    organisation: Organisation
    importance: int = 0
    proposed: bool = False
    voters: list[str] = field(default_factory=list)
    on_behalf: Vote | None = None
    weighing: Weighing = field(default_factory=lambda: Weighing(Decimal("0.00")))

    @property
    def tier(self) -> str:
        return self.organisation.tier

    @property
    def contract_value(self) -> Decimal | None:
        return self.organisation.contract_value

    @property
    def currency(self) -> str:
        return self.organisation.contract_currency

    @property
    def weighted(self) -> Decimal:
        return self.weighing.weighted

    @property
    def importance_label(self) -> str:
        return str(Importance(self.importance).label)


@dataclass
class Rollup:
    idea: Idea
    rows: list[AccountRow]
    currency: str

    @property
    def weighted(self) -> Decimal:
        return sum((row.weighted for row in self.rows), Decimal("0.00"))

    @property
    def missing_rates(self) -> list[str]:
        return sorted({row.weighing.missing_rate for row in self.rows if row.weighing.missing_rate})


def _person(user: User | None) -> str:
    if user is None:
        return _("(deleted account)")
    return user.display_name


def by_account(idea: Idea) -> Rollup:
    """The roll-up of `idea` by asking organisation, strongest importance first, then weighted
    value. Three queries whatever the number of votes: the counted votes with their voters, the
    organisations, the rates."""
    votes = list(
        Vote.objects.filter(idea=idea, suppressed_by__isnull=True)
        .select_related("voter")
        .order_by("created_at", "pk")
    )
    ids = {vote.organisation_id for vote in votes}
    if idea.organisation_id:
        ids.add(idea.organisation_id)
    organisations = Organisation.objects.in_bulk(ids)
    rows: dict[int, AccountRow] = {pk: AccountRow(org) for pk, org in organisations.items()}
    for vote in votes:
        row = rows[vote.organisation_id]
        row.importance = max(row.importance, vote.importance)
        if vote.on_behalf:
            row.on_behalf = vote
        else:
            row.voters.append(_person(vote.voter))
    if idea.organisation_id:
        author_row = rows[idea.organisation_id]
        author_row.proposed = True
        author_row.importance = author_row.importance or AUTHOR_IMPORTANCE
    table = rates()
    for row in rows.values():
        row.weighing = weigh(row.contract_value, row.currency, row.importance, table)
    ordered = sorted(
        rows.values(), key=lambda r: (-r.importance, -r.weighted, r.organisation.name.lower())
    )
    return Rollup(idea, ordered, reporting_currency())


# --- the staff listing: every idea of a board with its weighted value, in one pass


@dataclass
class IdeaValue:
    idea: Idea
    organisations: int = 0
    weighted: Decimal = Decimal("0.00")
    trending: int = 0
    tiers: dict[str, int] = field(default_factory=dict)
    missing_rates: set[str] = field(default_factory=set)

    @property
    def top_tiers(self) -> list[tuple[str, int]]:
        """The two highest tiers among the asking organisations, with how many of each."""
        ranked = sorted(self.tiers.items(), key=lambda item: -TIER_RANK.get(item[0], 0))
        return [(str(Tier(tier).label), n) for tier, n in ranked[:2]]


SORTS = {
    "weighted": lambda v: (-v.weighted, -v.idea.pk),
    "votes": lambda v: (-v.idea.vote_count, -v.idea.pk),
    "organisations": lambda v: (-v.organisations, -v.idea.pk),
    "trending": lambda v: (-v.trending, -v.idea.pk),
    "newest": lambda v: (-v.idea.created_at.timestamp(), -v.idea.pk),
}


def ideas_by_value(ideas: QuerySet[Idea], sort: str = "weighted") -> list[IdeaValue]:
    """`ideas` (already narrowed to what the staff member sees) with their weighted value,
    asking organisations, tiers and votes of the last 14 days, sorted by `sort`. Four queries
    whatever the number of ideas: the ideas, their counted votes, the organisations, the rates
    (the value is computed in one pass over the votes, never per row)."""
    listed = list(ideas.select_related("status", "board").order_by("-created_at", "-pk"))
    values = {idea.pk: IdeaValue(idea) for idea in listed}
    strongest: dict[tuple[int, int], int] = {}
    since = timezone.now() - dt.timedelta(days=TRENDING_DAYS)
    for idea_id, organisation_id, importance, created_at in Vote.objects.filter(
        idea__in=list(values), suppressed_by__isnull=True
    ).values_list("idea_id", "organisation_id", "importance", "created_at"):
        key = (idea_id, organisation_id)
        strongest[key] = max(strongest.get(key, 0), importance)
        if created_at >= since:
            values[idea_id].trending += 1
    for idea in listed:
        if idea.organisation_id:
            key = (idea.pk, idea.organisation_id)
            strongest[key] = strongest.get(key) or AUTHOR_IMPORTANCE
    organisations = {
        org["pk"]: org
        for org in Organisation.objects.filter(
            pk__in={organisation_id for _idea, organisation_id in strongest}
        ).values("pk", "tier", "contract_value", "contract_currency")
    }
    table = rates()
    for (idea_id, organisation_id), importance in strongest.items():
        org = organisations[organisation_id]
        value = values[idea_id]
        weighing = weigh(org["contract_value"], org["contract_currency"], importance, table)
        value.organisations += 1
        value.weighted += weighing.weighted
        value.tiers[org["tier"]] = value.tiers.get(org["tier"], 0) + 1
        if weighing.missing_rate:
            value.missing_rates.add(weighing.missing_rate)
    return sorted(values.values(), key=SORTS.get(sort, SORTS["weighted"]))


# --- votes on behalf of an organisation


def organisations_seeing(idea: Idea) -> QuerySet[Organisation]:
    """The organisations whose people may see `idea` (the choices of the on-behalf form): the
    set-wise form of `Board.objects.for_organisation`, which `vote_on_behalf` asks again for the
    chosen one."""
    board = idea.board
    if board.archived:
        return Organisation.objects.none()
    active = Organisation.objects.filter(is_active=True).order_by("name", "pk")
    if board.visibility == Visibility.PUBLIC:
        return active
    return active.filter(idea_boards=board)


def _require_manager(user: User) -> None:
    if not can_manage(user):
        raise PermissionDeniedError(_("Only product staff record votes for an organisation."))


def vote_on_behalf(
    idea: Idea,
    organisation: Organisation,
    by: User,
    importance: int,
    note: str,
    *,
    request: HttpRequest | None = None,
) -> Vote:
    """Record (or change: one per organisation and idea) a vote product staff cast for
    `organisation`, which must be able to see the idea; `note` says who asked and where."""
    _require_manager(by)
    if not Board.objects.for_organisation(organisation).filter(pk=idea.board_id).exists():
        raise IdeaRefused(
            _("%(organisation)s cannot see this idea's board.") % {"organisation": organisation},
            field="organisation",
        )
    if importance not in Importance.values:
        raise IdeaRefused(
            _("Choose an importance: 1 (nice to have), 2 (important) or 3 (critical)."),
            field="importance",
        )
    note = clean_text(note, "note", required=True, limit=2000)
    now = timezone.now()
    with transaction.atomic():
        locked = lock_idea(idea)
        # A merged duplicate or a decided idea takes no votes, the customers' rule too.
        if locked.merged_into_id is not None or locked.status.is_closed:
            raise VotingClosed(_("Voting on this idea is closed."))
        existing = Vote.objects.filter(
            idea=locked, organisation=organisation, on_behalf=True, suppressed_by__isnull=True
        ).first()
        if existing is None:
            cast = Vote.objects.create(
                idea=locked,
                voter=by,
                organisation=organisation,
                importance=importance,
                on_behalf=True,
                note=note,
                created_at=now,
                updated_at=now,
            )
        else:
            cast = existing
            cast.voter, cast.importance, cast.note, cast.updated_at = by, importance, note, now
            cast.save(update_fields=["voter", "importance", "note", "updated_at"])
        recount(locked.pk)
        Idea.objects.filter(pk=locked.pk).update(last_activity_at=now)
        # Ids and the importance only: the note is for staff, and customers' admins read the
        # audit trail of their organisation.
        audit.record(
            "boards.vote_on_behalf",
            actor=by,
            organisation=organisation,
            obj=locked,
            request=request,
            details={
                "vote_id": cast.pk,
                "importance": importance,
                "changed": existing is not None,
            },
        )
        events.publish(
            "greenloop.boards.idea_voted",
            organisation,
            f"boards/ideas/{locked.pk}",
            {
                "idea_id": locked.pk,
                "vote_id": cast.pk,
                "voter_id": by.pk,
                "importance": importance,
                "changed": existing is not None,
                "on_behalf": True,
            },
        )
    return cast


def withdraw_on_behalf(
    idea: Idea, organisation: Organisation, by: User, *, request: HttpRequest | None = None
) -> bool:
    """Remove the vote staff recorded for `organisation` (False if there was none)."""
    _require_manager(by)
    with transaction.atomic():
        locked = lock_idea(idea)
        deleted, _rows = Vote.objects.filter(
            idea=locked, organisation=organisation, on_behalf=True, suppressed_by__isnull=True
        ).delete()
        if deleted:
            recount(locked.pk)
            audit.record(
                "boards.vote_on_behalf_withdrawn",
                actor=by,
                organisation=organisation,
                obj=locked,
                request=request,
                details={},
            )
    return bool(deleted)
