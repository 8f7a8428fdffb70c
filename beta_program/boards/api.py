"""R&D board endpoints of the REST API, under /api/v1/organisations/{slug}/ideas.

The caller acts for the organisation in the path (a token for its own; a person for one they
belong to, or any as vendor staff): anything else is 404. A person sees what the pages show
(`access.ideas_for`: public boards, the private boards the organisation was invited to, NDA
boards once the person accepted the NDA); a token sees `Idea.objects.for_organisation` (no NDA
board: a token accepted no NDA). An idea outside that is 404, never 403, so an id does not tell
whether a private board's idea exists.

Proposing, voting and following are a person's acts: a token gets 403 `person_required` before
the body is read (after the idea in the path was found, so another organisation's idea is still
404). Every write goes through `beta_program.boards.actions`, as the pages' do.
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from typing import Any, Literal

from django.contrib.postgres.search import SearchQuery
from django.db import connections
from django.db.models import Count, F, Q, QuerySet, TextField, Value
from django.db.models.functions import Concat
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict, StrictBool, StrictInt

from beta_program.boards import actions, comment_actions
from beta_program.boards.access import boards_for, idea_or_404, ideas_for, person_label
from beta_program.boards.models import Board, Comment, Idea, IdeaStatusChange, Tag, Vote
from beta_program.programmes.api import organisation_in_path
from portal.api import ApiError, Caller, ErrorOut, Input, PathParams, api, caller, requires
from portal.api_common import MAX_PAGE_SIZE, PageOut, page_out
from portal.api_contract import MAX_PAGE
from portal.api_scopes import register_scope
from portal.markdown import render
from portal.models import Organisation
from portal.search_text import terms
from portal.text import Text, ascii_integer

READ = "ideas:read"
WRITE = "ideas:write"
register_scope(READ, gettext_lazy("Read the R&D boards and ideas the organisation may see"))
register_scope(
    WRITE, gettext_lazy("Propose ideas, vote, comment and follow: needs a signed-in person")
)

READ_ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS: dict[int, Any] = {400: ErrorOut, 409: ErrorOut, **READ_ERRORS}

# "Trending" counts the votes cast in this many days.
TRENDING_DAYS = 14
# The largest id a database key holds: a bigger number in a filter or body is a 422, not a
# database error.
MAX_ID = 2**63 - 1
# At most this many search terms are matched (a pasted paragraph is not a query).
MAX_TERMS = 12
IDEA_JOINS = ("board", "status", "category")

router = Router(tags=["R&D boards"])


# --- who may call, and what the path names


def _person(c: Caller) -> None:
    if c.token is not None:
        raise ApiError(
            403,
            "person_required",
            _("Ideas are proposed, voted on and followed by people: sign in, a token cannot."),
        )


def _ideas(c: Caller, organisation: Organisation) -> QuerySet[Idea]:
    """The ideas the caller sees acting for `organisation` (merged duplicates included)."""
    if c.token is not None:
        return Idea.objects.for_organisation(organisation)
    return ideas_for(c.user, organisation)


def _boards(c: Caller, organisation: Organisation) -> QuerySet[Board]:
    if c.token is not None:
        # The boards of `Idea.objects.for_organisation`: the organisation's, without an NDA.
        return Board.objects.for_organisation(organisation).filter(nda_programme__isnull=True)
    return boards_for(c.user, organisation)


def _idea_in_path(c: Caller, params: PathParams) -> tuple[Organisation, Idea]:
    """The idea the path names, if the caller sees it acting for the organisation; else 404."""
    organisation = organisation_in_path(c, params)
    idea_id = ascii_integer(str(params.get("idea_id", "")))
    if idea_id is None:
        raise Http404
    if c.token is None:
        return organisation, idea_or_404(c.user, organisation, idea_id)
    if not 0 < idea_id <= MAX_ID:
        raise Http404
    idea = (
        _ideas(c, organisation)
        .select_related(*IDEA_JOINS, "merged_into")
        .filter(pk=idea_id)
        .first()
    )
    if idea is None:
        raise Http404
    return organisation, idea


# `requires` keeps the function it is given: the loaders call the lookups above by name, so each
# stays one place to check (and the authorisation walk's breakage test can replace it).
def _load_organisation(c: Caller, params: PathParams) -> Organisation:
    return organisation_in_path(c, params)


def _load_person(c: Caller, params: PathParams) -> Organisation:
    organisation = organisation_in_path(c, params)
    _person(c)
    return organisation


def _load_idea(c: Caller, params: PathParams) -> tuple[Organisation, Idea]:
    return _idea_in_path(c, params)


def _load_idea_for_person(c: Caller, params: PathParams) -> tuple[Organisation, Idea]:
    found = _idea_in_path(c, params)
    _person(c)
    return found


# --- schemas


class CategoryOut(Schema):
    id: int
    name: str
    name_zh: str


class BoardOut(Schema):
    slug: str
    name: str
    name_zh: str
    private: bool = Field(..., description="A co-development board of chosen organisations")
    categories: list[CategoryOut]


class StatusOut(Schema):
    key: str = Field(..., examples=["under_review"])
    name: str = Field(..., description="In the caller's language")
    kind: str = Field(..., examples=["open"], description="open, planned, active, shipped, ...")


class IdeaOut(Schema):
    id: int
    board: str = Field(..., description="The board's slug")
    title: str
    status: StatusOut
    votes: int
    organisations: int = Field(..., description="Organisations that voted")
    comments: int
    created_at: datetime
    my_vote: int | None = Field(
        ..., description="The caller's importance (1-3), or null (no vote, or a token)"
    )


class IdeaPage(PageOut):
    items: list[IdeaOut]


class StatusChangeOut(Schema):
    from_status: str
    to_status: str
    note: str = Field(..., description="The public note voters read (Markdown)")
    note_zh: str
    changed_at: datetime


class IdeaDetailOut(IdeaOut):
    problem: str = Field(..., description="Markdown source")
    solution: str = Field(..., description="Markdown source")
    category: int | None
    tags: list[str] = Field(..., description="Tag slugs")
    planned_quarter: str = Field(..., examples=["2027 Q2"], description="Empty when unplanned")
    merged_into: int | None = Field(
        ..., description="The idea this duplicate was merged into (vote and comment there)"
    )
    history: list[StatusChangeOut] = Field(..., description="Status changes, oldest first")


class CommentOut(Schema):
    id: int
    author: str
    product_team: bool
    body: str = Field(..., description="Markdown source")
    html: str = Field(..., description="Sanitised HTML, rendered as on the pages")
    created_at: datetime
    edited_at: datetime | None


class CommentPage(PageOut):
    items: list[CommentOut]


class IdeaFilters(Input):
    board: str | None = Field(None, description="Board slug")
    status: str | None = Field(None, description="Status key")
    category: int | None = Field(None, ge=1, le=MAX_ID, description="Category id (of a board)")
    tag: str | None = Field(None, description="Tag slug")
    q: str | None = Field(None, max_length=200, description="Words of the title or text")
    sort: Literal["votes", "accounts", "newest", "trending"] = Field(
        "votes",
        description=f"votes: most votes; accounts: most organisations; newest: newest first; "
        f"trending: most votes in the last {TRENDING_DAYS} days",
    )
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE)


class Paging(Input):
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


class Strict(Input):
    # An unknown field is refused (a typo must not pass as "left at its default").
    model_config = ConfigDict(extra="forbid")


class ProposalIn(Strict):
    board: str = Field(..., description="The board's slug")
    title: str = Field(..., max_length=160)
    problem: str = Field(..., description="What gets in the way today (Markdown)")
    solution: str = Field("", description="The proposed solution (Markdown)")
    category: StrictInt | None = Field(
        None, ge=1, le=MAX_ID, description="A category id of the board"
    )
    tags: list[str] = Field(
        default_factory=list, max_length=20, description="Tag slugs (staff-curated)"
    )


class VoteIn(Strict):
    importance: StrictInt = Field(
        ..., ge=1, le=3, description="1 nice to have, 2 important, 3 critical"
    )
    reason: str = Field("", max_length=2000, description="Why it matters")


class VoteOut(Schema):
    idea: int
    importance: int
    reason: str
    votes: int
    organisations: int


class CommentIn(Strict):
    body: str = Field(..., min_length=1, max_length=10000, description="Markdown")


class SubscriptionIn(Strict):
    subscribed: StrictBool


class SubscriptionOut(Schema):
    idea: int
    subscribed: bool


# --- answers


def _status(idea: Idea) -> dict[str, str]:
    return {"key": idea.status.key, "name": idea.status.display_name, "kind": idea.status.kind}


def _idea_out(idea: Idea, my_vote: int | None) -> dict[str, Any]:
    return {
        "id": idea.pk,
        "board": idea.board.slug,
        "title": idea.title,
        "status": _status(idea),
        "votes": idea.vote_count,
        "organisations": idea.organisation_count,
        "comments": idea.comment_count,
        "created_at": idea.created_at,
        "my_vote": my_vote,
    }


def _my_votes(c: Caller, idea_ids: list[int]) -> dict[int, int]:
    """The caller's counted importance per idea, in one query (a token has none)."""
    if c.user is None or not idea_ids:
        return {}
    return dict(
        Vote.objects.filter(
            idea_id__in=idea_ids, voter=c.user, on_behalf=False, suppressed_by__isnull=True
        ).values_list("idea_id", "importance")
    )


def _detail(c: Caller, idea_id: int) -> dict[str, Any]:
    # Read again after a write: the action changed the counters on the row.
    idea = Idea.objects.select_related(*IDEA_JOINS).get(pk=idea_id)
    history = IdeaStatusChange.objects.filter(idea=idea).select_related("from_status", "to_status")
    return {
        **_idea_out(idea, _my_votes(c, [idea.pk]).get(idea.pk)),
        "problem": idea.problem,
        "solution": idea.solution,
        "category": idea.category_id,
        "tags": list(idea.tags.values_list("slug", flat=True)),
        "planned_quarter": idea.quarter_label,
        "merged_into": idea.merged_into_id,
        "history": [
            {
                "from_status": change.from_status.key,
                "to_status": change.to_status.key,
                "note": change.note,
                "note_zh": change.note_zh,
                "changed_at": change.changed_at,
            }
            for change in history
        ],
    }


def _matching(ideas: QuerySet[Idea], query: str) -> QuerySet[Idea]:
    """Ideas whose title or text hold every term of `query`, each as a prefix (the search
    terms `actions.index` stored; on PostgreSQL through the GIN-indexed vector)."""
    words = list(dict.fromkeys(terms(query)))[:MAX_TERMS]
    if not words:
        return ideas
    if connections[ideas.db].vendor == "postgresql":
        # Terms are letters, digits or Han characters only (portal.search_text): safe to quote.
        raw = " & ".join(f"'{word}':*" for word in words)
        return ideas.filter(search_vector=SearchQuery(raw, search_type="raw", config="simple"))
    padded = ideas.annotate(
        search_padded=Concat(Value(" "), F("search_document"), output_field=TextField())
    )
    for word in words:
        padded = padded.filter(search_padded__contains=f" {word}")
    return padded


def _ordered(ideas: QuerySet[Idea], sort: str) -> QuerySet[Idea]:
    if sort == "trending":
        since = timezone.now() - dt.timedelta(days=TRENDING_DAYS)
        recent = Count(
            "votes", filter=Q(votes__created_at__gte=since, votes__suppressed_by__isnull=True)
        )
        return ideas.annotate(recent_votes=recent).order_by(
            "-recent_votes", "-vote_count", "-created_at", "-id"
        )
    orderings = {
        "votes": ("-vote_count", "-organisation_count", "-created_at", "-id"),
        "accounts": ("-organisation_count", "-vote_count", "-created_at", "-id"),
        "newest": ("-created_at", "-id"),
    }
    return ideas.order_by(*orderings[sort])


# --- operations

PREFIX = "/organisations/{slug}/ideas"


@router.get(
    f"{PREFIX}/boards",
    response={200: list[BoardOut], **READ_ERRORS},
    auth=requires(READ, load=_load_organisation),
    summary="R&D boards the caller sees for the organisation, with their categories",
    description="Public boards and the organisation's co-development boards; for a person also "
    "the boards under an NDA they accepted (a token sees no NDA board). Needs scope ideas:read.",
)
def list_boards(request: HttpRequest, slug: Text):
    c = caller(request)
    boards = _boards(c, c.target).prefetch_related("categories").order_by("name", "pk")[:200]
    return [
        {
            "slug": board.slug,
            "name": board.name,
            "name_zh": board.name_zh,
            "private": board.is_private,
            "categories": [
                {"id": category.pk, "name": category.name, "name_zh": category.name_zh}
                for category in board.categories.all()
            ],
        }
        for board in boards
    ]


@router.get(
    PREFIX,
    response={200: IdeaPage, **READ_ERRORS},
    auth=requires(READ, load=_load_organisation),
    summary="Ideas on the boards the caller sees, filtered, sorted and paginated",
    description="Filter by `board` (slug; a board the caller does not see is 404 naming "
    "`board`), `status` (key), `category` (id), `tag` (slug) and `q` (every word, as a prefix, "
    "in the title or text). Merged duplicates are left out (their votes moved to the primary). "
    "`my_vote` is the caller's importance, null for a token. Needs scope ideas:read.",
)
def list_ideas(request: HttpRequest, slug: Text, filters: Query[IdeaFilters]):
    c = caller(request)
    organisation = c.target
    ideas = _ideas(c, organisation).listed()
    if filters.board is not None:
        board = _boards(c, organisation).filter(slug=filters.board).first()
        if board is None:
            raise ApiError(404, "not_found", _("No such board."), "board")
        ideas = ideas.filter(board=board)
    if filters.status is not None:
        ideas = ideas.filter(status__key=filters.status)
    if filters.category is not None:
        ideas = ideas.filter(category_id=filters.category)
    if filters.tag is not None:
        ideas = ideas.filter(tags__slug=filters.tag)
    if filters.q:
        ideas = _matching(ideas, filters.q)
    ideas = _ordered(ideas.select_related(*IDEA_JOINS), filters.sort)

    def items(rows: list[Idea]) -> list[dict[str, Any]]:
        mine = _my_votes(c, [idea.pk for idea in rows])
        return [_idea_out(idea, mine.get(idea.pk)) for idea in rows]

    return page_out(ideas, filters.page, filters.page_size, items=items)


@router.post(
    PREFIX,
    response={201: IdeaDetailOut, **WRITE_ERRORS},
    auth=requires(WRITE, load=_load_person),
    summary="Propose an idea on a board (people only)",
    description="The person proposes for the organisation in the path, which counts as asking "
    "for it; they follow the idea. A board they do not see is 404 naming `board`; a category "
    "not of the board or an unknown tag is 422 naming `category` or `tags`; an empty title or "
    "problem 422 naming it. A token is refused with 403 `person_required` before the body is "
    "read. Needs scope ideas:write.",
)
def propose(request: HttpRequest, slug: Text, payload: ProposalIn):
    c = caller(request)
    organisation = c.target
    board = _boards(c, organisation).filter(slug=payload.board).first()
    if board is None:
        raise ApiError(404, "not_found", _("No such board."), "board")
    wanted = set(payload.tags)
    tag_ids = tuple(Tag.objects.filter(slug__in=wanted).values_list("pk", flat=True))
    if len(tag_ids) != len(wanted):
        raise ApiError(422, "validation_error", _("Choose tags from the list."), "tags")
    idea = actions.propose(
        board,
        organisation,
        c.user,
        actions.Proposal(
            title=payload.title,
            problem=payload.problem,
            solution=payload.solution,
            category_id=payload.category,
            tag_ids=tag_ids,
        ),
        request=request,
    )
    return Status(201, _detail(c, idea.pk))


@router.get(
    f"{PREFIX}/{{int:idea_id}}",
    response={200: IdeaDetailOut, **READ_ERRORS},
    auth=requires(READ, load=_load_idea),
    summary="One idea with its text, tags and public status history",
    description="A merged duplicate answers with `merged_into`, the idea to vote on instead. "
    "An idea on a board the caller does not see is 404. Needs scope ideas:read.",
)
def idea_detail(request: HttpRequest, slug: Text, idea_id: int):
    c = caller(request)
    _organisation, idea = c.target
    return _detail(c, idea.pk)


@router.get(
    f"{PREFIX}/{{int:idea_id}}/comments",
    response={200: CommentPage, **READ_ERRORS},
    auth=requires(READ, load=_load_idea),
    summary="An idea's comments, oldest first (those hidden by staff left out)",
    description="Each with its Markdown and the sanitised HTML the pages show. Needs scope "
    "ideas:read.",
)
def list_comments(request: HttpRequest, slug: Text, idea_id: int, paging: Query[Paging]):
    c = caller(request)
    organisation, idea = c.target
    comments = (
        Comment.objects.filter(idea=idea, hidden=False)
        .select_related("author")
        .order_by("created_at", "id")
    )
    return page_out(
        comments,
        paging.page,
        paging.page_size,
        lambda comment: _comment_out(c, organisation, comment),
    )


def _comment_out(c: Caller, organisation: Organisation, comment: Comment) -> dict[str, Any]:
    # Named as the pages name people (access.person_label): other customers' people are "a
    # customer", whoever calls.
    return {
        "id": comment.pk,
        "author": person_label(c.user, organisation, comment.author, comment.organisation_id),
        "product_team": comment.organisation_id is None,
        "body": comment.body,
        "html": render(comment.body),
        "created_at": comment.created_at,
        "edited_at": comment.edited_at,
    }


@router.post(
    f"{PREFIX}/{{int:idea_id}}/comments",
    response={201: CommentOut, **WRITE_ERRORS},
    auth=requires(WRITE, load=_load_idea_for_person),
    summary="Comment on an idea (people only), with @mentions as on the page",
    description="Markdown, rendered and sanitised as on the pages; the author follows the idea "
    "(unless they left it), mentioned people who may see the idea and its followers are "
    "notified. A token is refused with 403 `person_required` before the body is read. Needs "
    "scope ideas:write.",
)
def add_comment(request: HttpRequest, slug: Text, idea_id: int, payload: CommentIn):
    c = caller(request)
    organisation, idea = c.target
    written = comment_actions.add_comment(idea, organisation, c.user, payload.body, request=request)
    return Status(201, _comment_out(c, organisation, written))


@router.put(
    f"{PREFIX}/{{int:idea_id}}/vote",
    response={200: VoteOut, **WRITE_ERRORS},
    auth=requires(WRITE, load=_load_idea_for_person),
    summary="Vote on an idea, or change the vote's importance and reason (people only)",
    description="One vote per person: voting again changes it (and moves it to the "
    "organisation in the path). 409 `voting_closed` once the idea is shipped, declined or a "
    "duplicate, 409 `idea_merged` on a merged duplicate. A token is refused with 403 "
    "`person_required` before the body is read. Needs scope ideas:write.",
)
def vote(request: HttpRequest, slug: Text, idea_id: int, payload: VoteIn):
    c = caller(request)
    organisation, idea = c.target
    cast = actions.vote(
        idea, organisation, c.user, payload.importance, payload.reason, request=request
    )
    idea.refresh_from_db(fields=["vote_count", "organisation_count"])
    return {
        "idea": idea.pk,
        "importance": cast.importance,
        "reason": cast.reason,
        "votes": idea.vote_count,
        "organisations": idea.organisation_count,
    }


@router.delete(
    f"{PREFIX}/{{int:idea_id}}/vote",
    response={204: None, **WRITE_ERRORS},
    auth=requires(WRITE, load=_load_idea_for_person),
    summary="Withdraw one's vote on an idea (people only; 204 also when there was none)",
    description="The person keeps following the idea. Needs scope ideas:write.",
)
def withdraw_vote(request: HttpRequest, slug: Text, idea_id: int):
    c = caller(request)
    _organisation, idea = c.target
    actions.withdraw_vote(idea, c.user, request=request)
    return Status(204, None)


@router.put(
    f"{PREFIX}/{{int:idea_id}}/subscription",
    response={200: SubscriptionOut, **WRITE_ERRORS},
    auth=requires(WRITE, load=_load_idea_for_person),
    summary="Follow an idea or stop following it (people only)",
    description="Leaving is remembered: voting again does not follow the idea again. Needs "
    "scope ideas:write.",
)
def subscription(request: HttpRequest, slug: Text, idea_id: int, payload: SubscriptionIn):
    c = caller(request)
    organisation, idea = c.target
    followed = actions.set_subscribed(idea, organisation, c.user, payload.subscribed)
    return {"idea": idea.pk, "subscribed": followed.active}


api.add_router("/", router)
