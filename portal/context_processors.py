from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from portal import person_cache

CURRENT_ORG_SESSION_KEY = "greenloop_current_org"
# Plugins add top-bar links: a function (request, org_slug) -> [{"label": ..., "url": ...}],
# optionally with "group": one of NAV_GROUPS, under whose menu the link then sits (so the top
# bar keeps to one row on a laptop however many plugins add links).
NAV_HOOK = "greenloop_nav_items"
NAV_GROUPS = {"carbon": _("Carbon"), "cocreation": _("Co-creation")}


def group_nav(items: list[dict], path: str) -> list[dict]:
    """The top bar's entries: plain links, and one menu per group at its first link's place.
    An entry is current when the page is at or under its URL."""
    entries: list[dict] = []
    groups: dict[str, dict] = {}
    for item in items:
        item = {**item, "current": bool(item["url"]) and path.startswith(item["url"])}
        key = item.get("group")
        if key not in NAV_GROUPS:
            entries.append(item)
            continue
        if key not in groups:
            groups[key] = {"label": NAV_GROUPS[key], "links": [], "current": False}
            entries.append(groups[key])
        groups[key]["links"].append(item)
        groups[key]["current"] = groups[key]["current"] or item["current"]
    return entries


def portal(request: HttpRequest) -> dict:
    """Organisations for the switcher; loaded lazily so public pages cost no query."""
    user = getattr(request, "user", None)

    def organisations():
        if user is None or not user.is_authenticated:
            return []
        # Kept per person in the shared cache, forgotten when a membership or one of the
        # organisations changes (portal.person_cache).
        return person_cache.switcher_organisations(user.pk)

    my_organisations = SimpleLazyObject(organisations)

    def current_org_slug():
        # The organisation of the page being shown, else the one last picked in the switcher,
        # else the person's first (as the dashboard link picks). Opening a page never changes
        # the session (GET never writes); only the switcher's POST does.
        shown = getattr(request, "organisation", None)
        if shown is not None:
            return shown.slug
        if user is None or not user.is_authenticated:
            return None
        picked = request.session.get(CURRENT_ORG_SESSION_KEY)
        if picked:
            return picked
        return my_organisations[0].slug if my_organisations else None

    current = SimpleLazyObject(current_org_slug)

    def nav_items():
        slug = current_org_slug()
        if user is None or not user.is_authenticated or not slug:
            return []
        items = []
        for provider in hooks.get_hooks(NAV_HOOK):
            items.extend(provider(request, slug))
        return items

    return {
        "nav_items": SimpleLazyObject(nav_items),
        "nav_menu": SimpleLazyObject(lambda: group_nav(list(nav_items()), request.path)),
        "my_organisations": my_organisations,
        "current_org_slug": current,
        "is_demo": getattr(settings, "GREENLOOP_IS_DEMO", False),
    }
