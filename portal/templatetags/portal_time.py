"""Relative times for people: one unit, rounded ("6 days ago", not "5 days, 20 hours ago")."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.translation import get_language, npgettext
from django.utils.translation import gettext as _

register = template.Library()

MINUTE = 60
# (unit, length in seconds), largest first; months and years as Django's timesince counts
# them on average.
_UNITS = (
    ("year", 365 * 86400),
    ("month", 30 * 86400),
    ("week", 7 * 86400),
    ("day", 86400),
    ("hour", 3600),
    ("minute", MINUTE),
)


def rounded_age(seconds: float) -> tuple[str, int]:
    """The one unit and rounded count that name an age of `seconds` (at least a minute)."""
    for index, (unit, length) in enumerate(_UNITS):
        if seconds >= length or unit == "minute":
            count = max(1, round(seconds / length))
            bigger = _UNITS[index - 1] if index else None
            if bigger is not None and count * length >= bigger[1]:
                return bigger[0], 1
            return unit, count
    raise AssertionError("unreachable")


def _age(value: datetime | None, now: datetime) -> tuple[str, int] | None:
    """What `ago` names: None for no time, ("", 0) for under a minute, else unit and count."""
    if value is None:
        return None
    seconds = (now - value).total_seconds()
    return ("", 0) if seconds < MINUTE else rounded_age(seconds)


# (language, unit, count) -> phrase. Catalogues do not change while the process runs, and a
# list page's rows otherwise walked them for each distinct age on every page (about 7% of a
# community list page's CPU). Few keys: six units, small counts, a handful of languages.
_PHRASES: dict[tuple[str | None, str, int], str] = {}
_PHRASES_MAX = 4096


def _phrase(age: tuple[str, int] | None) -> str:
    if age is None:
        return ""
    key = (get_language(), *age)
    phrase = _PHRASES.get(key)
    if phrase is None:
        unit, count = age
        phrase = _("just now") if not unit else _AGES[unit](count) % {"num": count}
        if len(_PHRASES) < _PHRASES_MAX:
            _PHRASES[key] = phrase
    return phrase


@register.filter
def ago(value: datetime | None, now: datetime | None = None) -> str:
    return _phrase(_age(value, now or timezone.now()))


def ages(values: Iterable[datetime | None], now: datetime | None = None) -> list[str]:
    """`ago` of each value against one `now` (one clock read for a list's rows; each phrase is
    translated once per process by `_phrase`)."""
    now = now or timezone.now()
    return [_phrase(_age(value, now)) for value in values]


# Whole phrases, not Django's unit words plus "ago": Chinese says "6天前", "1个月前", where
# Django's catalogue gives "6 日" + "前" ("6 日前" reads as a date, not an age).
_AGES = {
    "year": lambda n: npgettext("age", "%(num)d year ago", "%(num)d years ago", n),
    "month": lambda n: npgettext("age", "%(num)d month ago", "%(num)d months ago", n),
    "week": lambda n: npgettext("age", "%(num)d week ago", "%(num)d weeks ago", n),
    "day": lambda n: npgettext("age", "%(num)d day ago", "%(num)d days ago", n),
    "hour": lambda n: npgettext("age", "%(num)d hour ago", "%(num)d hours ago", n),
    "minute": lambda n: npgettext("age", "%(num)d minute ago", "%(num)d minutes ago", n),
}
