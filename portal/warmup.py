"""What a new server process would otherwise do on its first pages, done before it serves one.

A fresh gunicorn worker's first page took about a second of CPU (measured in process on the
community benchmark's data: 1,070 ms, then 6 ms for the same page): the URL resolver gathers
every route of the site, Wagtail's admin included, for the reader's language, and the templates
are read and compiled. Its threads each did that work at once for the first pages they were
given, so the first readers after a deployment or a worker restart waited for it. `warm_up()`
runs it once, from portal.wsgi, before the process accepts a connection.
"""

from __future__ import annotations

from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.template.loader import get_template
from django.urls import get_resolver
from django.utils import translation

# The project's own apps: their templates are the pages readers open.
_APPS = ("portal", "carbon", "community", "beta_program")


def warm_up() -> int:
    """Gather the routes in every language and compile the project's templates; returns how
    many templates were compiled."""
    resolver = get_resolver()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):  # loads the language's catalogue too
            resolver.reverse_dict  # noqa: B018 - gathers the routes for this language
    compiled = 0
    for name in page_templates():
        try:
            get_template(name)
        except (TemplateDoesNotExist, TemplateSyntaxError):
            # Overridden or partial templates (a block file another template includes with a
            # context of its own) are compiled when they are first used, as before.
            continue
        compiled += 1
    return compiled


def page_templates() -> list[str]:
    names: list[str] = []
    for label in _APPS:
        root = Path(apps.get_app_config(label).path) / "templates"
        names.extend(
            str(path.relative_to(root)) for path in sorted(root.rglob("*.html")) if path.is_file()
        )
    return names
