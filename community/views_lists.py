"""Community list pages: the spaces overview, a space, a tag and a member's profile.

Every list starts from `Topic.objects.visible_to(user)` (or `Post.objects.readable_by(user)`),
so a private space's topics never reach a page of someone outside its audience. Each page costs
a fixed number of queries whatever the number of topics on it: related rows are joined or
prefetched, never loaded per row.
"""

from __future__ import annotations

from collections.abc import Callable
from html import unescape

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.html import strip_tags
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from community import access, actions, page_cache, topic_counts, visibility
from community.exceptions import NotVisible
from community.models import (
    TOPIC_FILTERS,
    TOPIC_ORDERINGS,
    Level,
    Member,
    Post,
    Space,
    Subscription,
    Tag,
    Topic,
    TopicKind,
    TopicQuerySet,
    is_community_staff,
    public_name,
)
from community.rows import topic_rows
from community.statements import Statement
from portal.http import SignedInRequest
from portal.models import Membership, User
from portal.pagination import keyset_page

PAGE_SIZE = 20
# List filters about the viewer: such a list is rendered for each request, never kept.
PERSONAL_FILTERS = ("mine", "followed")

# The filter bar's tabs and the sort menu: labels for TOPIC_FILTERS and TOPIC_ORDERINGS.
FILTER_LABELS = {
    "unanswered": _("Unanswered"),
    "solved": _("Solved"),
    "mine": _("My topics"),
    "followed": _("Followed"),
}
SORT_LABELS = {
    "latest": _("Latest activity"),
    "top": _("Top"),
    "newest": _("Newest"),
}
PERSON_SHOWS = {
    "topics": _("Topics"),
    "replies": _("Replies"),
}


# --------------------------------------------------------------------------------------------
# Shared pieces
# --------------------------------------------------------------------------------------------


def _choice(params: QueryDict, name: str, allowed) -> str:
    """A GET parameter if it is one of the allowed values, else "" (a bad link shows all)."""
    value = params.get(name, "")
    return value if value in allowed else ""


def _link(params: QueryDict, **changes: str) -> str:
    """The current query string with some parameters changed (empty: removed), page reset."""
    query = params.copy()
    query.pop("page", None)
    query.pop("after", None)
    for name, value in changes.items():
        query.pop(name, None)
        if value:
            query[name] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


def topic_list(
    request: SignedInRequest,
    topics: TopicQuerySet,
    *,
    fixed_tag: Tag | None = None,
    total: int | None = None,
) -> dict:
    """Filter, sort and paginate visible topics from the GET parameters `filter`
    (unanswered/solved/mine/followed), `sort` (latest/top/newest), `kind` (question/discussion),
    `tag` (a slug; a tag's page passes `fixed_tag` instead) and `page`. Returns the page, its
    rendered rows and the state the filter bar and pagination need. `total`: the number of
    `topics` when the caller knows it (community.topic_counts); used only while no filter
    narrows the list, which is counted instead."""
    params = request.GET
    user = request.user
    chosen_filter = _choice(params, "filter", TOPIC_FILTERS)
    sort = _choice(params, "sort", TOPIC_ORDERINGS) or "latest"
    kind = _choice(params, "kind", TopicKind.values)
    tag_slug = fixed_tag.slug if fixed_tag is not None else params.get("tag", "").strip()

    topics = topics.filtered(chosen_filter, user)
    if kind:
        topics = topics.filter(kind=kind)
    if fixed_tag is None and tag_slug:
        topics = topics.filter(tags__slug=tag_slug)

    topics = topics.select_related(
        "space__parent",
        "author__community_member",
        "last_poster__community_member",
    ).prefetch_related("tags")
    filtered = bool(chosen_filter or kind or (fixed_tag is None and tag_slug))
    page, next_after = keyset_page(
        topics,
        params,
        ordering=TOPIC_ORDERINGS[sort],
        per_page=PAGE_SIZE,
        salt="community.topics",
        total=total if not filtered else None,
    )
    for topic in page.object_list:
        topic.author_name = public_name(topic.author)
        author_member = getattr(topic.author, "community_member", None)
        topic.author_handle = author_member.handle if author_member is not None else ""
        topic.last_poster_name = public_name(topic.last_poster) if topic.reply_count else ""

    query = params.copy()
    query.pop("page", None)
    query.pop("after", None)
    return {
        "page": page,
        "next_after": next_after,
        # The relative times are put in when the page is shown (community.page_cache).
        "rows": topic_rows(list(page.object_list), times_left_out=True),
        "row_times": [topic.last_activity_at for topic in page.object_list],
        "query": query.urlencode(),
        "current_filter": chosen_filter,
        "sort": sort,
        "kind": kind,
        "tag_slug": tag_slug,
        "filtered": filtered,
        "filter_tabs": [
            {"label": label, "url": _link(params, filter=value), "current": value == chosen_filter}
            for value, label in [("", _("All")), *FILTER_LABELS.items()]
        ],
        "sorts": list(SORT_LABELS.items()),
        "kinds": TopicKind.choices,
        "tag_choices": []
        if fixed_tag is not None
        else list(Tag.objects.values_list("slug", "name")),
        "reset_url": request.path,
    }


def _with_topic_counts(spaces: QuerySet) -> list[Space]:
    """The spaces, each with `topic_count`, the number of its live topics (kept counts)."""
    counts = topic_counts.per_space()
    listed = list(spaces.order_by("sort_order", "name", "pk"))
    for item in listed:
        item.topic_count = counts.get(item.pk, 0)
    return listed


def _main(request: SignedInRequest, page: str, build: Callable[[], dict]) -> SafeString:
    """The page's main content (`includes/<page>_main.html`), kept in the cache unless a filter
    about the viewer ("mine", "followed") narrows it."""
    return page_cache.main_html(
        request,
        f"community/includes/{page}_main.html",
        build,
        keep=request.GET.get("filter") not in PERSONAL_FILTERS,
    )


# The reader's level for a space or a tag, compiled once (community.statements): building and
# compiling the QuerySet cost more CPU than PostgreSQL took to answer it.
_SPACE_LEVEL = Statement(
    lambda *, reader, space: (
        Subscription.objects.filter(user_id=reader, space_id=space)
        .order_by()
        .values_list("level")[:1]
    )
)
_TAG_LEVEL = Statement(
    lambda *, reader, tag: (
        Subscription.objects.filter(user_id=reader, tag_id=tag).order_by().values_list("level")[:1]
    )
)


def _level(statement: Statement, user: User, **target: int) -> str:
    rows = statement.rows(None, reader=user.pk, **target)
    return rows[0][0] if rows else Level.NORMAL


# --------------------------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------------------------


@login_required
def index(request: SignedInRequest) -> HttpResponse:
    actions.touch(request.user)
    # The visible space ids, worked out once: every list below filters by them.
    visibility.visible_space_ids(request.user)

    def build() -> dict:
        spaces = _with_topic_counts(Space.objects.visible_to(request.user))
        top_level = [item for item in spaces if item.parent_id is None]
        children: dict[int, list[Space]] = {}
        for item in spaces:
            if item.parent_id is not None:
                children.setdefault(item.parent_id, []).append(item)
        for item in top_level:
            item.subspaces = children.get(item.pk, [])
            # The space page lists its sub-spaces' topics too: the count says the same.
            item.total_topics = item.topic_count + sum(sub.topic_count for sub in item.subspaces)
        context = topic_list(
            request,
            Topic.objects.visible_to(request.user),
            total=sum(item.topic_count for item in spaces),
        )
        return {"spaces": top_level, **context}

    return render(request, "community/index.html", {"main_html": _main(request, "index", build)})


@login_required
def ask(request: SignedInRequest) -> HttpResponse:
    """ "Ask a question" from the community's front page: first, where. The spaces listed are
    those the person may post in; with just one, its form opens at once."""
    postable = visibility.postable_space_ids(request.user)
    spaces = sorted(
        Space.objects.visible_to(request.user).filter(pk__in=postable).select_related("parent"),
        # Each sub-space right under its parent.
        key=lambda s: (s.parent.name if s.parent else s.name, s.parent is not None, s.name),
    )
    if len(spaces) == 1:
        return redirect("community:new_topic", space_slug=spaces[0].slug)
    return render(
        request,
        "community/ask.html",
        {"spaces": spaces, "refusal": access.suspension_message(request.user)},
    )


@login_required
def space(request: SignedInRequest, space_slug: str) -> HttpResponse:
    user = request.user
    member = actions.touch(user)
    # The visible space ids, worked out once: every list below filters by them.
    visibility.visible_space_ids(user)
    try:
        current = access.visible_space(user, slug=space_slug)
    except NotVisible as error:
        raise Http404(error.message) from error
    parent = current.parent if current.parent_id else None

    def build() -> dict:
        subspaces = _with_topic_counts(Space.objects.visible_to(user).filter(parent=current))
        # The visible sub-spaces are exactly the ones listed: filter by their ids, no join.
        shown = [current.pk, *(sub.pk for sub in subspaces)]
        topics = Topic.objects.visible_to(user).filter(space_id__in=shown)
        context = topic_list(request, topics, total=topic_counts.total(shown))
        return {"space": current, "subspaces": subspaces, **context}

    return render(
        request,
        "community/space.html",
        {
            "space": current,
            "parent": parent,
            "main_html": _main(request, "space", build),
            "posting_refusal": access.posting_refusal(user, current, member=member),
            "level": _level(_SPACE_LEVEL, user, space=current.pk),
            "levels": Level.choices,
        },
    )


@login_required
def tag(request: SignedInRequest, tag_slug: str) -> HttpResponse:
    user = request.user
    actions.touch(user)
    # The visible space ids, worked out once: every list below filters by them.
    visibility.visible_space_ids(user)
    current = Tag.objects.filter(slug=tag_slug).first()
    if current is None:
        raise Http404(_("No such tag."))

    def build() -> dict:
        topics = Topic.objects.visible_to(user).filter(tags=current)
        return {"tag": current, **topic_list(request, topics, fixed_tag=current)}

    return render(
        request,
        "community/tag.html",
        {
            "tag": current,
            "main_html": _main(request, "tag", build),
            "level": _level(_TAG_LEVEL, user, tag=current.pk),
            "levels": Level.choices,
        },
    )


def _may_see_person(viewer: User, person: User, readable_posts: int) -> bool:
    """Someone exists for the viewer when the viewer can read something they wrote, is vendor
    staff, or shares an organisation with them; otherwise their handle is unknown (404), so a
    private space's members cannot be enumerated."""
    if viewer.pk == person.pk or is_community_staff(viewer):
        return True
    if readable_posts:
        return True
    shared = Membership.objects.filter(user=viewer).values("organisation")
    return Membership.objects.filter(user=person, organisation__in=shared).exists()


@login_required
def person(request: SignedInRequest, handle: str) -> HttpResponse:
    viewer = request.user
    actions.touch(viewer)
    member = Member.objects.select_related("user").filter(handle=handle).first()
    if member is None:
        raise Http404(_("No such member."))
    profile_user = member.user
    readable = Post.objects.readable_by(viewer).filter(author=profile_user)
    counts = readable.aggregate(posts=Count("pk"), topics=Count("pk", filter=Q(number=1)))
    if not _may_see_person(viewer, profile_user, counts["posts"]):
        raise Http404(_("No such member."))

    show = _choice(request.GET, "show", PERSON_SHOWS)
    posts = readable
    if show == "topics":
        posts = posts.filter(number=1)
    elif show == "replies":
        posts = posts.filter(number__gt=1)
    posts = posts.select_related("topic__space__parent").order_by("-created_at", "-pk")
    page = Paginator(posts, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for post in page.object_list:
        # Plain text of the rendered post: Markdown syntax would show in a raw body excerpt.
        post.excerpt = Truncator(" ".join(unescape(strip_tags(post.html)).split())).chars(240)

    organisations = list(
        Membership.objects.filter(user=profile_user, organisation__is_active=True)
        .order_by("organisation__name")
        .values_list("organisation__name", flat=True)
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "community/person.html",
        {
            "person": profile_user,
            "member": member,
            "name": public_name(profile_user),
            "organisations": organisations,
            # Posts this viewer can read, not the member's total: that would reveal activity in
            # spaces the viewer cannot see.
            "post_count": counts["posts"],
            "topic_count": counts["topics"],
            "reply_count": counts["posts"] - counts["topics"],
            "page": page,
            "query": query.urlencode(),
            "show": show,
            "show_tabs": [
                {"label": label, "url": _link(request.GET, show=value), "current": value == show}
                for value, label in [("", _("All posts")), *PERSON_SHOWS.items()]
            ],
            "is_staff_member": is_community_staff(profile_user),
        },
    )
