"""Beta page blocks ("open programmes", "my betas") on staff-built pages: each viewer sees what
their organisation's Beta page lists, signed-out visitors a sign-in prompt, and nothing of
another organisation's or a planned programme."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from django.utils import translation

from beta_program.programmes import actions
from beta_program.programmes.blocks import MyBetasBlock, OpenProgrammesBlock
from beta_program.programmes.models import ProgrammeStatus
from portal.context_processors import CURRENT_ORG_SESSION_KEY
from portal.home.models import HomePage
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def render(block, user, *, heading: str = "", count: int = 5, org_slug: str = "") -> str:
    request = RequestFactory().get("/welcome/")
    request.user = user
    request.session = SessionStore()
    if org_slug:
        request.session[CURRENT_ORG_SESSION_KEY] = org_slug
    value = block.to_python({"heading": heading, "count": count})
    return block.render(value, context={"request": request})


@pytest.fixture
def programmes(make_programme, product, org_a, admin_a, org_b, member_b):
    """Acme takes part in "Monitor app beta"; Globex applied to a confidential firmware beta that
    no longer recruits; "Inverter beta" recruits; "Future beta" is still planned."""
    monitor = make_programme()
    actions.submit_application(monitor, org_a, admin_a, {})
    firmware = make_programme("firmware-beta", name="Secret firmware beta", confidentiality="nda")
    actions.submit_application(firmware, org_b, member_b, {})
    actions.change_status(firmware, ProgrammeStatus.RUNNING, product)
    make_programme("inverter-beta", name="Inverter beta")
    make_programme("future-beta", status=ProgrammeStatus.PLANNING, name="Future beta")
    return monitor


def test_open_programmes_list_what_the_organisation_may_apply_to(programmes, admin_a):
    html = render(OpenProgrammesBlock(), admin_a)
    assert "Open beta programmes" in html
    assert 'href="/o/acme/beta/p/inverter-beta/"' in html
    assert "Monitor app beta" not in html  # already in it: under "my betas"
    assert "Secret firmware beta" not in html
    assert "Future beta" not in html
    assert 'href="/o/acme/beta/"' in html


def test_my_betas_list_the_organisations_programmes_with_their_status(programmes, admin_a):
    html = render(MyBetasBlock(), admin_a, heading="Your pilots")
    assert "Your pilots" in html
    assert 'href="/o/acme/beta/p/monitor-beta/"' in html
    assert "Accepted" in html
    assert "Inverter beta" not in html
    assert "Secret firmware beta" not in html


def test_another_organisation_sees_only_its_own(programmes, member_b):
    mine = render(MyBetasBlock(), member_b)
    assert 'href="/o/globex/beta/p/firmware-beta/"' in mine
    assert "Monitor app beta" not in mine
    open_ = render(OpenProgrammesBlock(), member_b)
    assert "Inverter beta" in open_
    assert "Monitor app beta" in open_  # recruiting and open to Globex too
    assert "Secret firmware beta" not in open_


def test_the_block_acts_for_the_organisation_picked_in_the_switcher(programmes, member_b, org_a):
    MembershipFactory(user=member_b, organisation=org_a, role="member")
    html = render(MyBetasBlock(), member_b, org_slug="acme")
    assert 'href="/o/acme/beta/p/monitor-beta/"' in html
    assert "Secret firmware beta" not in html


def test_signed_out_visitors_get_a_sign_in_prompt_only(programmes):
    html = render(OpenProgrammesBlock(), AnonymousUser())
    assert "Sign in to see the beta programmes open to your organisation." in html
    assert "/accounts/login/?next=%2Fwelcome%2F" in html
    assert "Inverter beta" not in html


def test_someone_without_an_organisation_sees_nothing(programmes, product):
    assert render(MyBetasBlock(), product).strip() == ""


def test_in_chinese(programmes, admin_a):
    with translation.override("zh-hans"):
        html = render(MyBetasBlock(), admin_a)
    assert "我的测试项目" in html


def test_the_home_page_offers_the_blocks():
    names = HomePage._meta.get_field("body").stream_block.child_blocks
    assert isinstance(names["beta_open_programmes"], OpenProgrammesBlock)
    assert isinstance(names["beta_my_betas"], MyBetasBlock)


def test_queries_are_bounded(programmes, admin_a, make_programme, django_assert_max_num_queries):
    for n in range(6):
        make_programme(f"more-{n}", name=f"More {n}")
    with django_assert_max_num_queries(6):
        html = render(OpenProgrammesBlock(), admin_a, count=20)
    assert html.count('href="/o/acme/beta/p/') == 7
