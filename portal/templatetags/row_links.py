"""`{% row_url 'carbon:order_detail' org_slug=organisation.slug order_id=order.pk %}`: as
`{% url %}`, for links repeated on every row of a list. The route is reversed once per template
render (portal.row_links.RowLinks) and the last argument filled in for each row.

`{% fixed_url 'portal:profile' %}`: as `{% url %}`, for the links of the page chrome (header,
menus), reversed once per process (portal.row_links.fixed_reverse)."""

from __future__ import annotations

from django import template

from portal.row_links import RowLinks, fixed_reverse

register = template.Library()

_KEY = "portal.row_links"


@register.simple_tag(takes_context=True)
def row_url(context: template.Context, name: str, **kwargs: object) -> str:
    links = context.render_context.get(_KEY)
    if links is None:
        links = context.render_context[_KEY] = RowLinks()
    return links.url(name, **kwargs)


@register.simple_tag
def fixed_url(name: str, **kwargs: object) -> str:
    return fixed_reverse(name, **kwargs)
