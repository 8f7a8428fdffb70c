"""A server process gathers its routes in every language and compiles the project's templates
before it serves a page (portal.warmup, run by portal.wsgi)."""

from __future__ import annotations

import importlib
import sys

from django.urls import get_resolver

from portal import warmup
from portal.warmup import page_templates, warm_up


def test_every_project_template_compiles_and_the_routes_are_gathered_in_each_language():
    names = page_templates()
    assert "community/includes/post.html" in names
    assert "portal/dashboard.html" in names
    assert any(name.startswith("beta_program/programmes/") for name in names)
    assert any(name.startswith("carbon/") for name in names)
    assert warm_up() == len(names)  # none fails to compile
    assert {"en", "zh-hans"} <= set(get_resolver()._reverse_dict)


def test_the_wsgi_application_warms_up_before_it_is_served(monkeypatch):
    calls = []
    monkeypatch.setattr(warmup, "warm_up", lambda: calls.append(True) or 0)
    monkeypatch.delitem(sys.modules, "portal.wsgi", raising=False)
    wsgi = importlib.import_module("portal.wsgi")
    assert calls == [True]
    assert callable(wsgi.application)
