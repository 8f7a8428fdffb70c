"""Time zones a person may choose: any IANA name the system knows, offered from a short list of
common ones (the profile page) and applied to every page they open (TimeZoneMiddleware)."""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

from django.utils.translation import pgettext_lazy

# Offered first in the profile's select; any other valid IANA name is accepted too.
COMMON = (
    "UTC",
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Kolkata",
    "Asia/Dubai",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Madrid",
    "Europe/Stockholm",
    "Europe/Moscow",
    "Africa/Johannesburg",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Australia/Sydney",
    "Pacific/Auckland",
)


# What the common zones are called for people (the IANA name stays the stored value); a zone
# outside this list is shown by its IANA name.
LABELS = {
    "UTC": pgettext_lazy("time zone", "UTC (coordinated universal time)"),
    "Asia/Shanghai": pgettext_lazy("time zone", "China (Shanghai)"),
    "Asia/Hong_Kong": pgettext_lazy("time zone", "Hong Kong"),
    "Asia/Taipei": pgettext_lazy("time zone", "Taipei"),
    "Asia/Singapore": pgettext_lazy("time zone", "Singapore"),
    "Asia/Tokyo": pgettext_lazy("time zone", "Japan (Tokyo)"),
    "Asia/Seoul": pgettext_lazy("time zone", "Korea (Seoul)"),
    "Asia/Kolkata": pgettext_lazy("time zone", "India (Kolkata)"),
    "Asia/Dubai": pgettext_lazy("time zone", "United Arab Emirates (Dubai)"),
    "Europe/London": pgettext_lazy("time zone", "United Kingdom (London)"),
    "Europe/Berlin": pgettext_lazy("time zone", "Germany (Berlin)"),
    "Europe/Paris": pgettext_lazy("time zone", "France (Paris)"),
    "Europe/Madrid": pgettext_lazy("time zone", "Spain (Madrid)"),
    "Europe/Stockholm": pgettext_lazy("time zone", "Sweden (Stockholm)"),
    "Europe/Moscow": pgettext_lazy("time zone", "Russia (Moscow)"),
    "Africa/Johannesburg": pgettext_lazy("time zone", "South Africa (Johannesburg)"),
    "America/New_York": pgettext_lazy("time zone", "US Eastern (New York)"),
    "America/Chicago": pgettext_lazy("time zone", "US Central (Chicago)"),
    "America/Denver": pgettext_lazy("time zone", "US Mountain (Denver)"),
    "America/Los_Angeles": pgettext_lazy("time zone", "US Pacific (Los Angeles)"),
    "America/Sao_Paulo": pgettext_lazy("time zone", "Brazil (São Paulo)"),
    "Australia/Sydney": pgettext_lazy("time zone", "Australia (Sydney)"),
    "Pacific/Auckland": pgettext_lazy("time zone", "New Zealand (Auckland)"),
}

# Files in the system's zoneinfo directory that are not zones a browser knows (a page that
# passed "localtime" to the browser's Intl API would fail with RangeError).
NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@lru_cache(maxsize=1)
def available() -> frozenset[str]:
    names = {
        name
        for name in zoneinfo.available_timezones()
        if name not in NOT_ZONES and not name.startswith(("posix/", "right/"))
    }
    return frozenset(names | {"UTC"})


def is_valid(name: str) -> bool:
    return name in available()


def zone(name: str) -> zoneinfo.ZoneInfo | None:
    """The zone named `name`, or None for a name the system does not know (a stored value from
    an older tz database must not turn into an error page)."""
    return zoneinfo.ZoneInfo(name) if name and is_valid(name) else None


def choices(current: str = "") -> list[tuple[str, str]]:
    """The select's options: the common zones, plus the person's own if it is another one."""
    names = list(COMMON)
    if current and current not in names and is_valid(current):
        names.append(current)
    return [(name, str(LABELS.get(name, name.replace("_", " ")))) for name in names]
