"""The community search page: topics and replies the reader may see, best match first."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from community import actions, page_cache, visibility
from community.models import Post, PostStatus, is_moderator, public_name
from community.rows import Links
from community.search import highlight_all, query_terms, search_posts
from portal.http import SignedInRequest
from portal.models import User

# Longer input is cut; only the first search.MAX_TERMS terms are searched anyway.
MAX_QUERY_CHARS = 200
RESULTS = 50


@login_required
def search(request: SignedInRequest) -> HttpResponse:
    """GET `q`: every term must occur (in the title or text); one result per topic. An empty
    query shows the search box and tips, not an error."""
    actions.touch(request.user)
    # The visible space ids, worked out once: every list below filters by them.
    visibility.visible_space_ids(request.user)
    query = " ".join(request.GET.get("q", "").split())[:MAX_QUERY_CHARS]

    def build() -> dict:
        words = query_terms(query)
        searchable = bool(words)
        hits = search_posts(request.user, query, limit=RESULTS) if searchable else []
        results = []
        links = Links()
        for hit in hits:
            member = getattr(hit.post.author, "community_member", None)
            handle = member.handle if member is not None else ""
            results.append(
                {
                    "hit": hit,
                    "title_html": highlight_all(hit.topic.title, words),
                    "author_name": public_name(hit.post.author),
                    "author_url": links.for_person(handle) if handle else "",
                    "url": f"{links.for_topic(hit.topic.pk)}#post-{hit.post.number}",
                    "space_url": links.for_space(hit.topic.space.slug),
                }
            )
        return {
            "query": query,
            "searchable": searchable,
            # Something was typed, but nothing in it can be searched (punctuation only).
            "no_terms": bool(query) and not searchable,
            "results": results,
            "capped": len(results) >= RESULTS,
            "max_results": RESULTS,
        }

    main = page_cache.main_html(
        request,
        "community/includes/search_main.html",
        build,
        # Moderators find hidden posts, and authors their own posts under review: their
        # results are theirs alone.
        per_person=is_moderator(request.user) or _has_posts_under_review(request.user),
    )
    return render(request, "community/search.html", {"query": query, "main_html": main})


def _has_posts_under_review(user: User) -> bool:
    return Post.objects.filter(author=user, status=PostStatus.PENDING_REVIEW).exists()
