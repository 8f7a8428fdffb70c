"""The per-person cache of every page's top bar and 2FA rule (portal/person_cache.py): read once,
then answered from the cache, and forgotten as soon as a membership or an organisation changes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal import actions
from portal.models import Membership, Role
from tests.factories import MembershipFactory, OrganisationFactory

pytestmark = pytest.mark.django_db

ACTIVATE_TOTP = reverse("mfa_activate_totp")


def _dashboard(org) -> str:
    return reverse("portal:org_dashboard", kwargs={"org_slug": org.slug})


def _switcher(client, org) -> list[str]:
    """The organisations the top bar's switcher links to (its menu of links)."""
    import re

    page = client.get(_dashboard(org))
    assert page.status_code == 200
    html = page.content.decode()
    if '<details class="switcher"' not in html:
        return []
    menu = html.split('<details class="switcher"', 1)[1].split("</details>", 1)[0]
    return re.findall(r'<a href="/o/[^/]+/"[^>]*>([^<]*)</a>', menu)


# --- the 2FA requirement


def test_the_requirement_is_read_once_then_answered_from_the_cache(client, org_a, member_a):
    # given a member who has opened a page once
    client.force_login(member_a)
    assert client.get(_dashboard(org_a)).status_code == 200
    # when they open it again
    with CaptureQueriesContext(connection) as queries:
        assert client.get(_dashboard(org_a)).status_code == 200
    # then no query asks whether one of their organisations requires 2FA
    asking = [q["sql"] for q in queries if '"portal_organisation"."require_mfa")' in q["sql"]]
    assert asking == []


def test_an_organisation_requiring_2fa_applies_on_its_members_next_page(
    client, org_a, admin_a, member_a
):
    # given a member whose page (without any 2FA rule) is cached
    client.force_login(member_a)
    assert client.get(_dashboard(org_a)).status_code == 200
    # when their admin requires 2FA
    actions.set_require_mfa(org_a, True, by=admin_a)
    # then the member's next page sends them to set it up
    response = client.get(_dashboard(org_a))
    assert (response.status_code, response["Location"]) == (302, ACTIVATE_TOTP)
    # and when the admin lifts the requirement, the member gets in again
    actions.set_require_mfa(org_a, False, by=admin_a)
    assert client.get(_dashboard(org_a)).status_code == 200


def test_joining_an_organisation_that_requires_2fa_applies_at_once(client, org_a, member_a):
    # given a member whose page is cached, and another organisation that requires 2FA
    strict = OrganisationFactory(name="Strict Grid AG", slug="strict", require_mfa=True)
    client.force_login(member_a)
    assert client.get(_dashboard(org_a)).status_code == 200
    # when they become a member of it
    MembershipFactory(user=member_a, organisation=strict, role=Role.VIEWER)
    # then their next page asks for 2FA, naming it
    response = client.get(_dashboard(org_a))
    assert (response.status_code, response["Location"]) == (302, ACTIVATE_TOTP)
    page = client.get(reverse("account_email"))
    assert "Strict Grid AG requires two-factor authentication." in page.content.decode()


def test_leaving_the_organisation_that_required_2fa_lifts_it(client, org_a, admin_a, member_a):
    # given a member of Acme and of an organisation that requires 2FA, sent to set it up
    strict = OrganisationFactory(name="Strict Grid AG", slug="strict", require_mfa=True)
    membership = MembershipFactory(user=member_a, organisation=strict, role=Role.VIEWER)
    client.force_login(member_a)
    assert client.get(_dashboard(org_a)).status_code == 302
    # when that membership ends
    membership.delete()
    # then Acme's pages open again
    assert client.get(_dashboard(org_a)).status_code == 200


# --- the organisation switcher


def test_the_switcher_follows_memberships_and_names(client, org_a, org_b, admin_a, member_a):
    # given a member of Acme and Globex whose switcher is cached
    MembershipFactory(user=member_a, organisation=org_b, role=Role.VIEWER)
    client.force_login(member_a)
    assert _switcher(client, org_a) == ["Acme Solar", "Globex Power"]
    # when they join a third organisation, it is listed on the next page
    third = OrganisationFactory(name="Baltic Wind", slug="baltic")
    MembershipFactory(user=member_a, organisation=third, role=Role.VIEWER)
    assert _switcher(client, org_a) == ["Acme Solar", "Baltic Wind", "Globex Power"]
    # when Globex is renamed, the new name is listed
    org_b.name = "Globex Energy"
    org_b.save()
    assert _switcher(client, org_a) == ["Acme Solar", "Baltic Wind", "Globex Energy"]
    # when their Globex membership ends, Globex is gone from the list
    Membership.objects.get(user=member_a, organisation=org_b).delete()
    assert _switcher(client, org_a) == ["Acme Solar", "Baltic Wind"]
    # and a deactivated organisation is not offered either
    third.is_active = False
    third.save()
    page = client.get(_dashboard(org_a))
    assert '<details class="switcher"' not in page.content.decode()


def test_the_switcher_is_read_once_then_answered_from_the_cache(client, org_a, org_b, member_a):
    # given a member of two organisations who has opened a page once
    MembershipFactory(user=member_a, organisation=org_b, role=Role.VIEWER)
    client.force_login(member_a)
    assert _switcher(client, org_a) == ["Acme Solar", "Globex Power"]
    # when they open it again
    with CaptureQueriesContext(connection) as queries:
        assert _switcher(client, org_a) == ["Acme Solar", "Globex Power"]
    # then no query lists their organisations by name for it
    listing = [
        q["sql"]
        for q in queries
        if 'SELECT DISTINCT "portal_organisation"."name", "portal_organisation"."slug"' in q["sql"]
    ]
    assert listing == []
