"""Search: only what the reader may read, Chinese and English both findable, titles above text,
snippets escaped. Each behaviour runs through the database's own search (PostgreSQL full text
when the tests run on PostgreSQL) and through the fallback that other databases use."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from community import actions, search
from community.models import Post, PostStatus
from community.search import query_terms, search_posts, search_posts_for_organisation

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["database", "fallback"])
def find(request):
    """find(user, query) -> hits, through search_posts (PostgreSQL full text on PostgreSQL) or
    the fallback, called directly so that it is tested on every database."""
    if request.param == "database":
        return lambda user, query: search_posts(user, query)
    return lambda user, query: search._search_fallback(
        Post.objects.readable_by(user), query_terms(query), 50
    )


@pytest.fixture
def reader(globex):
    """Someone of another organisation, who finds public posts only."""
    return globex


def titles(hits):
    return [hit.topic.title for hit in hits]


# --------------------------------------------------------------------------------------------
# Languages
# --------------------------------------------------------------------------------------------


def test_a_chinese_word_finds_it_inside_a_longer_run_of_characters(find, ask, asker, public_space):
    # given a Chinese post that has no spaces between its words
    ask(asker, public_space, title="供应商审核问题", body="客户要求我们提供产品碳足迹报告。")
    # when someone searches for one word of it
    hits = find(asker, "碳足迹")
    # then the topic is found, the word marked in the snippet
    assert titles(hits) == ["供应商审核问题"]
    assert "<mark>碳足迹</mark>" in hits[0].snippet_html
    # and characters that do not occur together in the text find nothing
    assert find(asker, "碳排放") == []


def test_english_is_found_whatever_the_case_and_every_word_must_match(
    find, ask, asker, reader, public_space
):
    # given an English question
    ask(asker, public_space, title="Update fails at 80 %", body="Our Inverter FIRMWARE stops.")
    # when another customer searches in other letter case
    # then it is found
    assert titles(find(reader, "inverter firmware")) == ["Update fails at 80 %"]
    assert titles(find(reader, "INVERTER")) == ["Update fails at 80 %"]
    # and a word at the start of a longer one matches it, as in "firm" -> "firmware"
    assert titles(find(reader, "firm")) == ["Update fails at 80 %"]
    # but a word in the middle of another does not, and all words must occur
    assert find(reader, "ware") == []
    assert find(reader, "inverter gateway") == []


def test_mixed_chinese_and_english_query(find, ask, asker, public_space):
    # given a post that mixes both languages
    ask(asker, public_space, title="SUN-50K-G 网关离线", body="升级 firmware 以后监控网关显示离线")
    # when the query mixes them too
    # then it is found
    assert titles(find(asker, "网关 firmware")) == ["SUN-50K-G 网关离线"]


def test_a_query_without_words_finds_nothing(ask, asker, public_space):
    # given a topic
    ask(asker, public_space)
    # when the query is empty, blank or punctuation only
    # then nothing is found (and nothing fails)
    assert search_posts(asker, "") == []
    assert search_posts(asker, "   ") == []
    assert search_posts(asker, "?! -- **") == []
    assert query_terms("?! -- **") == []


# --------------------------------------------------------------------------------------------
# Visibility
# --------------------------------------------------------------------------------------------


def test_a_private_space_is_not_searched_for_another_organisation(
    find, ask, asker, reader, private_space, org_a, org_b
):
    # given a topic in Acme's private space
    ask(asker, private_space, title="Confidential roadmap", body="Pilot of the new roadmap.")
    # when a Globex member searches for its words
    # then nothing is found
    assert find(reader, "roadmap") == []
    assert find(reader, "confidential") == []
    # while an Acme member finds it
    assert titles(find(asker, "roadmap")) == ["Confidential roadmap"]
    # and the API's organisation-scoped search follows the same rule
    assert search_posts_for_organisation(org_b, "roadmap") == []
    assert titles(search_posts_for_organisation(org_a, "roadmap")) == ["Confidential roadmap"]


def test_a_post_pending_review_is_found_only_by_its_author_and_moderators(
    find, ask, asker, reader, moderator, public_space, org_a
):
    # given a reply that flags have hidden pending review
    topic = ask(asker, public_space, title="Cable glands", body="Which glands fit?")
    post = actions.reply(asker, topic, body="Use the zebrafish glands.")
    actions.set_post_status(post, PostStatus.PENDING_REVIEW)
    # when other people search for a word only that reply has
    # then another customer finds nothing, while the author and a moderator still do
    assert find(reader, "zebrafish") == []
    assert [hit.post.pk for hit in find(asker, "zebrafish")] == [post.pk]
    assert [hit.post.pk for hit in find(moderator, "zebrafish")] == [post.pk]
    # and the API search (visible posts only) does not find it
    assert search_posts_for_organisation(org_a, "zebrafish") == []


def test_a_deleted_topic_is_not_found(find, ask, asker, reader, public_space):
    # given a topic whose author withdrew it
    topic = ask(asker, public_space, title="Withdrawn question", body="Never mind.")
    actions.delete_post(asker, topic.posts.get(number=1))
    # when anyone searches for it
    # then it is not found, not even by its author
    assert find(reader, "withdrawn") == []
    assert find(asker, "withdrawn") == []


def test_a_merged_topic_is_found_as_the_topic_it_was_merged_into(
    find, ask, asker, engineer, public_space
):
    # given two topics, one merged into the other
    source = ask(asker, public_space, title="Gateway offline again", body="Gateway is offline.")
    target = ask(asker, public_space, title="Gateway offline", body="Since the update.")
    actions.merge_topics(engineer, source, target)
    # when someone searches for the merged topic's words
    hits = find(asker, "gateway offline again")
    # then the hit is the surviving topic, never the merged-away one
    assert [hit.topic.pk for hit in hits] == [target.pk]


# --------------------------------------------------------------------------------------------
# Ranking and grouping
# --------------------------------------------------------------------------------------------


def test_a_match_in_the_title_ranks_above_one_in_the_text(find, ask, asker, public_space):
    # given one topic that mentions storage in its text, then one with it in its title
    ask(asker, public_space, title="Noise at night", body="The storage cabinet hums.")
    ask(asker, public_space, title="Storage cabinet noise", body="It hums at night.")
    # when someone searches for it
    hits = find(asker, "storage")
    # then the title match comes first
    assert titles(hits) == ["Storage cabinet noise", "Noise at night"]
    assert hits[0].rank > hits[1].rank


def test_one_hit_per_topic_showing_its_best_post(find, ask, asker, engineer, public_space):
    # given a question whose reply mentions a word twice and a later reply once more
    topic = ask(asker, public_space, title="Grid code question", body="Which setting?")
    first = actions.reply(engineer, topic, body="Choose VDE 4105 for Germany.")
    actions.reply(asker, topic, body="VDE 4105 it is, thanks.")
    # when someone searches for it
    hits = find(asker, "vde 4105")
    # then the topic is one hit, pointing at the earliest of its best posts
    assert len(hits) == 1
    assert hits[0].post.pk == first.pk
    assert hits[0].post.get_absolute_url() == f"/community/t/{topic.pk}/#post-2"


def test_the_limit_caps_the_number_of_topics(ask, asker, engineer, public_space):
    # given five matching topics
    for number in range(5):
        ask(engineer, public_space, title=f"Battery question {number}", body="battery")
    # when the search is limited to three
    # then three topics come back
    assert len(search_posts(asker, "battery", limit=3)) == 3


# --------------------------------------------------------------------------------------------
# Snippets
# --------------------------------------------------------------------------------------------


def test_snippets_escape_markup_and_only_add_mark(find, ask, asker, public_space):
    # given a post full of markup that must never run
    ask(
        asker,
        public_space,
        title="Escaping check",
        body="<script>alert('x')</script> gateway <img src=x onerror=alert(1)> & done",
    )
    # when it is found
    (hit,) = find(asker, "gateway")
    # then the snippet shows the markup as text, with only the matched word marked
    html = str(hit.snippet_html)
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html
    assert "<mark>gateway</mark>" in html
    assert html.replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_snippet_starts_near_the_first_match():
    # given a long text with the word far from its start
    text = "word " * 100 + "the inverter firmware " + "more " * 100
    # when a snippet is cut for it
    html = search.highlight(text, ["firmware"])
    # then it begins with an ellipsis, holds the marked word and stays short
    assert html.startswith("…")
    assert html.endswith("…")
    assert "<mark>firmware</mark>" in html
    assert len(html) < search.SNIPPET_CHARS + 40


def test_snippet_marks_whole_words_and_merges_chinese_pairs():
    # when words and Chinese pairs are marked
    html = search.highlight("Inverters 的碳足迹报告, reinverted", ["inverter", "碳足", "足迹"])
    # then a word is marked from its matched start to its end, overlapping pairs as one, and
    # no match inside a word
    assert html == "<mark>Inverters</mark> 的<mark>碳足迹</mark>报告, reinverted"


# --------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_postgres_uses_the_full_text_index(ask, asker, public_space):
    # given a topic
    ask(asker, public_space, title="Inverter firmware", body="How to update it?")
    # when someone searches on PostgreSQL
    with CaptureQueriesContext(connection) as queries:
        hits = search_posts(asker, "inverter firmware")
    # then the query matches the tsvector with a prefix tsquery and ranks with ts_rank (the
    # ranking query; the shown posts are loaded after it)
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert '"search_vector" @@ (to_tsquery(' in sql
    assert "ts_rank" in sql
    assert titles(hits) == ["Inverter firmware"]


@pytest.mark.postgres
def test_postgres_ranks_the_title_weight_above_the_text(ask, asker, engineer, public_space):
    # given the word three times in one topic's text and once in another's title
    ask(asker, public_space, title="Question", body="meter meter meter readings")
    ask(asker, public_space, title="Meter readings", body="They look wrong.")
    # when searched
    hits = search_posts(asker, "meter")
    # then weight A (title) wins over repetition in weight B (text)
    assert titles(hits) == ["Meter readings", "Question"]


# --------------------------------------------------------------------------------------------
# The search page
# --------------------------------------------------------------------------------------------


def test_search_page_needs_sign_in(client):
    # when an anonymous visitor opens the search page
    response = client.get(reverse("community:search"), {"q": "inverter"})
    # then they are sent to sign in
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_search_page_lists_results_with_their_details(client, ask, asker, engineer, public_space):
    # given a solved question
    topic = ask(asker, public_space, title="Inverter firmware fails", body="At 80 %.")
    answer = actions.reply(engineer, topic, body="Update the gateway firmware first.")
    actions.accept_answer(asker, answer)
    client.force_login(asker)
    # when a member searches for it
    response = client.get(reverse("community:search"), {"q": "gateway firmware"})
    # then the result links to the matching post, with its space, solved mark and snippet
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="/community/t/{topic.pk}/#post-2"' in html
    assert "Inverter <mark>firmware</mark> fails" in html
    assert "data-solved" in html
    assert "Solar inverters" in html
    assert "<mark>gateway</mark>" in html
    assert "Erik" in html
    assert "engineer@greenloop.example" not in html


def test_search_page_explains_an_empty_result(client, ask, asker, public_space):
    # given a member and a topic that does not match
    ask(asker, public_space)
    client.force_login(asker)
    # when they search for something that is nowhere
    response = client.get(reverse("community:search"), {"q": "unobtainium"})
    # then the page says so and gives tips
    html = response.content.decode()
    assert "data-no-results" in html
    assert "Nothing found for “unobtainium”" in html
    # and an empty query shows the search box without a result list
    empty = client.get(reverse("community:search")).content.decode()
    assert 'name="q"' in empty
    assert "data-no-results" not in empty
    assert 'class="search-result"' not in empty


def test_search_page_hides_a_private_space_from_another_organisation(
    client, ask, asker, reader, private_space
):
    # given a topic in Acme's private space
    ask(asker, private_space, title="Confidential roadmap", body="Pilot plans.")
    client.force_login(reader)
    # when a Globex member searches for it
    response = client.get(reverse("community:search"), {"q": "roadmap"})
    # then neither the topic nor the space is mentioned
    html = response.content.decode()
    assert "Confidential roadmap" not in html
    assert "Acme private board" not in html
    assert "data-no-results" in html


def test_search_page_escapes_titles_and_the_query(client, ask, asker, public_space):
    # given a topic whose title carries markup
    ask(asker, public_space, title="<b onmouseover=alert(1)>Bold</b> inverter", body="text")
    client.force_login(asker)
    # when it is found with a query that carries markup too
    response = client.get(reverse("community:search"), {"q": "inverter <b>"})
    # then both are shown as text
    html = response.content.decode()
    assert "<b onmouseover" not in html
    # (the matched words marked inside the escaped text)
    assert (
        "&lt;<mark>b</mark> onmouseover=alert(1)&gt;<mark>Bold</mark>&lt;/<mark>b</mark>&gt; "
        "<mark>inverter</mark>"
    ) in html
    assert 'value="inverter &lt;b&gt;"' in html
    assert "inverter <b>" not in html


@pytest.mark.parametrize("topics", [3, 30])
def test_search_page_queries_are_bounded(
    client, asker, engineer, public_space, topics, django_assert_max_num_queries
):
    # given many matching topics, each with a reply by another person
    for number in range(topics):
        topic = actions.create_topic(
            engineer, public_space, title=f"Battery alarm {number}", body="battery alarm"
        )
        actions.reply(asker, topic, body="Same battery alarm here.")
    client.force_login(asker)
    client.get(reverse("community:search"))  # the first visit records the member's visit
    # when the search page lists them
    # then the number of queries does not grow with the results
    # + 1: the unread-notifications count in the community navigation
    # + 2: setting and restoring the request's row-level scope (portal/tenancy.py)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("community:search"), {"q": "battery alarm"})
    assert response.content.decode().count('class="search-result"') == topics
