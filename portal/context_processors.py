from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from portal.models import Organisation

CURRENT_ORG_SESSION_KEY = "greenloop_current_org"


def portal(request: HttpRequest) -> dict:
    """Organisations for the switcher; loaded lazily so public pages cost no query."""
    user = getattr(request, "user", None)

    def organisations():
        if user is None or not user.is_authenticated:
            return []
        return list(Organisation.objects.for_member(user).only("name", "slug"))

    return {
        "my_organisations": SimpleLazyObject(organisations),
        "current_org_slug": request.session.get(CURRENT_ORG_SESSION_KEY)
        if hasattr(request, "session")
        else None,
        "is_demo": getattr(settings, "GREENLOOP_IS_DEMO", False),
    }
