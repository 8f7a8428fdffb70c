"""Community page blocks: each viewer sees only their own topics in them, signed-out visitors a
sign-in prompt, and a block about a space the viewer cannot see renders nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import reverse
from wagtail.blocks import StructBlockValidationError

from community import actions
from community.blocks import LatestTopicsBlock, UnansweredQuestionsBlock, space_choices
from community.models import Space, TopicKind
from portal.home.block_choices import RegisteredChoices
from portal.home.models import HomePage

pytestmark = pytest.mark.django_db


def render(block, value: dict, user) -> str:
    request = RequestFactory().get("/welcome/?from=mail")
    request.user = user
    return block.render(block.to_python(value), context={"request": request})


def latest(space: str = "", heading: str = "", count: int = 5) -> dict:
    return {"heading": heading, "space": space, "count": count}


# --------------------------------------------------------------------------------------------
# Latest topics
# --------------------------------------------------------------------------------------------


def test_latest_topics_of_a_private_space_for_its_organisation(ask, asker, private_space):
    # given two topics in Acme's private space
    ask(asker, private_space, title="Older plan for the pilot", body="First.")
    ask(asker, private_space, title="Newer plan for the pilot", body="Second.")
    # when an Acme member sees the block
    html = render(LatestTopicsBlock(), latest("acme-board"), asker)
    # then it lists them, latest first, under the space's name
    assert "Latest in Acme private board" in html
    assert html.index("Newer plan for the pilot") < html.index("Older plan for the pilot")
    assert 'href="/community/s/acme-board/"' in html


def test_latest_topics_of_a_private_space_render_nothing_for_another_organisation(
    ask, asker, member_b, private_space
):
    # given a topic in Acme's private space and a block about that space with its own heading
    ask(asker, private_space, title="Confidential pilot plan", body="First.")
    value = latest("acme-board", heading="From the Acme board")
    # when a Globex member sees the page
    html = render(LatestTopicsBlock(), value, member_b)
    # then the block is empty: no topic, no heading, no space name
    assert html.strip() == ""


def test_latest_topics_ask_signed_out_visitors_to_sign_in(ask, asker, public_space):
    # given a topic in a space open to every customer
    ask(asker, public_space, title="Inverter hums at night", body="Why?")
    # when a signed-out visitor sees the block
    html = render(
        LatestTopicsBlock(), latest("inverters", heading="Ask the engineers"), AnonymousUser()
    )
    # then only a sign-in link back to the page is shown
    assert 'href="/accounts/login/?next=%2Fwelcome%2F%3Ffrom%3Dmail"' in html
    assert "Inverter hums at night" not in html
    assert "Ask the engineers" not in html
    assert "Solar inverters" not in html


def test_latest_topics_include_sub_spaces_and_stop_at_the_count(ask, asker, public_space):
    # given a sub-space and three topics across both
    child = Space.objects.create(name="Firmware", slug="inverter-firmware", parent=public_space)
    ask(asker, public_space, title="First topic here", body="One.")
    ask(asker, child, title="Second topic here", body="Two.")
    ask(asker, public_space, title="Third topic here", body="Three.")
    # when the block shows two
    html = render(LatestTopicsBlock(), latest("inverters", count=2), asker)
    # then the two most recent are listed, the sub-space's named
    assert "Third topic here" in html
    assert "Second topic here" in html
    assert "Firmware ·" in html
    assert "First topic here" not in html


def test_latest_topics_of_an_archived_or_unknown_space_render_nothing(ask, asker, public_space):
    # given an archived space
    ask(asker, public_space)
    Space.objects.filter(pk=public_space.pk).update(is_archived=True)
    # when the block about it, or about a space that no longer exists, is shown
    # then nothing renders
    assert render(LatestTopicsBlock(), latest("inverters"), asker).strip() == ""
    assert render(LatestTopicsBlock(), latest("no-such-space"), asker).strip() == ""


@pytest.mark.parametrize("topics", [2, 12])
def test_latest_topics_cost_two_queries(
    engineer, asker, public_space, topics, django_assert_num_queries
):
    # given a number of topics
    for number in range(topics):
        actions.create_topic(engineer, public_space, title=f"Topic number {number}", body="x")
    # when the block renders
    with django_assert_num_queries(2):
        html = render(LatestTopicsBlock(), latest("inverters", count=20), asker)
    # then the space and its topics took one query each, whatever their number
    assert html.count("<li>") == topics


# --------------------------------------------------------------------------------------------
# Unanswered questions
# --------------------------------------------------------------------------------------------


def test_unanswered_questions_lists_only_open_questions_without_replies(
    ask, asker, engineer, public_space
):
    # given an open question, a replied one, a discussion and a locked question
    ask(asker, public_space, title="Nobody answered this yet", body="?")
    replied = ask(asker, public_space, title="Someone replied to this", body="?")
    actions.reply(engineer, replied, body="Here is how.")
    ask(asker, public_space, title="Let us discuss this", body="!", kind=TopicKind.DISCUSSION)
    locked = ask(asker, public_space, title="Locked question here", body="?")
    actions.set_locked(engineer, locked, True)
    # when a member sees the block without a space chosen
    html = render(UnansweredQuestionsBlock(), latest(), asker)
    # then only the open question is listed
    assert "Unanswered questions" in html
    assert "Nobody answered this yet" in html
    assert "Someone replied to this" not in html
    assert "Let us discuss this" not in html
    assert "Locked question here" not in html


def test_unanswered_questions_from_every_space_leave_out_private_ones(
    ask, asker, member_b, public_space, private_space
):
    # given open questions in a public and in Acme's private space
    ask(asker, public_space, title="Public open question", body="?")
    ask(asker, private_space, title="Private open question", body="?")
    # when each organisation's member sees the block (no space chosen)
    for_acme = render(UnansweredQuestionsBlock(), latest(), asker)
    for_globex = render(UnansweredQuestionsBlock(), latest(), member_b)
    # then Acme sees both, Globex only the public one and no trace of the private space
    assert "Public open question" in for_acme
    assert "Private open question" in for_acme
    assert "Public open question" in for_globex
    assert "Private open question" not in for_globex
    assert "Acme private board" not in for_globex


def test_unanswered_questions_of_a_private_space(ask, asker, member_b, private_space):
    # given an open question in Acme's private space and a block about that space
    ask(asker, private_space, title="Private open question", body="?")
    value = latest("acme-board", heading="Help the Acme board")
    # when Acme's member, Globex's member and a signed-out visitor see it
    for_acme = render(UnansweredQuestionsBlock(), value, asker)
    for_globex = render(UnansweredQuestionsBlock(), value, member_b)
    for_anonymous = render(UnansweredQuestionsBlock(), value, AnonymousUser())
    # then only Acme's member sees the question; Globex's sees nothing; anonymous a sign-in prompt
    assert "Help the Acme board" in for_acme
    assert "Private open question" in for_acme
    assert "/community/s/acme-board/?filter=unanswered" in for_acme
    assert for_globex.strip() == ""
    assert "/accounts/login/" in for_anonymous
    assert "Private open question" not in for_anonymous
    assert "Help the Acme board" not in for_anonymous


@pytest.mark.parametrize("topics", [2, 12])
def test_unanswered_questions_cost_one_query_without_a_space(
    engineer, asker, public_space, topics, django_assert_num_queries
):
    # given a number of open questions
    for number in range(topics):
        actions.create_topic(engineer, public_space, title=f"Question number {number}", body="?")
    # when the block renders for every space
    with django_assert_num_queries(1):
        html = render(UnansweredQuestionsBlock(), latest(count=20), asker)
    # then one query fetched them all
    assert html.count("<li>") == topics


# --------------------------------------------------------------------------------------------
# The editor and the home page
# --------------------------------------------------------------------------------------------


def test_editors_choose_from_live_spaces(public_space, private_space):
    # given an archived space beside the live ones
    Space.objects.create(name="Old board", slug="old-board", is_archived=True)
    # when the editor's drop-down is built
    # then it offers the live spaces, private ones included (editors are staff)
    assert sorted(space_choices()) == [
        ("acme-board", "Acme private board"),
        ("inverters", "Solar inverters"),
    ]


def test_the_blocks_drop_down_asks_the_portal_registry_for_the_spaces(public_space):
    # given the key the home page's migration records for the space drop-down
    choices = RegisteredChoices("community.spaces")
    # then CommunityConfig.ready() has registered the live spaces under it
    assert choices() == [("inverters", "Solar inverters")]


def test_count_is_limited_to_twenty(public_space):
    # when an editor asks for too many topics
    block = LatestTopicsBlock()
    # then the block refuses the value
    with pytest.raises(StructBlockValidationError) as refused:
        block.clean(block.to_python(latest("inverters", count=50)))
    assert list(refused.value.block_errors) == ["count"]
    assert "less than or equal to 20" in str(refused.value.block_errors["count"])


def test_the_page_editor_offers_the_blocks_with_the_spaces(client, superuser, home_with_blocks):
    # when staff open the home page in the page editor
    client.force_login(superuser)
    response = client.get(reverse("wagtailadmin_pages:edit", args=[home_with_blocks.pk]))
    # then both community blocks are offered, with the live spaces to choose from
    html = response.content.decode()
    assert response.status_code == 200
    assert "Community: latest topics" in html
    assert "Community: unanswered questions" in html
    assert "Acme private board" in html


@pytest.fixture
def home_with_blocks(db, public_space, private_space):
    """The home page (created by the home app's migration) with both community blocks."""
    home = HomePage.objects.get(slug="home")
    home.body = [
        ("community_latest_topics", latest("acme-board", heading="Acme board news")),
        ("community_unanswered", latest("inverters", heading="Help other customers")),
    ]
    home.save()
    return home


def test_the_home_page_shows_community_blocks_to_each_viewer(
    client, ask, asker, member_b, home_with_blocks, public_space, private_space
):
    # given a private topic and an open public question
    ask(asker, private_space, title="Confidential pilot plan", body="Plan.")
    ask(asker, public_space, title="Which torque for DC connectors?", body="?")
    # when an Acme member opens the home page
    client.force_login(asker)
    for_acme = client.get("/").content.decode()
    # then both blocks show
    assert "Acme board news" in for_acme
    assert "Confidential pilot plan" in for_acme
    assert "Help other customers" in for_acme
    assert "Which torque for DC connectors?" in for_acme
    # when a Globex member opens it
    client.force_login(member_b)
    for_globex = client.get("/").content.decode()
    # then the private block is gone without a trace, the public one shows
    assert "Acme board news" not in for_globex
    assert "Confidential pilot plan" not in for_globex
    assert "Acme private board" not in for_globex
    assert "Which torque for DC connectors?" in for_globex


def test_the_home_page_asks_signed_out_visitors_to_sign_in(
    client, ask, asker, home_with_blocks, public_space
):
    # given an open public question
    ask(asker, public_space, title="Which torque for DC connectors?", body="?")
    # when a signed-out visitor opens the home page
    response = client.get("/")
    # then the community blocks offer sign-in and list nothing
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("community-block--sign-in") == 2
    assert "Which torque for DC connectors?" not in html
    assert "Help other customers" not in html
