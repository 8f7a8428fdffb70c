"""The top bar kept rendered per person (portal/templatetags/personal_header.py): rendered once
per person and variant, the page's own values (CSRF token, the language forms' `next`) put in
for each page, and rendered again as soon as something it shows changes."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.test.utils import override_settings

from portal import person_cache
from portal.models import Membership, Role
from tests.factories import MembershipFactory, OrganisationFactory
from tests.static_manifest import rename_static_file

pytestmark = pytest.mark.django_db

HEADER_TEMPLATE = "portal/includes/header.html"


def _page(client, path: str, **headers: str) -> tuple[str, bool]:
    """(the page's top bar, whether the top bar's template was rendered for it)."""
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    html = response.content.decode()
    rendered = HEADER_TEMPLATE in [t.name for t in response.templates]
    return html[html.index("<header") : html.index("</header>")], rendered


def _next_fields(header: str) -> list[str]:
    return re.findall(r'<input name="next" type="hidden" value="([^"]*)">', header)


def _csrf_fields(header: str) -> list[str]:
    return re.findall(r'name="csrfmiddlewaretoken" value="([^"]*)"', header)


def test_the_top_bar_is_rendered_once_then_kept(client, member_a):
    client.force_login(member_a)
    first, rendered_first = _page(client, "/o/acme/")
    again, rendered_again = _page(client, "/o/acme/")
    assert (rendered_first, rendered_again) == (True, False)
    assert _csrf_fields(first) != _csrf_fields(again)  # fresh per page, as before
    assert re.sub(r'value="\w{64}"', "", first) == re.sub(r'value="\w{64}"', "", again)


def test_each_page_gets_its_own_address_and_a_working_csrf_token(member_a):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member_a)
    _page(client, "/o/acme/members/")
    header, rendered = _page(client, "/o/acme/members/?page=2&q=a<b")
    assert not rendered
    assert _next_fields(header) == ["/o/acme/members/?page=2&amp;q=a%3Cb"]
    tokens = _csrf_fields(header)  # the language form's and the sign-out form's
    assert len(tokens) == 2
    assert len(tokens[0]) == 64
    response = client.post(
        "/i18n/setlang/", {"language": "en", "next": "/o/acme/", "csrfmiddlewaretoken": tokens[0]}
    )
    assert (response.status_code, response["Location"]) == (302, "/o/acme/")


def test_a_new_name_shows_on_the_next_page(client, member_a):
    client.force_login(member_a)
    assert "<summary>Mia Muster</summary>" not in _page(client, "/o/acme/")[0]
    member_a.first_name, member_a.last_name = "Mia", "Muster"
    member_a.save()
    assert "<summary>Mia Muster</summary>" in _page(client, "/o/acme/")[0]


def test_a_new_e_mail_address_shows_where_there_is_no_name(client, member_a):
    member_a.first_name = member_a.last_name = ""
    member_a.save()
    client.force_login(member_a)
    assert "<summary>member@acme.example</summary>" in _page(client, "/o/acme/")[0]
    member_a.email = "mia@acme.example"
    member_a.save(update_fields=["email"])
    assert "<summary>mia@acme.example</summary>" in _page(client, "/o/acme/")[0]


def test_a_login_time_update_keeps_the_top_bar(client, member_a):
    client.force_login(member_a)
    _page(client, "/o/acme/")
    member_a.save(update_fields=["last_login"])
    assert _page(client, "/o/acme/")[1] is False


def test_becoming_staff_shows_the_admin_link(client, member_a, enable_totp):
    enable_totp(member_a)
    client.force_login(member_a)
    assert ">Admin</a>" not in _page(client, "/o/acme/")[0]
    member_a.is_staff = True
    member_a.save()
    assert ">Admin</a>" in _page(client, "/o/acme/")[0]


def test_a_second_membership_brings_the_switcher_and_leaving_takes_it(client, member_a):
    client.force_login(member_a)
    assert '<details class="switcher"' not in _page(client, "/o/acme/")[0]
    other = OrganisationFactory(name="Baltic Wind", slug="baltic")
    MembershipFactory(user=member_a, organisation=other, role=Role.VIEWER)
    header = _page(client, "/o/acme/")[0]
    assert '<details class="switcher"' in header
    assert ">Baltic Wind</a>" in header
    Membership.objects.get(user=member_a, organisation=other).delete()
    assert '<details class="switcher"' not in _page(client, "/o/acme/")[0]


def test_a_renamed_organisation_shows_its_new_name(client, consultant, org_b):
    client.force_login(consultant)
    assert ">Globex Power</a>" in _page(client, "/o/acme/")[0]
    org_b.name = "Globex Energy"
    org_b.save()
    header = _page(client, "/o/acme/")[0]
    assert ">Globex Energy</a>" in header
    assert "Globex Power" not in header


def test_each_organisation_leads_its_own_pages(client, consultant):
    client.force_login(consultant)
    acme, globex = _page(client, "/o/acme/")[0], _page(client, "/o/globex/")[0]
    assert '<summary title="Organisation">Acme Solar</summary>' in acme
    assert '<summary title="Organisation">Globex Power</summary>' in globex
    assert 'href="/o/globex/orders/"' in globex
    assert 'href="/o/acme/orders/"' not in globex


def test_the_current_menu_entry_and_route_follow_the_page(client, member_a):
    client.force_login(member_a)
    dashboard = _page(client, "/o/acme/")[0]
    assert 'href="/o/acme/" aria-current="page">Dashboard' in dashboard
    members = _page(client, "/o/acme/members/")[0]
    assert 'href="/o/acme/" aria-current="page"' not in members
    assert 'href="/o/acme/members/" aria-current="page">Team' in members
    orders = _page(client, "/o/acme/orders/")[0]
    assert '<summary class="is-current">Carbon</summary>' in orders
    assert 'href="/o/acme/orders/" aria-current="page">Orders' in orders
    assert '<summary class="is-current">' not in _page(client, "/o/acme/members/")[0]


def test_a_menu_entry_that_changes_with_more_than_the_page_shows_at_once(client, member_a):
    # given a plugin's menu hook whose entry depends on something besides the organisation
    from wagtail import hooks

    label = {"now": "Field trials"}

    def trials_nav(request, org_slug):
        return [{"label": label["now"], "url": f"/o/{org_slug}/trials/"}]

    client.force_login(member_a)
    with hooks.register_temporarily("greenloop_nav_items", trials_nav):
        assert '<a href="/o/acme/trials/">Field trials</a>' in _page(client, "/o/acme/")[0]
        # when the entry changes, then the next page shows the new one, not the kept top bar
        label["now"] = "Pilot sites"
        header = _page(client, "/o/acme/")[0]
    assert '<a href="/o/acme/trials/">Pilot sites</a>' in header
    assert "Field trials" not in header


def test_each_language_has_its_own_top_bar(client, member_a):
    client.force_login(member_a)
    assert ">Sign out</button>" in _page(client, "/o/acme/", accept_language="en")[0]
    chinese = _page(client, "/o/acme/", accept_language="zh-hans")[0]
    assert ">Sign out</button>" not in chinese
    assert ">退出登录</button>" in chinese


def test_a_top_bar_rendered_before_a_change_is_never_shown_after_it(member_a):
    # given a page that read the person's entries, then a change committed while it rendered
    kept = person_cache.kept_headers(member_a.pk)
    person_cache.forget([member_a.pk])
    person_cache.keep_header(member_a.pk, kept, "any", "<header>stale</header>")
    # then the next read finds nothing kept for that variant
    assert person_cache.kept_headers(member_a.pk).variants == {}


def test_new_static_file_names_render_the_top_bar_again(client, member_a, monkeypatch):
    # given a kept top bar
    client.force_login(member_a)
    _page(client, "/o/acme/")
    assert _page(client, "/o/acme/")[1] is False
    # when collectstatic gives the bell icon a new hashed name: a new manifest (the manifest
    # storage's `hashed_files`, replaced by collectstatic), from which `url` answers
    rename_static_file(monkeypatch, "portal/img/bell.svg", "portal/img/bell.new.svg")
    # then the next page renders its top bar with it
    header, rendered = _page(client, "/o/acme/")
    assert rendered is True
    assert 'src="/static/portal/img/bell.new.svg"' in header


def test_a_new_static_storage_gets_a_top_bar_with_its_file_names(client, member_a):
    # given a member whose top bar is kept, its logo under /static/
    client.force_login(member_a)
    assert 'src="/static/portal/img/logo.svg"' in _page(client, "/o/acme/")[0]
    # when the static files are served from elsewhere (a new storage: another deployment)
    with override_settings(STATIC_URL="/assets/"):
        header, rendered = _page(client, "/o/acme/")
    # then the top bar is rendered again with the new names
    assert rendered is True
    assert 'src="/assets/portal/img/logo.svg"' in header
    assert 'src="/assets/portal/img/bell.svg"' in header
