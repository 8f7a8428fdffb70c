"""Links for the rows of a list, built from one reverse() per kind of link.

A list of 50 rows with three links each used to reverse 150 URLs, each walking the URL
resolver's patterns. `RowLinks` reverses each route once with a placeholder in the argument
that changes from row to row, then fills the row's value in, quoted as reverse() quotes it.
"""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

# What reverse() leaves unquoted in a path (django.urls.resolvers): substitutes are quoted alike.
_PATH_SAFE = "!$&'()*+,;=/~:@"
_NUMBER = "987654321"
_TEXT = "row-link-placeholder"


class RowLinks:
    """`links.url("carbon:order_detail", org_slug=slug, order_id=order.pk)` for each row: the
    last argument given changes from row to row, the others are the same for the whole list."""

    def __init__(self) -> None:
        self._templates: dict[tuple, tuple[str, str]] = {}

    def url(self, name: str, **kwargs: object) -> str:
        varying = list(kwargs)[-1]
        value = kwargs[varying]
        fixed = tuple(sorted((k, str(v)) for k, v in kwargs.items() if k != varying))
        key = (name, varying, fixed)
        template = self._templates.get(key)
        if template is None:
            placeholder = _NUMBER if isinstance(value, int) else _TEXT
            path = reverse(name, kwargs={**dict(fixed), varying: placeholder})
            template = (path, placeholder)
            self._templates[key] = template
        path, placeholder = template
        return path.replace(placeholder, quote(str(value), safe=_PATH_SAFE), 1)


# Process-wide: (URLconf, script prefix, route name, arguments) -> path. A route's path depends
# on nothing else (the project has no language prefixes), so the page chrome's links are
# reversed once per process instead of on every page.
_FIXED: dict[tuple, str] = {}
# Routes whose arguments vary (an organisation's slug) add entries; past this many the memo
# starts again rather than grow without bound.
_FIXED_MAX = 4096


def fixed_reverse(name: str, **kwargs: object) -> str:
    """`reverse(name, kwargs=kwargs)`, kept for the process."""
    key = (
        get_urlconf() or settings.ROOT_URLCONF,
        get_script_prefix(),
        name,
        tuple(sorted((k, str(v)) for k, v in kwargs.items())),
    )
    path = _FIXED.get(key)
    if path is None:
        if len(_FIXED) >= _FIXED_MAX:
            _FIXED.clear()
        path = _FIXED[key] = reverse(name, kwargs=kwargs or None)
    return path
