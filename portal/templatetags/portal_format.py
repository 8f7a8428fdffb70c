"""Stored codes written for people in the active language."""

from __future__ import annotations

from django import template
from django_countries import countries

register = template.Library()


@register.filter
def country_name(code: str | None) -> str:
    """An ISO 3166-1 alpha-2 code as the country's name ("CN" -> "China", "中国"); a code no
    country has is shown as stored."""
    if not code:
        return ""
    return str(countries.name(code.upper())) or code
