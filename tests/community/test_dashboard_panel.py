"""The community's dashboard panel: the latest answers others gave to the questions the person
asked for the organisation whose dashboard it is."""

from __future__ import annotations

import pytest
from django.urls import reverse

from community import actions
from tests.community.conftest import settled

pytestmark = pytest.mark.django_db


def _dashboard(client, user, organisation) -> str:
    client.force_login(user)
    page = client.get(reverse("portal:org_dashboard", kwargs={"org_slug": organisation.slug}))
    assert page.status_code == 200
    return page.content.decode()


def test_the_panel_lists_others_answers_to_the_persons_questions(
    client, org_a, member_a, member_b, engineer, public_space, ask, django_assert_max_num_queries
):
    # given a question of member_a's, the engineer's answer and member_a's own thank-you
    settled(member_a)
    settled(member_b)
    question = ask(member_a, public_space, title="Where is the Scope 2 split?")
    actions.reply(engineer, question, body="Open the order and read **Scope 2**.")
    actions.reply(member_a, question, body="Thanks, found it.")
    # and someone else's answered question
    theirs = ask(member_b, public_space, title="Firmware 4.2 release date?")
    actions.reply(engineer, theirs, body="Next week.")

    # when member_a opens their dashboard
    client.force_login(member_a)
    url = reverse("portal:org_dashboard", kwargs={"org_slug": org_a.slug})
    # the whole dashboard: session, person, memberships, each panel (13 measured)
    with django_assert_max_num_queries(14):
        html = client.get(url).content.decode()

    # then the engineer's answer is listed, as plain text, and nothing else
    panel = html.split('id="panel-community-answers"')[1].split("</section>")[0]
    assert "Answers to your questions" in html
    assert "Where is the Scope 2 split?" in panel
    assert '<span class="small">Open the order and read Scope 2.</span>' in panel
    assert "Erik" in panel
    assert "Thanks, found it." not in panel
    assert "Firmware 4.2 release date?" not in panel
    assert f'href="/community/t/{question.pk}/#post-2"' in panel


def test_answers_to_a_question_for_another_organisation_stay_on_its_dashboard(
    client, org_a, org_b, consultant, engineer, public_space, ask
):
    # given a consultant of Acme and Globex whose question is filed under Acme (their first)
    settled(consultant)
    question = ask(consultant, public_space, title="Acme inverter alarm codes?")
    actions.reply(engineer, question, body="See the manual, chapter 7.")
    assert question.organisation == org_a

    # when they open Globex's dashboard, then Acme's dashboard
    globex = _dashboard(client, consultant, org_b)
    acme = _dashboard(client, consultant, org_a)

    # then only Acme's shows the answer
    assert "Acme inverter alarm codes?" not in globex
    assert "No answers to your questions yet." in globex
    assert "Acme inverter alarm codes?" in acme


def test_the_panel_is_translated(client, settings, org_a, member_a):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"

    html = _dashboard(client, member_a, org_a)

    assert "您的提问收到的回答" in html
    assert "您的提问尚未收到回答。" in html
    assert "向社区提问" in html


def test_an_answer_is_shown_as_escaped_text(client, org_a, member_a, engineer, public_space, ask):
    # given an answer whose text carries markup
    settled(member_a)
    question = ask(member_a, public_space, title="<b>Bold</b> title?")
    actions.reply(engineer, question, body="<script>alert(1)</script> <img src=x onerror=alert(1)>")

    # when the asker opens the dashboard
    html = _dashboard(client, member_a, org_a)

    # then neither the title nor the answer runs or renders markup
    panel = html.split('id="panel-community-answers"')[1].split("</section>")[0]
    assert "&lt;b&gt;Bold&lt;/b&gt; title?" in panel
    assert "<script" not in panel
    assert "<img" not in panel
    assert "&lt;img src=x onerror=alert(1)&gt;" in panel
