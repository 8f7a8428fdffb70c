"""Stored codes written for people in the active language."""

from __future__ import annotations

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django_countries import countries

register = template.Library()


@register.filter
def country_name(code: str | None) -> str:
    """An ISO 3166-1 alpha-2 code as the country's name ("CN" -> "China", "中国"); a code no
    country has is shown as stored."""
    if not code:
        return ""
    return str(countries.name(code.upper())) or code


@register.filter
def email_breaks(address: str | None) -> str:
    """An e-mail address that may wrap after its "@" and before a dot, never inside a word
    ("anna.schmidt@nordw|ind.example" is how `overflow-wrap: anywhere` breaks it)."""
    if not address:
        return ""
    # translate="no": an address is no word of the page's language (nor for the page checks,
    # which see its pieces between the <wbr> as separate texts).
    text = conditional_escape(address).replace("@", "@<wbr>").replace(".", "<wbr>.")
    return mark_safe(f'<span translate="no">{text}</span>')  # noqa: S308


@register.filter
def code_breaks(code: str | None) -> str:
    """A dotted code that may wrap before each dot, never inside a part
    ("hub.container_terminal<wbr>.temperature_controlled" is wider than a phone's card); the text
    copied is still the code as it is."""
    if not code:
        return ""
    text = conditional_escape(code).replace(".", "<wbr>.")
    return mark_safe(f'<span translate="no">{text}</span>')  # noqa: S308
