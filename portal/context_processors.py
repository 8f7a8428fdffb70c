from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from wagtail import hooks

from portal.models import Organisation

CURRENT_ORG_SESSION_KEY = "greenloop_current_org"
# Plugins add top-bar links: a function (request, org_slug) -> [{"label": ..., "url": ...}].
NAV_HOOK = "greenloop_nav_items"


def portal(request: HttpRequest) -> dict:
    """Organisations for the switcher; loaded lazily so public pages cost no query."""
    user = getattr(request, "user", None)

    def organisations():
        if user is None or not user.is_authenticated:
            return []
        return list(Organisation.objects.for_member(user).only("name", "slug"))

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
        "my_organisations": my_organisations,
        "current_org_slug": current,
        "is_demo": getattr(settings, "GREENLOOP_IS_DEMO", False),
    }
