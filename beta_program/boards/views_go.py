"""/ideas/<id>/: the link notifications and e-mails carry. It opens the idea under the
organisation the person acted for last if that one sees it, else under the first of theirs
that does; 404 when none does (as if the idea did not exist)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from beta_program.boards.access import ideas_for
from portal.context_processors import CURRENT_ORG_SESSION_KEY
from portal.models import Organisation


@require_GET
@login_required
def go(request: HttpRequest, idea_id: int) -> HttpResponse:
    if not 0 < idea_id < 2**63:
        raise Http404("No such idea.")
    organisations = list(Organisation.objects.for_user(request.user).order_by("name")[:50])
    last = request.session.get(CURRENT_ORG_SESSION_KEY)
    organisations.sort(key=lambda o: o.slug != last)
    for organisation in organisations:
        if ideas_for(request.user, organisation).filter(pk=idea_id).exists():
            return redirect("beta:idea", org_slug=organisation.slug, idea_id=idea_id)
    raise Http404("No such idea.")
