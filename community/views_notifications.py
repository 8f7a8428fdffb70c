"""Notification pages: the in-app list, the digest and subscription preferences, and the level
forms on topics, spaces and tags.

The list shows only notifications about topics the person can still see (access changes, topics
move and are hidden); the level forms answer 404 for a topic or space the person cannot see.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from community import access, actions
from community import notifications as notices
from community.exceptions import CommunityError, NotVisible
from community.models import (
    Digest,
    Level,
    Notification,
    Space,
    Subscription,
    Tag,
    Topic,
    public_name,
)
from portal.http import SignedInRequest

PAGE_SIZE = 30

LEVEL_HELP = gettext_lazy(
    "Watching: every new post, in the app and by e-mail. Tracking: every new post, in the app. "
    "Normal: mentions and replies to you. Muted: nothing, not even in digests."
)


class DigestForm(forms.Form):
    digest = forms.ChoiceField(
        label=gettext_lazy("Digest e-mail"),
        choices=Digest.choices,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "Popular topics and unanswered questions from spaces you can see, sent only when "
            "you have not visited the community since the last one."
        ),
    )


# --------------------------------------------------------------------------------------------
# The list
# --------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request: SignedInRequest) -> HttpResponse:
    """The person's notifications, newest first; opening a page marks what it shows as read
    (still highlighted this once). POST marks them all read."""
    user = request.user
    if request.method == "POST":
        changed = notices.mark_read(user)
        messages.success(
            request,
            ngettext(
                "%(count)d notification marked as read.",
                "%(count)d notifications marked as read.",
                changed,
            )
            % {"count": changed},
        )
        return redirect("community:notifications")
    actions.touch(user)
    listed = (
        notices.listed_for(user)
        .select_related("topic", "post__topic", "actor__community_member")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    rows = [_row(notification) for notification in shown]
    notices.mark_read(user, [n.pk for n in shown if n.read_at is None])
    return render(request, "community/notifications.html", {"page": page, "rows": rows})


def _row(notification: Notification) -> dict:
    post = notification.post
    # A merged topic's posts live on in the target topic: link to where the post is now.
    topic = post.topic if post is not None else notification.topic
    if post is not None:
        url = post.get_absolute_url()
    elif topic is not None:
        url = topic.get_absolute_url()
    else:
        url = reverse("community:index")
    return {
        "notification": notification,
        "unread": notification.read_at is None,
        "actor": public_name(notification.actor) if notification.actor_id else "",
        "topic": topic,
        "is_new_topic": post is not None and post.is_opening,
        "url": url,
    }


# --------------------------------------------------------------------------------------------
# Preferences
# --------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: SignedInRequest) -> HttpResponse:
    """Digest frequency, and the person's space, tag and topic subscriptions with their levels
    (only those whose topic or space they can still see)."""
    user = request.user
    member = access.member_for(user)
    if request.method == "POST":
        form = DigestForm(request.POST)
        if form.is_valid():
            notices.set_digest(user, form.cleaned_data["digest"])
            messages.success(request, _("Your digest choice is saved."))
            return redirect("community:preferences")
    else:
        actions.touch(user)
        form = DigestForm(initial={"digest": member.digest})
    subscriptions = (
        Subscription.objects.filter(user=user)
        .filter(Q(topic__isnull=True) | Q(topic__in=Topic.objects.visible_to(user)))
        .filter(Q(space__isnull=True) | Q(space__in=Space.objects.visible_to(user)))
        .select_related("topic", "space__parent", "tag")
    )
    # Each subscription has exactly one target (a check constraint): spaces and tags by name,
    # topics by latest activity first.
    by_space: list[tuple[str, Subscription]] = []
    by_tag: list[tuple[str, Subscription]] = []
    by_topic: list[tuple[dt.datetime, Subscription]] = []
    for subscription in subscriptions:
        if subscription.space is not None:
            by_space.append((str(subscription.space).lower(), subscription))
        elif subscription.tag is not None:
            by_tag.append((subscription.tag.name.lower(), subscription))
        elif subscription.topic is not None:
            by_topic.append((subscription.topic.last_activity_at, subscription))
    spaces = [item for _key, item in sorted(by_space, key=lambda pair: pair[0])]
    tags = [item for _key, item in sorted(by_tag, key=lambda pair: pair[0])]
    topics = [item for _key, item in sorted(by_topic, key=lambda pair: pair[0], reverse=True)]
    return render(
        request,
        "community/preferences.html",
        {
            "form": form,
            "space_subscriptions": spaces,
            "tag_subscriptions": tags,
            "topic_subscriptions": topics,
            "levels": Level.choices,
            "level_help": LEVEL_HELP,
        },
    )


# --------------------------------------------------------------------------------------------
# Levels
# --------------------------------------------------------------------------------------------


@require_POST
@login_required
def topic_level(request: SignedInRequest, topic_id: int) -> HttpResponse:
    try:
        topic = access.visible_topic(request.user, topic_id)
    except NotVisible as error:
        raise Http404(error.message) from error
    if request.POST.get("level") == "inherit":
        actions.clear_topic_level(request.user, topic)
        messages.success(
            request,
            _("Notifications for %(name)s now follow its space and tags.") % {"name": topic.title},
        )
        return redirect(_next(request, topic.get_absolute_url()))
    return _set_level(request, topic.title, topic.get_absolute_url(), topic=topic)


@require_POST
@login_required
def space_level(request: SignedInRequest, space_slug: str) -> HttpResponse:
    try:
        space = access.visible_space(request.user, slug=space_slug)
    except NotVisible as error:
        raise Http404(error.message) from error
    url = reverse("community:space", kwargs={"space_slug": space.slug})
    return _set_level(request, space.name, url, space=space)


@require_POST
@login_required
def tag_level(request: SignedInRequest, tag_slug: str) -> HttpResponse:
    tag = get_object_or_404(Tag, slug=tag_slug)
    url = reverse("community:tag", kwargs={"tag_slug": tag.slug})
    return _set_level(request, f"#{tag.name}", url, tag=tag)


def _set_level(request: SignedInRequest, name: str, fallback: str, **target) -> HttpResponse:
    level = request.POST.get("level", "")
    try:
        actions.set_level(request.user, level, **target)
    except NotVisible as error:
        raise Http404(error.message) from error
    except CommunityError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Notifications for %(name)s: %(level)s.")
            % {"name": name, "level": Level(level).label},
        )
    return redirect(_next(request, fallback))


def _next(request: HttpRequest, fallback: str) -> str:
    """The page to go back to: `next` when it is a path on this site, else the object's page."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return fallback
