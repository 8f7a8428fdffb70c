"""The floor the community benchmark compares its pages with: the project's own URLs plus two
pages that do next to nothing, served through the same settings and middleware stack.

- a trivial view: a plain-text response;
- the bare base template: `base.html` with nothing in its content block, rendered with the
  request (context processors, navigation and organisation switcher included), as every portal
  page is.

Used only by bench/community_lists.py, as ROOT_URLCONF while it measures pages in process.
"""

from __future__ import annotations

from importlib import import_module

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

TRIVIAL = "/bench-floor/trivial/"
BASE_TEMPLATE = "/bench-floor/base-template/"


def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@login_required
def base_template(request: HttpRequest) -> HttpResponse:
    return render(request, "base.html", {})


# The benchmark sets ROOT_URLCONF to this module; the project's own patterns and error handlers
# follow the floor's two pages.
_project = import_module("portal.urls")
urlpatterns = [
    path(TRIVIAL.strip("/") + "/", trivial),
    path(BASE_TEMPLATE.strip("/") + "/", base_template),
    *_project.urlpatterns,
]
for _handler in ("handler400", "handler403", "handler404", "handler429", "handler500"):
    if hasattr(_project, _handler):
        globals()[_handler] = getattr(_project, _handler)
