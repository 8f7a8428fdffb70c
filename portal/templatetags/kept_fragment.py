"""`{% kept url_name=request.resolver_match.url_name %}...{% endkept %}`: a piece of page chrome
(footer, sub-navigation, static links) rendered once per process for each language and each
set of the values it names, instead of on every page.

The body sees only the values named on the tag (in a new context): it cannot show anything of
the person or the page that is not in the key, so a kept piece is never shown to someone it was
not rendered for. Besides the named values the key holds what its `{% translate %}`,
`{% static %}` and `{% fixed_url %}` tags read: the language, the script prefix, the request's
URL conf and the static files storage with its manifest (a collectstatic run in the process is
a new manifest). With DEBUG on the body is rendered every time (templates are reloaded when
their files change).
"""

from __future__ import annotations

from django import template
from django.conf import STATICFILES_STORAGE_ALIAS, settings
from django.core.files.storage import storages
from django.template.base import FilterExpression, NodeList, Parser, Token
from django.urls import get_script_prefix, get_urlconf
from django.utils import translation
from django.utils.functional import LazyObject, empty
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# Distinct keys one tag keeps at most (languages x routes x small counts); past it, the tag
# starts again rather than growing without bound.
MAX_KEPT = 256
_KEPT_TYPES = (str, int, bool, type(None))


def _plain(value: object) -> object:
    """A context processor's lazy value as what it stands for: the key must not hold the lazy
    object (nor, through it, the request it was made for)."""
    if isinstance(value, LazyObject):
        # LazyObject's own protocol (not in django-stubs): set up once, then the wrapped value.
        if value._wrapped is empty:  # type: ignore[attr-defined]
            value._setup()  # type: ignore[attr-defined]
        return value._wrapped  # type: ignore[attr-defined]
    return value


def static_names() -> tuple[object, int]:
    """What the hashed static file names a render printed depend on: the static files storage
    and its manifest (a collectstatic run in the process loads a new one). For keys of HTML
    kept per process (here and `personal_header`)."""
    storage = storages[STATICFILES_STORAGE_ALIAS]
    return storage, id(getattr(storage, "hashed_files", None))


class KeptNode(template.Node):
    def __init__(self, nodelist: NodeList, values: dict[str, FilterExpression]) -> None:
        self.nodelist = nodelist
        self.values = values
        self.kept: dict[tuple[object, ...], SafeString] = {}

    def render(self, context: template.Context) -> SafeString:
        # A missing value (`parent.slug` without a parent) is None, as `{% with %}` would leave
        # it for an `{% if %}` in the body.
        values = {
            name: _plain(value.resolve(context, ignore_failures=True))
            for name, value in self.values.items()
        }
        if settings.DEBUG or not all(type(v) in _KEPT_TYPES for v in values.values()):
            # Only plain values make a key whose equality means "same output".
            return self._render(context, values)
        key = (
            translation.get_language(),
            get_script_prefix(),
            get_urlconf(),
            *static_names(),
            context.autoescape,
            tuple(values.items()),
        )
        html = self.kept.get(key)
        if html is None:
            html = self._render(context, values)
            if len(self.kept) >= MAX_KEPT:
                self.kept.clear()
            self.kept[key] = html
        return html

    def _render(self, context: template.Context, values: dict[str, object]) -> SafeString:
        # A new context with only the named values: the body cannot read the person or page.
        return mark_safe(self.nodelist.render(context.new(values)))  # noqa: S308 - rendered by the template engine


@register.tag("kept")
def do_kept(parser: Parser, token: Token) -> KeptNode:
    """`{% kept name=value ... %}body{% endkept %}`; every argument must be name=value."""
    bits = token.split_contents()[1:]
    values: dict[str, FilterExpression] = {}
    for bit in bits:
        name, sep, expression = bit.partition("=")
        if not sep or not name.isidentifier():
            raise template.TemplateSyntaxError(f"{{% kept %}} takes name=value, not {bit!r}")
        values[name] = parser.compile_filter(expression)
    nodelist = parser.parse(("endkept",))
    parser.delete_first_token()
    return KeptNode(nodelist, values)
