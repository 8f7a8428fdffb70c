"""The kept posts and reply box of a topic page (community/post_fragments.py) follow every change
that alters what they show: an edit, a reaction (and the reader's own "you reacted"), a new reply,
an accepted answer, a moderator hiding a post, a post going under review, a renamed author, the
reader's language and time zone, a suspension. Each test first has the page kept (opened once),
then changes one thing and opens it again. The forms carry the reader's own CSRF token."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from community import actions, moderation, post_fragments
from community.models import Member, Post, PostStatus, ReactionKind

pytestmark = pytest.mark.django_db


def _page(client, user, topic, **headers) -> str:
    client.force_login(user)
    response = client.get(f"/community/t/{topic.pk}/", **headers)
    assert response.status_code == 200
    return response.content.decode()


def _post(html: str, number: int) -> str:
    """The <article> of post `number`."""
    start = html.rindex("<article", 0, html.index(f'id="post-{number}"'))
    return html[start : html.index("</article>", start)]


@pytest.fixture
def question(acme, engineer, public_space):
    topic = actions.create_topic(
        acme, public_space, title="Grid fault every morning", body="Since firmware 3.2."
    )
    actions.reply(engineer, topic, body="Limit reactive power to 0.95.")
    return topic


def test_an_edit_shows_at_once(client, acme, globex, engineer, question):
    assert "Limit reactive power to 0.95." in _page(client, globex, question)
    reply = Post.objects.get(topic=question, number=2)
    actions.edit_post(engineer, reply, body="Limit reactive power to 0.90.")
    html = _page(client, globex, question)
    assert "Limit reactive power to 0.90." in html
    assert "Limit reactive power to 0.95." not in html
    assert "edited</a>" in _post(html, 2)


def test_a_reaction_shows_at_once_with_the_reader_s_own_state(client, acme, globex, question):
    _page(client, globex, question)
    _page(client, acme, question)
    actions.react(globex, Post.objects.get(topic=question, number=2), ReactionKind.UPVOTE)
    # the reader who reacted sees their button pressed and the count
    mine = _post(_page(client, globex, question), 2)
    assert re.search(
        r'value="upvote"[^>]*aria-pressed="true">[^<]*<span class="reaction__count">1</span>',
        mine,
    )
    # another reader sees the count, not pressed
    theirs = _post(_page(client, acme, question), 2)
    assert re.search(
        r'value="upvote"[^>]*aria-pressed="false">[^<]*<span class="reaction__count">1</span>',
        theirs,
    )


def test_a_new_reply_shows_at_once(client, acme, globex, question):
    assert _page(client, acme, question).count('<article class="post') == 2
    actions.reply(globex, question, body="Same on our site in Suzhou.")
    html = _page(client, acme, question)
    assert html.count('<article class="post') == 3
    assert "Same on our site in Suzhou." in _post(html, 3)


def test_an_accepted_answer_is_marked_at_once(client, acme, globex, question):
    assert "post--accepted" not in _page(client, globex, question)
    actions.accept_answer(acme, Post.objects.get(topic=question, number=2))
    html = _page(client, globex, question)
    assert '<article class="post post--accepted"' in _post(html, 2)
    assert "Accepted answer" in _post(html, 2)


def test_a_post_a_moderator_hides_leaves_the_page_at_once(
    client, acme, globex, moderator, question
):
    spam = actions.reply(globex, question, body="Buy cheap certificates here.")
    assert "Buy cheap certificates here." in _page(client, acme, question)
    moderation.decide(moderator, spam, moderation.Decision.HIDE)
    assert "Buy cheap certificates here." not in _page(client, acme, question)
    # the moderator still reads it, marked hidden
    hidden = _post(_page(client, moderator, question), 3)
    assert "Buy cheap certificates here." in hidden
    assert "Hidden by a moderator: only moderators see it." in hidden


def test_a_post_under_review_shows_only_to_its_author(client, acme, globex, question):
    held = actions.reply(globex, question, body="Our meter doubled overnight.")
    assert "Our meter doubled overnight." in _page(client, acme, question)
    Post.objects.filter(pk=held.pk).update(status=PostStatus.PENDING_REVIEW)
    assert "Our meter doubled overnight." not in _page(client, acme, question)
    own = _post(_page(client, globex, question), 3)
    assert "Our meter doubled overnight." in own
    assert "Hidden pending review" in own


def test_a_renamed_author_shows_under_the_new_name(client, acme, globex, engineer, question):
    assert "Erik" in _post(_page(client, globex, question), 2)
    engineer.first_name = "Ingrid"
    engineer.save()
    reply = _post(_page(client, globex, question), 2)
    assert "Ingrid" in reply
    assert "Erik" not in reply


def test_the_reader_s_own_posts_offer_edit_and_others_flag(client, acme, globex, question):
    # the same reply, kept for one reader, is not what another reader may do with it
    theirs = _post(_page(client, globex, question), 1)
    own = _post(_page(client, acme, question), 1)
    assert ">Edit</a>" in own
    assert ">Flag</a>" not in own
    assert ">Flag</a>" in theirs
    assert ">Edit</a>" not in theirs


def test_the_reader_s_language_picks_its_own_kept_posts(client, acme, globex, question):
    assert ">Quote</a>" in _page(client, globex, question, HTTP_ACCEPT_LANGUAGE="en")
    globex.preferred_language = "zh-hans"
    globex.save()
    html = _page(client, globex, question, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert ">引用</a>" in html
    assert ">Quote</a>" not in html
    assert "发表回复" in html  # the reply box too


def test_the_reader_s_time_zone_picks_its_own_kept_posts(client, acme, globex, question):
    opening = Post.objects.get(topic=question, number=1)
    opening.created_at = dt.datetime(2026, 3, 2, 23, 30, tzinfo=dt.UTC)
    opening.save(update_fields=["created_at"])
    acme.time_zone = "Europe/Berlin"
    acme.save()
    globex.time_zone = "Asia/Shanghai"
    globex.save()
    berlin = '<time datetime="2026-03-03T00:30:00+01:00">2026-03-03 00:30</time>'
    shanghai = '<time datetime="2026-03-03T07:30:00+08:00">2026-03-03 07:30</time>'
    assert berlin in _post(_page(client, acme, question), 1)
    assert shanghai in _post(_page(client, globex, question), 1)


def test_a_suspended_reader_gets_the_refusal_not_the_kept_reply_box(client, acme, globex, question):
    box = f'action="/community/t/{question.pk}/reply/"'
    assert box in _page(client, acme, question)
    member = Member.objects.get(user=globex)
    member.suspended_until = timezone.now() + dt.timedelta(days=2)
    member.suspension_reason = "Spam"
    member.save()
    html = _page(client, globex, question)
    assert "Your posting is suspended until" in html
    assert box not in html
    assert ">Quote</a>" not in html


def test_the_forms_carry_the_reader_s_own_csrf_token(acme, globex, question):
    strict = Client(enforce_csrf_checks=True)
    _page(strict, acme, question)  # kept with acme's session
    html = _page(strict, globex, question)
    assert "\x00" not in html
    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', _post(html, 2))
    assert len(tokens) == 1
    reply = Post.objects.get(topic=question, number=2)
    response = strict.post(
        f"/community/posts/{reply.pk}/react/",
        {"kind": "upvote", "csrfmiddlewaretoken": tokens[0]},
    )
    assert response.status_code == 302
    assert reply.reactions.filter(user=globex, kind="upvote").count() == 1


def test_one_kept_reply_box_serves_every_topic_with_its_own_address(
    client, acme, globex, engineer, public_space, question, monkeypatch
):
    other = actions.create_topic(
        engineer, public_space, title="Inverter log export", body="Which format?"
    )
    composed = []
    render = post_fragments.render_to_string

    def counting(name, context=None, *args, **kwargs):
        if name == "community/includes/composer.html":
            composed.append(context["reply_url"])
        return render(name, context, *args, **kwargs)

    monkeypatch.setattr(post_fragments, "render_to_string", counting)
    first = _page(client, acme, question)
    second = _page(client, globex, other)
    assert f'action="/community/t/{question.pk}/reply/"' in first
    assert f'action="/community/t/{other.pk}/reply/"' in second
    assert f"/community/t/{question.pk}/reply/" not in second
    assert "\x00" not in first + second
    assert len(composed) == 1  # the second topic's box came from the kept one
