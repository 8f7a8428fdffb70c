"""The notification inbox: the signed-in person's own notifications (never anyone else's: an id
that is not theirs is 404), a link to the apps that keep their own, and marking read."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from portal import notifications
from portal.http import SignedInRequest


@login_required
@require_GET
def inbox(request: SignedInRequest) -> HttpResponse:
    page = notifications.inbox_page(request.user, request.GET.get("page"))
    return render(
        request,
        "portal/notifications.html",
        {
            "page": page,
            "rows": page.object_list,
            "elsewhere": notifications.elsewhere(request.user),
            "has_unread": any(n.read_at is None for n in page.object_list),
        },
    )


@login_required
@require_POST
def read_all(request: SignedInRequest) -> HttpResponse:
    notifications.mark_read(request.user)
    return redirect("portal:notifications")


@login_required
@require_POST
def read(request: SignedInRequest, notification_id: int) -> HttpResponse:
    """Mark one notification read; with `open`, then follow its link."""
    notification = notifications.own_or_none(request.user, notification_id)
    if notification is None:
        raise Http404("No such notification.")
    notifications.mark_read(request.user, [notification.pk])
    link = notification.link
    if request.POST.get("open") and link and url_has_allowed_host_and_scheme(link, None):
        return redirect(link)
    return redirect("portal:notifications")


@login_required
@require_GET
def unread(request: SignedInRequest) -> JsonResponse:
    """The header's number (portal.js asks after the page loaded): the portal's unread
    notifications plus those every app keeps itself (`greenloop_unread_elsewhere`)."""
    own = notifications.unread_count(request.user)
    others = notifications.elsewhere(request.user)
    response = JsonResponse(
        {
            "unread": own + sum(e.count for e in others),
            "portal": own,
            "elsewhere": [{"label": e.label, "url": e.url, "count": e.count} for e in others],
        }
    )
    response["Cache-Control"] = "private, no-store"
    return response
