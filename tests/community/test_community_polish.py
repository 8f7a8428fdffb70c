"""Community rough edges: "Ask a question", one-unit relative times dated by what happened,
the accepted answer shown once, no "Accept" on the asker's own replies, a preview and a
confirmation when posting, and search titles with the matched words marked."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from community import actions
from community.exceptions import CommunityError
from community.models import Notification, Post, Topic
from portal.templatetags.portal_time import ago
from tests.community.conftest import settled

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)


def url(name: str, **kwargs) -> str:
    return reverse(f"community:{name}", kwargs=kwargs)


# --- relative times


@pytest.mark.parametrize(
    ("age", "english", "chinese"),
    [
        (dt.timedelta(seconds=20), "just now", "刚刚"),
        (dt.timedelta(minutes=5), "5 minutes ago", "5分钟前"),
        (dt.timedelta(hours=2, minutes=40), "3 hours ago", "3小时前"),
        (dt.timedelta(days=5, hours=20), "6 days ago", "6天前"),
        (dt.timedelta(days=6, hours=14), "1 week ago", "1周前"),
        (dt.timedelta(days=45), "2 months ago", "2个月前"),
    ],
)
def test_relative_times_use_one_rounded_unit(age, english, chinese):
    with translation.override("en"):
        assert ago(NOW - age, NOW) == english
    with translation.override("zh-hans"):
        assert ago(NOW - age, NOW) == chinese


def test_a_notification_carries_the_time_of_the_post_it_reports(
    client, public_space, member_a, member_b, ask, django_capture_on_commit_callbacks
):
    # given Acme's question, and a Globex reply posted three days ago whose fan-out runs now
    # (a queue's delay; the demo backdates its posts the same way)
    topic = ask(member_a, public_space)
    settled(member_b)
    three_days_ago = timezone.now() - dt.timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        reply = actions.reply(member_b, topic, body="Check the inverter log.")
        Post.objects.filter(pk=reply.pk).update(created_at=three_days_ago)
    # then the asker's notification is dated three days back and says so
    notification = Notification.objects.get(user=member_a, post=reply)
    assert notification.created_at == three_days_ago
    client.force_login(member_a)
    html = client.get(url("notifications")).content.decode()
    assert "3 days ago" in html
    assert "minutes ago" not in html


# --- the topic page


def test_the_accepted_answer_is_shown_once_and_linked_under_the_question(
    client, public_space, member_a, member_b, ask
):
    # given a question with an accepted answer
    topic = ask(member_a, public_space)
    settled(member_b)
    answer = actions.reply(member_b, topic, body="Flash firmware 2.4.1 first.")
    actions.accept_answer(member_a, answer)
    client.force_login(member_a)
    # when the asker reads the topic
    html = client.get(topic.get_absolute_url()).content.decode()
    # then the answer's text appears once, with a pointer to it under the question
    assert html.count("Flash firmware 2.4.1 first.") == 1
    assert 'href="#post-2">Go to the answer</a>' in html
    # and the reply box is headed "Your reply" once (its field is "Text")
    assert html.count("Your reply") == 1


def test_the_askers_own_reply_offers_no_accept_and_cannot_be_accepted(
    client, public_space, member_a, member_b, ask
):
    # given a question with the asker's own thank-you and someone else's answer
    topic = ask(member_a, public_space)
    settled(member_a)
    settled(member_b)
    answer = actions.reply(member_b, topic, body="Restart the logger.")
    thanks = actions.reply(member_a, topic, body="Thanks, that worked!")
    client.force_login(member_a)
    # when the asker reads the topic
    html = client.get(topic.get_absolute_url()).content.decode()
    # then only the other person's reply can be accepted
    assert url("accept", post_id=answer.pk) in html
    assert url("accept", post_id=thanks.pk) not in html
    # and accepting the thank-you is refused, leaving the question open
    with pytest.raises(CommunityError, match="The asker's own reply cannot be the accepted"):
        actions.accept_answer(member_a, thanks)
    assert Topic.objects.get(pk=topic.pk).accepted_answer is None


# --- preview and confirmation


def test_preview_of_a_reply_renders_sanitised_and_posts_nothing(
    client, public_space, member_a, member_b, ask
):
    # given a topic and a reader about to reply
    topic = ask(member_a, public_space)
    settled(member_b)
    client.force_login(member_b)
    before = Post.objects.count()
    # when they preview a reply with Markdown and a script
    response = client.post(
        url("reply", topic_id=topic.pk),
        {"body": "**Bold** idea <script>alert(1)</script>", "preview": "1"},
    )
    html = response.content.decode()
    # then the page shows it rendered and sanitised, keeps the text in the box, and posts nothing
    assert response.status_code == 200
    assert '<h3 id="h-preview">Preview</h3>' in html
    assert "<strong>Bold</strong> idea" in html
    assert "<script>alert(1)</script>" not in html
    assert "**Bold** idea &lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in html
    assert Post.objects.count() == before


def test_posting_a_reply_confirms_it(client, public_space, member_a, member_b, ask):
    topic = ask(member_a, public_space)
    settled(member_b)
    client.force_login(member_b)
    response = client.post(url("reply", topic_id=topic.pk), {"body": "Done."}, follow=True)
    assert "Your reply is posted." in response.content.decode()
    assert Post.objects.filter(topic=topic, body="Done.").count() == 1


def test_preview_of_a_new_topic_in_chinese_posts_nothing(client, public_space, member_b):
    # given a Chinese reader on the new-topic form
    settled(member_b)
    client.force_login(member_b)
    topics = Topic.objects.count()
    # when they preview their question
    response = client.post(
        url("new_topic", space_slug=public_space.slug),
        {"kind": "question", "title": "逆变器告警", "body": "*告警* 代码 E21", "preview": "1"},
        headers={"accept-language": "zh-hans"},
    )
    html = response.content.decode()
    # then the preview is shown in Chinese, and no topic exists yet
    assert response.status_code == 200
    assert '<h3 id="h-preview">预览</h3>' in html
    assert "<em>告警</em> 代码 E21" in html
    assert Topic.objects.count() == topics
    # when they post it
    posted = client.post(
        url("new_topic", space_slug=public_space.slug),
        {"kind": "question", "title": "逆变器告警", "body": "*告警* 代码 E21"},
        headers={"accept-language": "zh-hans"},
        follow=True,
    )
    assert "您的话题已发布。" in posted.content.decode()


# --- asking from the community's front page


def test_ask_a_question_lists_only_spaces_the_person_may_post_in(
    client, public_space, private_space, member_a, member_b, django_assert_max_num_queries
):
    # given an open space and a space private to Acme
    client.force_login(member_b)
    # when Globex's member opens "Ask a question" from the community index
    index = client.get(url("index")).content.decode()
    with django_assert_max_num_queries(15):
        response = client.get(url("ask"))
    # then Globex sees only the open space: with one, its form opens at once
    assert f'<a class="btn" href="{url("ask")}">Ask a question</a>' in index
    assert response.status_code == 302
    assert response["Location"] == url("new_topic", space_slug="inverters")
    # and Acme's member chooses between both
    client.force_login(member_a)
    html = client.get(url("ask")).content.decode()
    assert f'href="{url("new_topic", space_slug="acme-board")}"' in html
    assert f'href="{url("new_topic", space_slug="inverters")}"' in html
    assert "Which space does your question belong in?" in html


def test_the_private_space_form_stays_404_for_another_organisation(client, private_space, member_b):
    client.force_login(member_b)
    assert client.get(url("new_topic", space_slug="acme-board")).status_code == 404


# --- search


def test_search_marks_the_matched_words_in_titles_and_escapes_the_rest(
    client, public_space, member_a, ask
):
    # given a topic whose title holds markup
    ask(member_a, public_space, title="<img src=x onerror=alert(1)> Inverter firmware", body="x")
    client.force_login(member_a)
    # when someone searches for one of its words
    html = client.get(url("search"), {"q": "firmware"}).content.decode()
    # then the word is marked in the title and the markup is text
    assert "&lt;img src=x onerror=alert(1)&gt; Inverter <mark>firmware</mark></a>" in html
    assert "<img src=x" not in html
