"""The idea page, under the organisation the person acts for (/o/<slug>/ideas/<id>/). An idea
on a board the organisation may not see answers 404, as if it did not exist; a merged duplicate
redirects to its primary."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from beta_program.boards.access import idea_or_404
from portal import markdown
from portal.models import Organisation
from portal.views import organisation_view


@require_GET
@organisation_view()
def idea(request: HttpRequest, organisation: Organisation, idea_id: int) -> HttpResponse:
    found = idea_or_404(request.user, organisation, idea_id)
    if found.merged_into_id is not None:
        return redirect("beta:idea", org_slug=organisation.slug, idea_id=found.merged_into_id)
    context = {
        "organisation": organisation,
        "idea": found,
        "problem_html": markdown.render(found.problem),
        "solution_html": markdown.render(found.solution) if found.solution else "",
    }
    return render(request, "beta_program/boards/idea.html", context)
