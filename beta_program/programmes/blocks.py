"""StreamField blocks that put beta programmes on staff-built portal pages
(settings.GREENLOOP_PAGE_BLOCKS): "open programmes" and "my betas".

A page is one document for everyone, but these blocks are rendered per request, for the
organisation the viewer acts for (the one last picked in the switcher, else their first), and
list exactly what the Beta page lists for it (`access.my_and_open_programmes`): public fields
only, nothing in planning, nothing another organisation applied to. Signed-out visitors get a
sign-in prompt; someone without an organisation sees nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import resolve_url
from django.utils.translation import gettext_lazy as _
from wagtail import blocks

from beta_program.programmes.access import my_and_open_programmes
from portal.context_processors import CURRENT_ORG_SESSION_KEY
from portal.models import Organisation

MAX_PROGRAMMES = 20


def _viewer_organisation(request, user) -> Organisation | None:
    # As the top bar picks it; a slug left in the session that is no longer the person's own
    # falls back to their first organisation.
    organisations = Organisation.objects.for_member(user)
    picked = request.session.get(CURRENT_ORG_SESSION_KEY) if hasattr(request, "session") else None
    found = organisations.filter(slug=picked).first() if picked else None
    return found or organisations.first()


def _with_programmes(context: dict, value, parent_context: dict | None, mine: bool) -> dict:
    """Add `signed_in`, `show` (False: render nothing), `organisation`, `programmes` and, for
    signed-out visitors, `login_url` back to this page."""
    request = (parent_context or {}).get("request")
    user = getattr(request, "user", None)
    context.update(signed_in=False, show=False, organisation=None, programmes=[])
    if not (user is not None and user.is_authenticated):
        next_url = request.get_full_path() if request is not None else "/"
        context["login_url"] = f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': next_url})}"
        return context
    context["signed_in"] = True
    organisation = _viewer_organisation(request, user)
    if organisation is None:
        return context
    my, open_ = my_and_open_programmes(user, organisation)
    count = max(1, min(int(value.get("count") or 5), MAX_PROGRAMMES))
    context.update(show=True, organisation=organisation, programmes=(my if mine else open_)[:count])
    return context


class _ProgrammesBlock(blocks.StructBlock):
    """The two blocks differ only in which of the Beta page's lists they show (`mine`)."""

    mine = False

    heading = blocks.CharBlock(
        label=_("Heading"),
        required=False,
        max_length=120,
        help_text=_("Leave empty to use the block's own heading."),
    )
    count = blocks.IntegerBlock(
        label=_("Number of programmes"), min_value=1, max_value=MAX_PROGRAMMES, default=5
    )

    def get_context(self, value, parent_context: dict | None = None) -> dict[str, Any]:
        context = super().get_context(value, parent_context=parent_context)
        context["mine"] = self.mine
        return _with_programmes(context, value, parent_context, mine=self.mine)


class OpenProgrammesBlock(_ProgrammesBlock):
    class Meta:
        template = "beta_program/programmes/blocks/programmes.html"
        icon = "list-ul"
        label = _("Beta: open programmes")
        help_text = _(
            "Recruiting beta programmes the visitor's organisation may apply to, as on its Beta "
            "page; signed-out visitors see a sign-in prompt."
        )


class MyBetasBlock(_ProgrammesBlock):
    mine = True

    class Meta:
        template = "beta_program/programmes/blocks/programmes.html"
        icon = "tick"
        label = _("Beta: my betas")
        help_text = _(
            "The programmes the visitor's organisation applied to or takes part in, with the "
            "application's status; signed-out visitors see a sign-in prompt."
        )
