"""The boards a person sees, one board's ideas, proposing an idea and the similar ideas shown
while a title is typed, under the organisation they act for (/o/<slug>/ideas/).

A board the organisation may not see answers 404 under the caller's own URL, as if it did not
exist (`access.board_or_404`); every list is built on `access.ideas_for`."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from beta_program.boards import attachment_actions, search
from beta_program.boards.access import board_or_404, boards_for, ideas_for, may_participate
from beta_program.boards.exceptions import BoardError
from beta_program.boards.forms import ProposeForm
from beta_program.boards.models import CLOSED_KINDS, Board, Idea, IdeaStatus, Tag, Vote
from portal.exceptions import PermissionDeniedError
from portal.models import Organisation
from portal.text import ascii_integer
from portal.views import organisation_view

PAGE_SIZE = 25
TOP_IDEAS = 5
TRENDING_DAYS = 14
QUERY_LIMIT = 200

# sort value -> (label, ordering); "trending" orders by the `recent_votes` annotation.
SORTS = {
    "votes": (gettext_lazy("Most votes"), ("-vote_count", "-created_at", "-id")),
    "accounts": (
        gettext_lazy("Most organisations"),
        ("-organisation_count", "-vote_count", "-id"),
    ),
    "newest": (gettext_lazy("Newest"), ("-created_at", "-id")),
    "trending": (gettext_lazy("Trending"), ("-recent_votes", "-vote_count", "-id")),
}


@require_GET
@organisation_view()
def index(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    # Meta.ordering does not apply to an aggregating query: order explicitly.
    boards = (
        boards_for(request.user, organisation)
        .annotate(idea_total=Count("ideas", filter=Q(ideas__merged_into__isnull=True)))
        .order_by("name", "pk")
    )
    top = (
        ideas_for(request.user, organisation)
        .listed()
        .exclude(status__kind__in=CLOSED_KINDS)
        .select_related("status", "board")
        .order_by("-vote_count", "-created_at", "-id")[:TOP_IDEAS]
    )
    return render(
        request,
        "beta_program/boards/index.html",
        {"organisation": organisation, "boards": list(boards), "top_ideas": list(top)},
    )


def _board_ideas(request: HttpRequest, organisation: Organisation, board: Board) -> dict:
    """Filter, sort and paginate the board's listed ideas from the GET parameters `sort`,
    `category` (an id of the board's), `tag` (a slug), `status` (a key), `q` and `page`.
    Unknown values are ignored (the list shows unfiltered) rather than refused."""
    params = request.GET
    sort = params.get("sort", "")
    if sort not in SORTS:
        sort = "votes"
    categories = list(board.categories.all())
    statuses = list(IdeaStatus.objects.all())
    tags = list(Tag.objects.all())
    category_id = ascii_integer(params.get("category", ""))
    category = next((c for c in categories if c.pk == category_id), None)
    tag = next((t for t in tags if t.slug == params.get("tag", "")), None)
    status = next((s for s in statuses if s.key == params.get("status", "")), None)
    query = params.get("q", "").strip()[:QUERY_LIMIT]

    ideas: QuerySet[Idea] = ideas_for(request.user, organisation).listed().filter(board=board)
    if category is not None:
        ideas = ideas.filter(category=category)
    if tag is not None:
        ideas = ideas.filter(pk__in=Idea.tags.through.objects.filter(tag=tag).values("idea_id"))
    if status is not None:
        ideas = ideas.filter(status=status)
    if query:
        ideas = search.matching(ideas, query)
    if sort == "trending":
        since = timezone.now() - timedelta(days=TRENDING_DAYS)
        ideas = ideas.annotate(
            recent_votes=Count(
                "votes",
                filter=Q(votes__created_at__gte=since, votes__suppressed_by__isnull=True),
            )
        )
    ideas = (
        ideas.select_related("status", "category")
        .prefetch_related("tags")
        .order_by(*SORTS[sort][1])
    )
    page = Paginator(ideas, PAGE_SIZE).get_page(params.get("page"))
    page.object_list = rows = list(page.object_list)
    voted = set(
        Vote.objects.filter(
            idea__in=[idea.pk for idea in rows],
            voter=request.user,
            on_behalf=False,
            suppressed_by__isnull=True,
        ).values_list("idea_id", flat=True)
    )
    for idea in rows:
        idea.viewer_voted = idea.pk in voted
    kept = params.copy()
    kept.pop("page", None)
    filtered = bool(category or tag or status or query)
    return {
        "page": page,
        "ideas": rows,
        "query": kept.urlencode(),
        "filtered": filtered,
        "sort": sort,
        "sorts": [(value, label) for value, (label, _order) in SORTS.items()],
        "q": query,
        "categories": categories,
        "category": category,
        "tags": tags,
        "tag": tag,
        "statuses": statuses,
        "status": status,
    }


@require_GET
@organisation_view()
def board(request: HttpRequest, organisation: Organisation, board_slug: str) -> HttpResponse:
    found = board_or_404(request.user, organisation, board_slug)
    context = {
        "organisation": organisation,
        "board": found,
        "may_propose": may_participate(request.user, organisation),
        **_board_ideas(request, organisation, found),
    }
    return render(request, "beta_program/boards/board.html", context)


@require_http_methods(["GET", "POST"])
@organisation_view()
def propose(request: HttpRequest, organisation: Organisation, board_slug: str) -> HttpResponse:
    found = board_or_404(request.user, organisation, board_slug)
    if not may_participate(request.user, organisation):
        raise PermissionDenied("Only the organisation's people propose ideas.")
    posted = request.method == "POST"
    form = ProposeForm(
        request.POST if posted else None, request.FILES if posted else None, board=found
    )
    if posted and form.is_valid():
        try:
            idea = attachment_actions.propose_with_attachments(
                found,
                organisation,
                request.user,
                form.proposal(),
                form.cleaned_data["attachments"],
                request=request,
            )
        except (BoardError, PermissionDeniedError) as exc:
            form.add_error(form.field_for(exc.field), exc.message)
        else:
            messages.success(request, _("Thank you. Your idea is on the board."))
            return redirect("beta:idea", org_slug=organisation.slug, idea_id=idea.pk)
    return render(
        request,
        "beta_program/boards/propose.html",
        {
            "organisation": organisation,
            "board": found,
            "form": form,
            "similar_url": reverse(
                "beta:ideas_similar",
                kwargs={"org_slug": organisation.slug, "board_slug": found.slug},
            ),
        },
    )


@require_GET
@organisation_view()
def similar(request: HttpRequest, organisation: Organisation, board_slug: str) -> JsonResponse:
    """Listed ideas of the board that look like the title being typed (JSON for the propose
    form's script)."""
    found = board_or_404(request.user, organisation, board_slug)
    ideas = ideas_for(request.user, organisation).listed().filter(board=found)
    results = [
        {
            "id": idea.pk,
            "title": idea.title,
            "status": idea.status.display_name,
            "votes": idea.vote_count,
            "url": reverse("beta:idea", kwargs={"org_slug": organisation.slug, "idea_id": idea.pk}),
        }
        for idea in search.similar(ideas, request.GET.get("q", "")[:QUERY_LIMIT])
    ]
    return JsonResponse({"ideas": results})
