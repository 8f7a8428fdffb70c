"""`{% personal_header %}`: the top bar of every page (portal/includes/header.html), kept
rendered per person in the shared cache (portal.person_cache) instead of rendered on each page.

Rendering it took about half of a community list page's CPU: two language menus, a dozen links
and their translations, the organisation switcher. What it shows depends on the person (their
name, staff flag and organisations: their entries are forgotten when those change), and on the
page only through what the variant key below holds: the organisation leading the top bar, the
language, the menu the plugins give (entries, links, the current one), the route names the
template compares with, and whether the person must enrol a second factor first. The two
per-page values are put in after rendering: the CSRF token and the page's own address (the
language forms' `next`).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from django import template
from django.conf import settings
from django.template.loader import get_template
from django.templatetags.static import static
from django.urls import get_script_prefix
from django.utils import translation
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy, pgettext_lazy

from portal import person_cache
from portal.templatetags.kept_fragment import static_names

register = template.Library()

TEMPLATE = "portal/includes/header.html"
# The routes the template marks as the current page by name.
_NAMED_ROUTES = frozenset({"org_dashboard", "members", "notifications"})
# Stand-ins for the per-page values in the kept HTML: characters that neither a token nor an
# escaped address can contain, so nothing else is ever replaced.
_CSRF = "\x00csrf\x00"
_NEXT = "\x00next\x00"


@lru_cache(maxsize=8)
def _digest(source: str) -> str:
    return hashlib.blake2b(source.encode(), digest_size=8).hexdigest()


# What `_build` found, by what it depends on. In production nothing it reads changes while the
# process runs (the cached template loader keeps the template; the manifest storage reads its
# manifest once), so this is one entry per process; a new storage or manifest (settings
# changed, collectstatic run in the process) is a new key.
_built: dict[tuple[object, ...], tuple[str, str, str]] = {}


def _build() -> tuple[str, str, str]:
    """What the kept HTML depends on in this deployment: the template's source (reloaded in
    development) and the static files' hashed names (a new manifest must not serve the old
    top bar)."""
    if settings.DEBUG:
        # The template is reloaded when its file changes: read it every time.
        return _built_now()
    key = static_names()
    built = _built.get(key)
    if built is None:
        built = _built_now()
        _built.clear()  # the older key's storage or manifest is no longer in use
        _built[key] = built
    return built


def _built_now() -> tuple[str, str, str]:
    source = get_template(TEMPLATE).template.source  # type: ignore[attr-defined]
    return _digest(source), static("portal/img/logo.svg"), static("portal/img/bell.svg")


# The lazy translations plugins label their menu entries with (gettext_lazy, pgettext_lazy):
# each is its function's call on its arguments in the active language, so its text is kept
# per process by (kind, arguments, language) instead of looked up in the catalogue on every
# page (ten labels a page). Any other lazy object or string is turned to text each time.
_TRANSLATION_LAZIES = (type(gettext_lazy("")), type(pgettext_lazy("", "")))
_labels: dict[tuple[object, ...], str] = {}
MAX_LABELS = 1024


def _label(label: object, language: str) -> str:
    if settings.DEBUG or type(label) not in _TRANSLATION_LAZIES:
        # Catalogues are reloaded in development when a .mo file changes.
        return str(label)
    key = (type(label), label._args, language)  # type: ignore[attr-defined]
    text = _labels.get(key)
    if text is None:
        if len(_labels) >= MAX_LABELS:
            _labels.clear()
        text = _labels[key] = str(label)
    return text


def _variant(context: template.Context, request) -> str:
    organisation = context.get("organisation")
    shown = getattr(organisation, "slug", None) or context.get("current_org_slug")
    language = translation.get_language() or ""
    # The menu as shown, not only which entry is current: a plugin's menu hook that one day
    # depends on more than the organisation and language then gets its own kept top bar.
    menu = [
        (
            _label(entry.get("label", ""), language),
            entry.get("url", ""),
            bool(entry.get("current")),
            [
                (_label(link["label"], language), link["url"], bool(link["current"]))
                for link in entry.get("links", ())
            ],
        )
        for entry in context.get("nav_menu") or ()
    ]
    match = getattr(request, "resolver_match", None)
    route = match.url_name if match is not None and match.url_name in _NAMED_ROUTES else ""
    return repr(
        (
            str(shown) if shown else "",
            language,
            get_script_prefix(),
            route,
            menu,
            bool(getattr(request, "must_enrol_second_factor", False)),
            _build(),
        )
    )


def _render(context: template.Context, next_path: str, csrf_token: object) -> str:
    with context.push(header_next=next_path, csrf_token=csrf_token):
        return get_template(TEMPLATE).template.render(context)  # type: ignore[attr-defined]


@register.simple_tag(takes_context=True)
def personal_header(context: template.Context) -> SafeString:
    request = context.get("request")
    user = context.get("user")
    csrf_token = context.get("csrf_token")
    if (
        request is None
        or user is None
        or not user.is_authenticated
        # A page that names someone else `user` gets its top bar rendered, never kept.
        or getattr(request, "user", None) is not user
        # {% csrf_token %} leaves its field out without a token: nothing to put in.
        or not csrf_token
        or csrf_token == "NOTPROVIDED"  # noqa: S105 - the marker Django puts in, not a secret
    ):
        next_path = request.get_full_path() if request is not None else ""
        return mark_safe(_render(context, next_path, csrf_token))  # noqa: S308 - rendered by the template engine
    variant = _variant(context, request)
    kept = person_cache.kept_headers(user.pk)
    html = kept.variants.get(variant)
    if html is None:
        html = _render(context, _NEXT, _CSRF)
        person_cache.keep_header(user.pk, kept, variant, html)
    html = html.replace(_NEXT, conditional_escape(request.get_full_path()))
    html = html.replace(_CSRF, conditional_escape(str(csrf_token)))
    return mark_safe(html)  # noqa: S308 - rendered by the template engine, per-page values escaped
