"""Community endpoints of the REST API: spaces, topics and replies, reactions, accepted answers
and search, under /api/v1/community/.

Two kinds of caller read the community. A signed-in person sees what the pages show them
(`Space.objects.visible_to(user)`, `Post.objects.readable_by(user)`). An organisation's API token
sees the spaces whose audience names the organisation itself (`visible_to_organisation`), and
only visible posts. Anything outside that is 404, never 403, so an id does not tell whether a
private space's topic exists.

Posts are written by people: a token has no person behind it, so write endpoints resolve the
object with the token's visibility (404 when it cannot see it) and then refuse with 403
`person_required`, all before the body is read (`portal.api.requires`). Domain refusals
(`community.exceptions`) are `PortalError`s and reach the client through the portal's error
handler as `{code, message, field}` with their own status.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictInt

from community import access, actions, search
from community.exceptions import NotVisible
from community.models import (
    TOPIC_ORDERINGS,
    Attachment,
    Member,
    Post,
    PostQuerySet,
    PostStatus,
    Reaction,
    ReactionKind,
    Space,
    SpaceQuerySet,
    Topic,
    TopicKind,
    TopicQuerySet,
    public_name,
)
from portal.api import ApiError, Caller, ErrorOut, Input, PathParams, api, caller, requires
from portal.api_common import ERRORS, MAX_PAGE_SIZE, PageOut, page_out
from portal.api_contract import MAX_PAGE
from portal.api_scopes import register_scope
from portal.models import User

READ = "community:read"
WRITE = "community:write"
register_scope(
    READ, gettext_lazy("Read the community spaces, topics and posts the organisation may see")
)
register_scope(
    WRITE,
    gettext_lazy(
        "Community writes (start topics, reply, react, accept answers); "
        "these need a signed-in person, so a token is refused"
    ),
)

MAX_SEARCH_RESULTS = 50

READ_ERRORS = ERRORS
WRITE_ERRORS: dict[int, Any] = {400: ErrorOut, **READ_ERRORS}
POST_ERRORS: dict[int, Any] = {**WRITE_ERRORS, 429: ErrorOut}

router = Router(tags=["Community"])

TOPIC_JOINS = ("space", "author__community_member", "organisation")


# --------------------------------------------------------------------------------------------
# Who sees what
# --------------------------------------------------------------------------------------------


def _reader(request: HttpRequest) -> Caller:
    c = caller(request)
    c.require_scope(READ)
    return c


def _spaces(c: Caller) -> SpaceQuerySet:
    if c.token is not None:
        return Space.objects.visible_to_organisation(c.token.organisation)
    return Space.objects.visible_to(c.user)


def _topics(c: Caller) -> TopicQuerySet:
    if c.token is not None:
        return Topic.objects.visible_to_organisation(c.token.organisation)
    return Topic.objects.visible_to(c.user)


def _posts(c: Caller) -> PostQuerySet:
    if c.token is not None:
        return Post.objects.filter(topic__in=_topics(c), status=PostStatus.VISIBLE)
    return Post.objects.readable_by(c.user)


def _space(c: Caller, slug: str) -> Space:
    space = _spaces(c).filter(slug=slug).first()
    if space is None:
        raise NotVisible(_("No such space."), field="space")
    return space


def _topic(c: Caller, topic_id: int) -> Topic:
    topic = _topics(c).select_related(*TOPIC_JOINS).filter(pk=topic_id).first()
    if topic is None:
        raise NotVisible(_("No such topic."))
    return topic


def _post(c: Caller, post_id: int) -> Post:
    post = _posts(c).select_related("topic__space").filter(pk=post_id).first()
    if post is None:
        raise NotVisible(_("No such post."))
    return post


def _person(c: Caller) -> User:
    """The person behind a write. Checked after the object was found: a token that cannot see
    the object gets 404 like everyone else."""
    if c.token is not None or c.user is None:
        raise ApiError(
            403,
            "person_required",
            _(
                "Community posts are written by people; call this endpoint with a signed-in "
                "session."
            ),
        )
    return c.user


# Writes are authorised before their body is read (portal.api.Access): the scope, then the
# object the path names with the caller's visibility (404), then a person (403).


def _person_writing(c: Caller, params: PathParams) -> User:
    return _person(c)


def _topic_writing(c: Caller, params: PathParams) -> Topic:
    topic = _topic(c, params["topic_id"])
    _person(c)
    return topic


def _post_writing(c: Caller, params: PathParams) -> Post:
    post = _post(c, params["post_id"])
    _person(c)
    return post


# --------------------------------------------------------------------------------------------
# Schemas
# --------------------------------------------------------------------------------------------


class SpaceOut(Schema):
    id: int
    slug: str = Field(..., examples=["inverters"])
    name: str
    description: str
    parent: str | None = Field(..., description="Slug of the parent space; null at top level")
    can_post: bool | None = Field(
        ...,
        description="Signed-in people: whether they may start topics here now (not when the "
        "space is for staff only or their posting is suspended). Null for tokens.",
    )


class SpaceRef(Schema):
    slug: str
    name: str


class TagOut(Schema):
    slug: str = Field(..., examples=["firmware"])
    name: str


class AuthorOut(Schema):
    name: str = Field(..., description="Display name (never an e-mail address)")
    handle: str | None = Field(..., description="For @mentions; null if never set up")


class TopicSummaryOut(Schema):
    id: int
    space: SpaceRef
    kind: TopicKind
    title: str
    author: AuthorOut
    organisation: str | None = Field(..., description="The asker's organisation name")
    tags: list[TagOut]
    created_at: datetime
    last_activity_at: datetime
    reply_count: int = Field(..., description="Replies readers see")
    score: int = Field(..., description="Reactions on the opening post")
    solved: bool = Field(..., description="A question with an accepted answer")
    pinned: bool
    locked: bool = Field(..., description="Takes no new replies")
    url: str = Field(..., description="The topic's page")


class AttachmentOut(Schema):
    name: str
    content_type: str
    size: int = Field(..., description="Bytes")
    url: str = Field(
        ...,
        description="Served to signed-in people who can see the post; for display (an image "
        "over 1600 px on its long side is served as a thumbnail)",
    )
    download_url: str = Field(..., description="The file as uploaded, as a download")


class PostOut(Schema):
    id: int
    number: int = Field(..., description="1 is the opening post; replies count up from 2")
    author: AuthorOut
    organisation: str | None = Field(..., description="The author's organisation name")
    body: str = Field(..., description="Markdown as written")
    html: str = Field(
        ...,
        description="Rendered and sanitised HTML: no raw HTML, event handlers or javascript: "
        "URLs survive, so it can be shown as is",
    )
    status: PostStatus = Field(
        ...,
        description="visible; an author also sees their own post while it is pending review",
    )
    reply_to: int | None = Field(..., description="Id of the post this one answers")
    created_at: datetime
    edited_at: datetime | None
    reactions: dict[str, int] = Field(
        ..., description="Count per reaction kind", examples=[{"upvote": 3, "thanks": 1}]
    )
    my_reactions: list[ReactionKind] = Field(
        ..., description="Kinds the signed-in caller gave; empty for tokens"
    )
    is_accepted: bool = Field(..., description="The accepted answer of its question")
    attachments: list[AttachmentOut]


class TopicOut(TopicSummaryOut):
    accepted_answer_id: int | None
    can_reply: bool = Field(
        ..., description="The signed-in caller may reply now; always false for tokens"
    )
    reply_refusal: str | None = Field(..., description="Why not, when the caller is a person")
    can_accept: bool = Field(
        ..., description="The caller (the asker or vendor staff) may accept an answer"
    )
    posts: list[PostOut] = Field(..., description="Posts the caller may read, in order")


class TopicPage(PageOut):
    items: list[TopicSummaryOut]


class TopicIn(Input):
    space: str = Field(..., description="Slug of the space", examples=["inverters"])
    kind: TopicKind = TopicKind.QUESTION
    title: str = Field(
        ...,
        description="5 to 200 characters",
        examples=["Inverter firmware 3.2 reports zero output at night"],
    )
    body: str = Field(
        ...,
        description=f"Markdown, up to {actions.MAX_BODY} characters; @handle mentions people "
        "who can see the space",
        examples=["Since the update the *daily* total is wrong. Anyone else?"],
    )
    tags: list[str] = Field(
        [], description=f"Tag slugs, at most {actions.MAX_TAGS}", examples=[["firmware"]]
    )


class ReplyIn(Input):
    # Optional in the schema so that an invisible topic is 404 before the text is checked; an
    # empty body is refused with 400 `body_empty`.
    body: str = Field(
        "",
        description=f"Required. Markdown, up to {actions.MAX_BODY} characters",
        examples=["Update to 3.2.1: it fixes the night-time reading."],
    )
    # Strict: pydantic would otherwise read the string "12" as the id 12.
    reply_to: StrictInt | None = Field(
        None, description="Id of a post of this topic being answered"
    )


class ReactionIn(Input):
    kind: ReactionKind = ReactionKind.UPVOTE


class ReactionOut(Schema):
    kind: ReactionKind
    on: bool = Field(..., description="True when the caller's reaction is now given")
    count: int = Field(..., description="Reactions of this kind on the post now")


class SearchHitOut(Schema):
    topic_id: int
    title: str
    space: SpaceRef
    solved: bool
    post_id: int
    number: int
    snippet_html: str = Field(..., description="Matching text with <mark>ed terms; escaped")
    url: str = Field(..., description="The post's place on its topic page")


class SearchOut(Schema):
    query: str
    items: list[SearchHitOut]


# --------------------------------------------------------------------------------------------
# Building responses (a fixed number of queries per page)
# --------------------------------------------------------------------------------------------


def _author(user: User | None) -> dict[str, Any]:
    """What other members see of a person: their name, else their @handle; never the e-mail
    address. Needs `community_member` joined (a reverse one-to-one without a row raises
    AttributeError, hence getattr)."""
    member = getattr(user, "community_member", None) if user is not None else None
    return {"name": public_name(user), "handle": member.handle if member is not None else None}


def _topic_summary(request: HttpRequest, topic: Topic) -> dict[str, Any]:
    return {
        "id": topic.pk,
        "space": {"slug": topic.space.slug, "name": topic.space.name},
        "kind": topic.kind,
        "title": topic.title,
        "author": _author(topic.author),
        "organisation": topic.organisation.name if topic.organisation else None,
        "tags": [{"slug": tag.slug, "name": tag.name} for tag in topic.tags.all()],
        "created_at": topic.created_at,
        "last_activity_at": topic.last_activity_at,
        "reply_count": topic.reply_count,
        "score": topic.score,
        "solved": topic.is_solved,
        "pinned": topic.is_pinned,
        "locked": topic.is_locked,
        "url": request.build_absolute_uri(topic.get_absolute_url()),
    }


def _topic_summaries(request: HttpRequest, topics: list[Topic]) -> list[dict[str, Any]]:
    return [_topic_summary(request, topic) for topic in topics]


def _posts_out(
    request: HttpRequest, c: Caller, topic: Topic, posts: list[Post]
) -> list[dict[str, Any]]:
    ids = [post.pk for post in posts]
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for row in (
        Reaction.objects.filter(post_id__in=ids)
        .values("post_id", "kind")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        counts[row["post_id"]][row["kind"]] = row["n"]
    mine: dict[int, list[str]] = defaultdict(list)
    if c.user is not None:
        for post_id, kind in Reaction.objects.filter(post_id__in=ids, user=c.user).values_list(
            "post_id", "kind"
        ):
            mine[post_id].append(kind)
    return [
        {
            "id": post.pk,
            "number": post.number,
            "author": _author(post.author),
            "organisation": post.organisation.name if post.organisation else None,
            "body": post.body,
            "html": post.html,
            "status": post.status,
            "reply_to": post.reply_to_id,
            "created_at": post.created_at,
            "edited_at": post.edited_at,
            "reactions": counts[post.pk],
            "my_reactions": sorted(mine[post.pk]),
            "is_accepted": post.pk == topic.accepted_answer_id,
            "attachments": [
                {
                    "name": attachment.name,
                    "content_type": attachment.content_type,
                    "size": attachment.size,
                    "url": request.build_absolute_uri(
                        reverse("community:attachment", kwargs={"attachment_id": attachment.pk})
                    ),
                    "download_url": request.build_absolute_uri(
                        reverse(
                            "community:attachment_original",
                            kwargs={"attachment_id": attachment.pk},
                        )
                    ),
                }
                for attachment in post.attachments.all()
            ],
        }
        for post in posts
    ]


def _post_rows(qs: QuerySet[Post]) -> QuerySet[Post]:
    return qs.select_related("author__community_member", "organisation").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("pk"))
    )


def _topic_out(request: HttpRequest, c: Caller, topic_id: int) -> dict[str, Any]:
    topic = _topic(c, topic_id)
    posts = list(_post_rows(_posts(c).filter(topic=topic)).order_by("number"))
    summary = _topic_summary(request, topic)
    refusal = None
    can_accept = False
    if c.user is not None:
        refusal = access.posting_refusal(c.user, topic.space, topic)
        can_accept = access.can_accept(c.user, topic)
    return {
        **summary,
        "accepted_answer_id": topic.accepted_answer_id,
        "can_reply": c.user is not None and refusal is None,
        "reply_refusal": refusal,
        "can_accept": can_accept,
        "posts": _posts_out(request, c, topic, posts),
    }


# --------------------------------------------------------------------------------------------
# Spaces
# --------------------------------------------------------------------------------------------


@router.get(
    "/community/spaces",
    response={200: list[SpaceOut], **READ_ERRORS},
    summary="Community spaces the caller may see",
    description=(
        "Spaces in their sort order, sub-spaces naming their parent by slug. People see the "
        "spaces their organisations, tiers and groups admit them to; a token sees the spaces "
        "whose audience names its organisation (all customers, the organisation, its tier). "
        "Needs scope community:read."
    ),
)
def list_spaces(request: HttpRequest):
    c = _reader(request)
    spaces = list(_spaces(c).select_related("parent").order_by("sort_order", "name", "pk"))
    postable: set[int] = set()
    if c.user is not None:
        # A read creates no community record: someone who never posted is not suspended.
        member = Member.objects.filter(user=c.user).first()
        if member is None or not member.is_suspended():
            postable = set(Space.objects.postable_by(c.user).values_list("pk", flat=True))
    return [
        {
            "id": space.pk,
            "slug": space.slug,
            "name": space.name,
            "description": space.description,
            "parent": space.parent.slug if space.parent else None,
            "can_post": (space.pk in postable) if c.user is not None else None,
        }
        for space in spaces
    ]


# --------------------------------------------------------------------------------------------
# Topics
# --------------------------------------------------------------------------------------------


class TopicFilters(Input):
    space: str | None = Field(None, description="Space slug; includes its sub-spaces")
    tag: str | None = Field(None, description="Tag slug")
    kind: TopicKind | None = None
    filter: Literal["unanswered", "solved", "mine", "followed"] | None = Field(
        None,
        description="unanswered: questions without replies; solved: questions with an "
        "accepted answer; mine: topics you started; followed: topics you watch or track (mine "
        "and followed need a signed-in person)",
    )
    sort: Literal["latest", "top", "newest"] = Field(
        "latest",
        description="latest: pinned first, then latest activity; top: most reactions on the "
        "opening post; newest: newest first",
    )
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE)


@router.get(
    "/community/topics",
    response={200: TopicPage, **READ_ERRORS},
    summary="Topics the caller may see, filtered, sorted and paginated",
    description=(
        "Filter by `space` (slug, with its sub-spaces; a space the caller cannot see is 404), "
        "`tag`, `kind` and `filter` (unanswered, solved, mine, followed: the last two need a "
        "signed-in person, a token gets 403 `person_required`). Sort by latest activity (pinned "
        "first), top or newest. Needs scope community:read."
    ),
)
def list_topics(request: HttpRequest, filters: Query[TopicFilters]):
    c = _reader(request)
    qs = _topics(c)
    if filters.space:
        space = _space(c, filters.space)
        qs = qs.filter(Q(space=space) | Q(space__parent=space))
    if filters.tag:
        qs = qs.filter(tags__slug=filters.tag)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.filter in ("mine", "followed") and c.user is None:
        raise ApiError(
            403,
            "person_required",
            _("The mine and followed filters describe a person; call with a signed-in session."),
            "filter",
        )
    qs = qs.filtered(filters.filter, c.user)
    qs = qs.select_related(*TOPIC_JOINS).prefetch_related("tags")
    qs = qs.order_by(*TOPIC_ORDERINGS[filters.sort])
    return page_out(
        qs,
        filters.page,
        filters.page_size,
        items=lambda topics: _topic_summaries(request, topics),
    )


@router.post(
    "/community/topics",
    response={201: TopicOut, **POST_ERRORS},
    summary="Start a topic (a question or a discussion)",
    description=(
        "201 with the topic and its opening post, whose `html` is the sanitised rendering of "
        "the Markdown. A space the caller cannot see is 404 (field `space`). 403 "
        "`posting_refused` when the space is for staff only or the person's posting is "
        "suspended (the message says why and until when); 429 `rate_limited` while a new "
        "member has used up their posts for the hour; 400 with `field` for an empty or long "
        "text, a short title or unknown tags. A token is refused with 403 `person_required` "
        "before the body is read. "
        "Needs scope community:write."
    ),
    auth=requires(WRITE, load=_person_writing),
)
def create_topic(request: HttpRequest, payload: TopicIn):
    c = caller(request)
    user = c.target
    space = _space(c, payload.space)
    topic = actions.create_topic(
        user,
        space,
        title=payload.title,
        body=payload.body,
        kind=payload.kind,
        tags=payload.tags,
        request=request,
    )
    return Status(201, _topic_out(request, c, topic.pk))


@router.get(
    "/community/topics/{int:topic_id}",
    response={200: TopicOut, **READ_ERRORS},
    summary="A topic with the posts the caller may read",
    description=(
        "Posts in order with their Markdown and sanitised HTML, reaction counts and which one "
        "is the accepted answer. A topic of a space the caller cannot see is 404. Needs scope "
        "community:read."
    ),
)
def get_topic(request: HttpRequest, topic_id: int):
    c = _reader(request)
    return _topic_out(request, c, topic_id)


@router.post(
    "/community/topics/{int:topic_id}/replies",
    response={201: PostOut, **POST_ERRORS},
    summary="Reply to a topic",
    description=(
        "201 with the new post. `reply_to` names a post of the same topic. 403 "
        "`posting_refused` when the topic is locked, the space is for staff only or the "
        "person's posting is suspended; 429 `rate_limited` for new members over their hourly "
        "posts; 400 `body_empty` or `body_too_long` (field `body`). A token is refused with 403 "
        "`person_required` once the topic is found. Needs scope community:write."
    ),
    auth=requires(WRITE, load=_topic_writing),
)
def create_reply(request: HttpRequest, topic_id: int, payload: ReplyIn):
    c = caller(request)
    topic, user = c.target, _person(c)
    reply_to = None
    if payload.reply_to is not None:
        reply_to = _posts(c).filter(pk=payload.reply_to, topic=topic).first()
        if reply_to is None:
            raise ApiError(
                400,
                "reply_to",
                _("You can only reply to a post of this topic."),
                "reply_to",
            )
    post = actions.reply(user, topic, body=payload.body, reply_to=reply_to, request=request)
    [out] = _posts_out(request, c, topic, list(_post_rows(Post.objects.filter(pk=post.pk))))
    return Status(201, out)


@router.post(
    "/community/posts/{int:post_id}/reactions",
    response={200: ReactionOut, **WRITE_ERRORS},
    summary="Give or take back a reaction on a post",
    description=(
        "Toggles the caller's reaction of `kind` (upvote, thanks, insightful) and returns "
        "whether it is now given and the post's count of that kind. 400 `own_post` on one's own "
        "post, `post_hidden` on a post under review. A token is refused with 403 "
        "`person_required` once the post is found. Needs scope community:write."
    ),
    auth=requires(WRITE, load=_post_writing),
)
def react(request: HttpRequest, post_id: int, payload: ReactionIn):
    c = caller(request)
    post, user = c.target, _person(c)
    on = actions.react(user, post, payload.kind)
    count = Reaction.objects.filter(post=post, kind=payload.kind).count()
    return {"kind": payload.kind, "on": on, "count": count}


@router.post(
    "/community/posts/{int:post_id}/accept",
    response={200: TopicOut, **WRITE_ERRORS},
    summary="Accept a reply as the answer to its question",
    description=(
        "The asker or vendor staff mark a reply as the answer (replacing an earlier choice) and "
        "get the topic back, now solved. 403 `posting_refused` for anyone else; 400 "
        "`not_a_question`, `not_a_reply` or `post_hidden`. A token is refused with 403 "
        "`person_required` once the post is found. Needs scope community:write."
    ),
    auth=requires(WRITE, load=_post_writing),
)
def accept_answer(request: HttpRequest, post_id: int):
    c = caller(request)
    post, user = c.target, _person(c)
    topic = actions.accept_answer(user, post, request=request)
    return _topic_out(request, c, topic.pk)


@router.delete(
    "/community/topics/{int:topic_id}/accepted-answer",
    response={200: TopicOut, **WRITE_ERRORS},
    summary="Withdraw a question's accepted answer",
    description=(
        "The asker or vendor staff unmark the accepted answer; the topic is returned, no longer "
        "solved. 403 `posting_refused` for anyone else. A token is refused with 403 "
        "`person_required` once the topic is found. Needs scope community:write."
    ),
    auth=requires(WRITE, load=_topic_writing),
)
def unaccept_answer(request: HttpRequest, topic_id: int):
    c = caller(request)
    topic, user = c.target, _person(c)
    actions.unaccept_answer(user, topic)
    return _topic_out(request, c, topic.pk)


# --------------------------------------------------------------------------------------------
# Search
# --------------------------------------------------------------------------------------------


class SearchParams(Input):
    q: str = Field(..., min_length=1, max_length=200, description="Words, English or Chinese")
    limit: int = Field(20, ge=1, le=MAX_SEARCH_RESULTS)


def _hits_out(request: HttpRequest, hits: Iterable) -> list[dict[str, Any]]:
    return [
        {
            "topic_id": hit.topic.pk,
            "title": hit.topic.title,
            "space": {"slug": hit.topic.space.slug, "name": hit.topic.space.name},
            "solved": hit.topic.is_solved,
            "post_id": hit.post.pk,
            "number": hit.post.number,
            "snippet_html": hit.snippet_html,
            "url": request.build_absolute_uri(hit.post.get_absolute_url()),
        }
        for hit in hits
    ]


@router.get(
    "/community/search",
    response={200: SearchOut, **READ_ERRORS},
    summary="Search the topics and replies the caller may see",
    description=(
        "Full-text search over titles and posts, best match first; Chinese words of two or "
        "more characters match inside sentences. Only posts the caller may read are searched. "
        "Needs scope community:read."
    ),
)
def search_posts(request: HttpRequest, params: Query[SearchParams]):
    c = _reader(request)
    if c.token is not None:
        hits = search.search_posts_for_organisation(
            c.token.organisation, params.q, limit=params.limit
        )
    else:
        hits = search.search_posts(c.user, params.q, limit=params.limit)
    return {"query": params.q, "items": _hits_out(request, hits)}


api.add_router("/", router)
