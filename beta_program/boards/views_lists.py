"""The boards a person sees, under the organisation they act for (/o/<slug>/ideas/)."""

from __future__ import annotations

from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from beta_program.boards.access import boards_for
from portal.models import Organisation
from portal.views import organisation_view


@require_GET
@organisation_view()
def index(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    boards = boards_for(request.user, organisation).annotate(
        idea_total=Count("ideas", filter=Q(ideas__merged_into__isnull=True))
    )
    return render(
        request,
        "beta_program/boards/index.html",
        {"organisation": organisation, "boards": list(boards)},
    )
