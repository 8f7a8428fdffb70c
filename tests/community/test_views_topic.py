"""Topic pages: reading, starting topics, replies, edits and history, deletion, reactions,
accepted answers, quotes, flags, staff tools and attachments, for an allowed member, a member of
another organisation, a suspended member and an anonymous visitor; bounded queries."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from community import access, actions
from community.models import (
    Attachment,
    Flag,
    Level,
    Member,
    Post,
    PostRevision,
    PostStatus,
    Reaction,
    ReactionKind,
    Space,
    Subscription,
    Topic,
    TopicKind,
    WhoCanPost,
)
from tests.community.conftest import settled

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (3, 2), (13, 148, 136)).save(buffer, "PNG")
    return buffer.getvalue()


def stored_files(name: str) -> list[Path]:
    """Files of that name in the attachments' private storage (other tests, run in parallel,
    store files there too: the names used for refusals are unique to them)."""
    root = Path(Attachment._meta.get_field("file").storage.location)
    return list(root.rglob(name)) if root.exists() else []


def url(name: str, **kwargs) -> str:
    return reverse(f"community:{name}", kwargs=kwargs)


def page(response) -> str:
    return response.content.decode()


@pytest.fixture
def asked(member_a, engineer, private_space):
    """A question in Acme's private space with an engineer's reply carrying a PDF."""
    settled(member_a)
    topic = actions.create_topic(
        member_a, private_space, title="Inverter firmware 2.1 fails", body="It stops at 40 %."
    )
    answer = actions.reply(
        engineer,
        topic,
        body="Flash 2.1.1 first.",
        attachments=[SimpleUploadedFile("steps.pdf", PDF, content_type="application/pdf")],
    )
    return topic, answer


@pytest.fixture
def public_topic(member_a, engineer, public_space):
    settled(member_a)
    topic = actions.create_topic(
        member_a, public_space, title="Where is the Scope 2 figure?", body="On which page?"
    )
    answer = actions.reply(engineer, topic, body="Under Reports, then Scope 2.")
    return topic, answer


def every_route(topic: Topic, post: Post) -> list[tuple[str, str]]:
    attachment = Attachment.objects.filter(post__topic=topic).first()
    routes = [
        ("get", url("new_topic", space_slug=topic.space.slug)),
        ("post", url("new_topic", space_slug=topic.space.slug)),
        ("get", url("topic", topic_id=topic.pk)),
        ("post", url("reply", topic_id=topic.pk)),
        ("get", url("edit_post", post_id=post.pk)),
        ("post", url("edit_post", post_id=post.pk)),
        ("get", url("history", post_id=post.pk)),
        ("get", url("delete_post", post_id=post.pk)),
        ("post", url("delete_post", post_id=post.pk)),
        ("post", url("react", post_id=post.pk)),
        ("post", url("accept", post_id=post.pk)),
        ("get", url("flag", post_id=post.pk)),
        ("post", url("flag", post_id=post.pk)),
        ("get", url("quote", post_id=post.pk)),
        ("get", url("staff_actions", topic_id=topic.pk)),
        ("post", url("staff_actions", topic_id=topic.pk)),
    ]
    if attachment is not None:
        routes.append(("get", url("attachment", attachment_id=attachment.pk)))
    return routes


# --------------------------------------------------------------------------------------------
# Who may open what
# --------------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, asked):
    # given a topic with a reply and an attachment
    topic, answer = asked
    for method, address in every_route(topic, answer):
        # when an anonymous visitor opens each page
        response = getattr(client, method)(address, {"kind": "upvote", "body": "x"})
        # then they are sent to sign in
        assert response.status_code == 302, f"{method} {address}"
        assert response["Location"].startswith("/accounts/login/"), f"{method} {address}"


def test_member_of_another_organisation_gets_404_for_a_private_space(client, asked, member_b):
    # given a question in Acme's private space / and a Globex member
    topic, answer = asked
    settled(member_b)
    client.force_login(member_b)
    for method, address in every_route(topic, answer):
        # when they open any of its pages, even by POST
        response = getattr(client, method)(
            address, {"kind": "upvote", "body": "Let me in", "reason": "spam", "action": "pin"}
        )
        # then none of it exists for them
        assert response.status_code == 404, f"{method} {address}"
    # and nothing changed
    assert Post.objects.filter(topic=topic).count() == 2
    assert Reaction.objects.count() == 0
    assert Flag.objects.count() == 0
    assert Topic.objects.get(pk=topic.pk).is_pinned is False


def test_allowed_member_reads_the_topic(client, asked, member_a, org_a):
    # given Acme's question answered by an engineer
    topic, answer = asked
    client.force_login(member_a)
    # when the asker opens it
    response = client.get(url("topic", topic_id=topic.pk))
    # then they see the question, the answer, who wrote what, and the PDF with its size
    assert response.status_code == 200
    html = page(response)
    assert "Inverter firmware 2.1 fails" in html
    assert "Flash 2.1.1 first." in html
    assert 'href="/community/people/member/"' in html
    assert 'href="/community/people/engineer/"' in html
    assert org_a.name in html
    assert "Vendor team" in html
    pdf = Attachment.objects.get(post=answer)
    assert url("attachment", attachment_id=pdf.pk) in html
    assert "steps.pdf" in html
    # and no e-mail address is shown
    assert "member@acme.example" not in html
    assert "engineer@greenloop.example" not in html
    # and the visit is recorded
    assert Member.objects.get(user=member_a).last_seen_at is not None


def test_topic_page_shows_the_current_notification_level(client, public_topic, member_a, member_b):
    topic, _answer = public_topic
    # given the asker (watching their own topic) and someone without a subscription
    client.force_login(member_a)
    watching = page(client.get(url("topic", topic_id=topic.pk)))
    client.force_login(member_b)
    normal = page(client.get(url("topic", topic_id=topic.pk)))
    # then each sees their own level chosen, posting to the level view
    assert url("topic_level", topic_id=topic.pk) in watching
    assert '<option value="watching" selected>' in watching
    assert '<option value="normal" selected>' in normal


# --------------------------------------------------------------------------------------------
# Starting topics and replying
# --------------------------------------------------------------------------------------------


def test_member_starts_a_topic_with_tags(client, member_a, public_space, tags):
    # given a settled member
    settled(member_a)
    client.force_login(member_a)
    form = client.get(url("new_topic", space_slug=public_space.slug))
    assert form.status_code == 200
    assert 'name="kind"' in page(form)
    # when they post a discussion with two tags
    response = client.post(
        url("new_topic", space_slug=public_space.slug),
        {
            "kind": "discussion",
            "title": "How we report Scope 2",
            "body": "We use market-based figures.",
            "tags": ["firmware", "储能"],
        },
    )
    # then the topic exists and they land on it
    topic = Topic.objects.get()
    assert response.status_code == 302
    assert response["Location"] == topic.get_absolute_url()
    assert topic.kind == TopicKind.DISCUSSION
    assert topic.title == "How we report Scope 2"
    assert set(topic.tags.values_list("slug", flat=True)) == {"firmware", "储能"}
    assert topic.posts.get().body == "We use market-based figures."


def test_new_topic_errors_are_shown_on_the_form(client, member_a, public_space):
    # given a member / when they give a title that is too short
    settled(member_a)
    client.force_login(member_a)
    response = client.post(
        url("new_topic", space_slug=public_space.slug),
        {"kind": "question", "title": "Help", "body": "It is broken."},
    )
    # then the form comes back with the reason and nothing is created
    assert response.status_code == 400
    assert "Give the topic a title of at least 5 characters." in page(response)
    assert "It is broken." in page(response)
    assert Topic.objects.count() == 0


def test_member_replies_and_lands_on_the_reply(client, public_topic, member_b):
    # given a topic in a public space and a member of another organisation
    topic, _answer = public_topic
    settled(member_b)
    client.force_login(member_b)
    # when they reply
    response = client.post(url("reply", topic_id=topic.pk), {"body": "Same here."})
    # then the reply is the third post and they land on its anchor
    reply = Post.objects.get(topic=topic, number=3)
    assert reply.author == member_b
    assert response.status_code == 302
    assert response["Location"] == f"/community/t/{topic.pk}/#post-3"


def test_reply_error_keeps_the_text_in_the_composer(client, public_topic, member_b, member_a):
    # given a post of another topic
    topic, _answer = public_topic
    other = actions.create_topic(member_a, topic.space, title="Another topic", body="Other.")
    settled(member_b)
    client.force_login(member_b)
    # when a reply names it as the post it answers
    response = client.post(
        url("reply", topic_id=topic.pk),
        {"body": "My careful answer", "reply_to": other.posts.get().pk},
    )
    # then the topic page comes back with the error and the text, and nothing is posted
    assert response.status_code == 400
    html = page(response)
    assert "The post you replied to is gone; reply to the topic instead." in html
    assert "My careful answer</textarea>" in html
    assert topic.posts.count() == 2


def test_new_member_over_the_hourly_limit_gets_429(client, public_space, member_b):
    # given a new member who already posted three times this hour
    topic = actions.create_topic(member_b, public_space, title="First steps here", body="Hi.")
    actions.reply(member_b, topic, body="Second.")
    actions.reply(member_b, topic, body="Third.")
    client.force_login(member_b)
    # when they reply again through the page
    response = client.post(url("reply", topic_id=topic.pk), {"body": "Fourth."})
    # then they are told when they can post again, and nothing is posted
    assert response.status_code == 429
    assert "New members can post 3 times an hour" in page(response)
    assert "Fourth.</textarea>" in page(response)
    assert topic.posts.count() == 3


def test_suspended_member_reads_but_cannot_post(client, public_topic, member_b, public_space):
    # given a suspended member
    topic, _answer = public_topic
    settled(member_b)
    member = access.member_for(member_b)
    member.suspended_until = timezone.now() + dt.timedelta(days=3)
    member.suspension_reason = "Repeated spam"
    member.save()
    client.force_login(member_b)
    # when they open the topic
    response = client.get(url("topic", topic_id=topic.pk))
    # then they can read it, and the composer says why they cannot reply
    assert response.status_code == 200
    assert "Under Reports, then Scope 2." in page(response)
    assert "Your posting is suspended until" in page(response)
    assert "Repeated spam" in page(response)
    assert url("reply", topic_id=topic.pk) not in page(response)
    # when they post a reply and a topic anyway
    reply = client.post(url("reply", topic_id=topic.pk), {"body": "Let me in"})
    new_form = client.get(url("new_topic", space_slug=public_space.slug))
    new = client.post(
        url("new_topic", space_slug=public_space.slug),
        {"kind": "question", "title": "Buy cheap watches", "body": "Spam"},
    )
    # then both are refused with the reason
    assert reply.status_code == 403
    assert "Repeated spam" in page(reply)
    assert new_form.status_code == 200
    assert "Repeated spam" in page(new_form)
    assert 'name="title"' not in page(new_form)
    assert new.status_code == 403
    assert "Repeated spam" in page(new)
    # and nothing was posted
    assert topic.posts.count() == 2
    assert Topic.objects.count() == 1


def test_locked_topic_refuses_replies(client, public_topic, engineer, member_b):
    # given a topic that staff locked
    topic, _answer = public_topic
    actions.set_locked(engineer, topic, True)
    settled(member_b)
    client.force_login(member_b)
    # when a member opens it and replies anyway
    shown = client.get(url("topic", topic_id=topic.pk))
    response = client.post(url("reply", topic_id=topic.pk), {"body": "Bump"})
    # then the page says it is locked and the reply is refused
    assert "This topic is locked: it takes no new replies." in page(shown)
    assert url("reply", topic_id=topic.pk) not in page(shown)
    assert response.status_code == 403
    assert "This topic is locked: it takes no new replies." in page(response)
    assert topic.posts.count() == 2


def test_customers_cannot_post_in_a_staff_only_space(client, member_a, engineer):
    # given an announcements space where only staff post, with a staff topic
    space = Space.objects.create(
        name="Announcements", slug="announcements", who_can_post=WhoCanPost.STAFF
    )
    topic = actions.create_topic(engineer, space, title="Firmware 3.0 is out", body="Notes.")
    settled(member_a)
    client.force_login(member_a)
    # when a customer opens the new-topic page, posts a topic and a reply
    form = client.get(url("new_topic", space_slug=space.slug))
    created = client.post(
        url("new_topic", space_slug=space.slug),
        {"kind": "question", "title": "Is 3.0 stable?", "body": "Asking."},
    )
    replied = client.post(url("reply", topic_id=topic.pk), {"body": "Thanks!"})
    # then each answer says that only invited people post there
    message = "You can read this space, but only people it invites can post in it."
    assert form.status_code == 200
    assert message in page(form)
    assert created.status_code == 403
    assert message in page(created)
    assert replied.status_code == 403
    assert message in page(replied)
    assert Topic.objects.count() == 1
    assert topic.posts.count() == 1


# --------------------------------------------------------------------------------------------
# Accepted answers and reactions
# --------------------------------------------------------------------------------------------


def test_asker_accepts_and_unaccepts_an_answer(client, public_topic, member_a, member_b):
    topic, answer = public_topic
    # given another member: no accept button, and accepting is refused
    settled(member_b)
    client.force_login(member_b)
    assert url("accept", post_id=answer.pk) not in page(client.get(topic.get_absolute_url()))
    refused = client.post(url("accept", post_id=answer.pk), follow=True)
    assert "Only the person who asked or vendor staff can accept an answer." in page(refused)
    assert Topic.objects.get(pk=topic.pk).accepted_answer is None
    # when the asker accepts the engineer's reply
    client.force_login(member_a)
    assert url("accept", post_id=answer.pk) in page(client.get(topic.get_absolute_url()))
    response = client.post(url("accept", post_id=answer.pk))
    # then the topic is solved and the answer is highlighted and linked under the question
    assert response.status_code == 302
    assert response["Location"] == answer.get_absolute_url()
    assert Topic.objects.get(pk=topic.pk).accepted_answer == answer
    html = page(client.get(topic.get_absolute_url()))
    assert "Solved" in html
    assert 'class="post post--accepted" id="post-2"' in html
    assert 'href="#post-2">Go to the answer' in html
    # when they take it back
    client.post(url("accept", post_id=answer.pk), {"undo": "1"})
    # then the question is open again
    assert Topic.objects.get(pk=topic.pk).accepted_answer is None


def test_reactions_toggle(client, public_topic, member_b):
    topic, answer = public_topic
    settled(member_b)
    client.force_login(member_b)
    # when a member thanks the engineer
    response = client.post(url("react", post_id=answer.pk), {"kind": "thanks"})
    # then the reaction is on, and highlighted on the page
    assert response["Location"] == answer.get_absolute_url()
    assert Reaction.objects.get().kind == ReactionKind.THANKS
    assert Post.objects.get(pk=answer.pk).reaction_count == 1
    html = page(client.get(topic.get_absolute_url()))
    assert 'value="thanks" class="btn btn--small btn--secondary reaction" aria-pressed="true"' in (
        html
    )
    # when they press it again, asking for JSON
    toggled = client.post(
        url("react", post_id=answer.pk), {"kind": "thanks"}, headers={"Accept": "application/json"}
    )
    # then it is off
    assert toggled.json() == {"on": False, "count": 0}
    assert Reaction.objects.count() == 0
    assert Post.objects.get(pk=answer.pk).reaction_count == 0
    again = client.post(
        url("react", post_id=answer.pk), {"kind": "upvote"}, headers={"Accept": "application/json"}
    )
    assert again.json() == {"on": True, "count": 1}


def test_no_reacting_to_your_own_post(client, public_topic, member_a):
    topic, _answer = public_topic
    opening = topic.posts.get(number=1)
    client.force_login(member_a)
    response = client.post(
        url("react", post_id=opening.pk), {"kind": "upvote"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["message"] == "You cannot react to your own post."
    assert Reaction.objects.count() == 0


# --------------------------------------------------------------------------------------------
# Edit, history, delete, quote, flag
# --------------------------------------------------------------------------------------------


def test_edit_creates_a_revision_shown_in_history(client, public_topic, member_a, member_b, tags):
    topic, _answer = public_topic
    opening = topic.posts.get(number=1)
    client.force_login(member_a)
    form = client.get(url("edit_post", post_id=opening.pk))
    assert form.status_code == 200
    assert "Where is the Scope 2 figure?" in page(form)
    # when the author changes the title, text and tags
    response = client.post(
        url("edit_post", post_id=opening.pk),
        {
            "title": "Where is the Scope 2 total?",
            "body": "Which page, please?",
            "tags": ["scope-2"],
        },
    )
    # then the post shows the new text and the old one is a revision
    assert response.status_code == 302
    assert response["Location"] == opening.get_absolute_url()
    topic.refresh_from_db()
    opening.refresh_from_db()
    assert topic.title == "Where is the Scope 2 total?"
    assert opening.body == "Which page, please?"
    assert list(topic.tags.values_list("slug", flat=True)) == ["scope-2"]
    revision = PostRevision.objects.get(post=opening)
    assert (revision.number, revision.title, revision.body) == (
        1,
        "Where is the Scope 2 figure?",
        "On which page?",
    )
    # and the topic page links the history, which any reader may open
    assert url("history", post_id=opening.pk) in page(client.get(topic.get_absolute_url()))
    client.force_login(member_b)
    history = client.get(url("history", post_id=opening.pk))
    assert history.status_code == 200
    html = page(history)
    assert html.index("Which page, please?") < html.index("On which page?")
    assert "Where is the Scope 2 figure?" in html


def test_only_author_or_moderator_edits(client, public_topic, member_b, moderator):
    topic, answer = public_topic
    # given another member
    settled(member_b)
    client.force_login(member_b)
    # when they try to edit the engineer's answer
    shown = client.get(url("edit_post", post_id=answer.pk))
    posted = client.post(url("edit_post", post_id=answer.pk), {"body": "Defaced"})
    # then they are refused and nothing changed
    assert shown.status_code == 403
    assert posted.status_code == 403
    assert "Only the author or a moderator can change this post." in page(posted)
    assert Post.objects.get(pk=answer.pk).body == "Under Reports, then Scope 2."
    # when a moderator edits it
    client.force_login(moderator)
    response = client.post(url("edit_post", post_id=answer.pk), {"body": "Reports → Scope 2."})
    # then it is changed, with a revision
    assert response.status_code == 302
    assert Post.objects.get(pk=answer.pk).body == "Reports → Scope 2."
    assert PostRevision.objects.get(post=answer).edited_by == moderator


def test_author_deletes_their_reply(client, public_topic, member_b):
    topic, _answer = public_topic
    settled(member_b)
    reply = actions.reply(member_b, topic, body="Oops, wrong topic.")
    client.force_login(member_b)
    # when they open the confirmation and confirm
    confirm = client.get(url("delete_post", post_id=reply.pk))
    response = client.post(url("delete_post", post_id=reply.pk))
    # then the reply is deleted and gone from the page
    assert confirm.status_code == 200
    assert "Delete the post" in page(confirm)
    assert response.status_code == 302
    assert response["Location"] == topic.get_absolute_url()
    assert Post.objects.get(pk=reply.pk).status == PostStatus.DELETED
    assert "Oops, wrong topic." not in page(client.get(topic.get_absolute_url()))


def test_others_cannot_delete(client, public_topic, member_b):
    topic, answer = public_topic
    settled(member_b)
    client.force_login(member_b)
    response = client.post(url("delete_post", post_id=answer.pk))
    assert response.status_code == 403
    assert "Only the author or a moderator can delete this post." in page(response)
    assert Post.objects.get(pk=answer.pk).status == PostStatus.VISIBLE


def test_quote_prefills_the_composer(client, public_topic, member_b):
    topic, answer = public_topic
    settled(member_b)
    client.force_login(member_b)
    # when a member quotes the engineer's answer
    response = client.get(url("quote", post_id=answer.pk))
    # then the topic page opens with the quote in the composer, replying to that post
    assert response.status_code == 302
    assert response["Location"] == f"{topic.get_absolute_url()}?quote={answer.pk}#reply"
    html = page(client.get(response["Location"]))
    assert (
        "&gt; **@engineer** (#2):\n&gt;\n&gt; Under Reports, then Scope 2.\n\n</textarea>" in html
    )
    assert f'name="reply_to" value="{answer.pk}"' in html
    assert "Replying to #2 by @engineer." in html
    # when they post it
    client.post(
        url("reply", topic_id=topic.pk),
        {"body": "> Under Reports\n\nFound it, thanks.", "reply_to": answer.pk},
    )
    # then the reply records which post it answers
    assert Post.objects.get(topic=topic, number=3).reply_to == answer


def test_no_flagging_your_own_post(client, public_topic, member_a):
    topic, _answer = public_topic
    client.force_login(member_a)
    response = client.post(url("flag", post_id=topic.posts.get(number=1).pk), {"reason": "spam"})
    assert response.status_code == 400
    assert "You cannot flag your own post; edit or delete it instead." in page(response)
    assert Flag.objects.count() == 0


def test_member_flags_a_post(client, public_topic, member_b):
    topic, answer = public_topic
    settled(member_b)
    client.force_login(member_b)
    form = client.get(url("flag", post_id=answer.pk))
    assert form.status_code == 200
    assert 'value="off_topic"' in page(form)
    # when they flag the answer
    response = client.post(
        url("flag", post_id=answer.pk), {"reason": "off_topic", "note": "Wrong product"}
    )
    # then the flag is recorded and they are thanked on the topic
    assert response.status_code == 302
    assert response["Location"] == topic.get_absolute_url()
    flag = Flag.objects.get()
    assert (flag.post, flag.flagged_by, flag.reason, flag.note) == (
        answer,
        member_b,
        "off_topic",
        "Wrong product",
    )
    thanked = client.get(response["Location"])
    assert "Thank you for the flag." in page(thanked)
    # when they flag it again
    again = client.post(url("flag", post_id=answer.pk), {"reason": "spam"})
    # then the form says why not, and there is still one flag
    assert again.status_code == 400
    assert "You already flagged this post." in page(again)
    assert Flag.objects.count() == 1


def test_author_sees_their_post_pending_review(client, public_topic, member_b, member_a):
    # given a reply hidden after flags, pending a moderator's review
    topic, _answer = public_topic
    settled(member_b)
    reply = actions.reply(member_b, topic, body="Borderline remark")
    actions.set_post_status(reply, PostStatus.PENDING_REVIEW)
    # when its author opens the topic / then they see it with a notice
    client.force_login(member_b)
    own = page(client.get(topic.get_absolute_url()))
    assert "Borderline remark" in own
    assert "Hidden pending review" in own
    # when someone else opens it / then it is not there
    client.force_login(member_a)
    assert "Borderline remark" not in page(client.get(topic.get_absolute_url()))


# --------------------------------------------------------------------------------------------
# Staff tools
# --------------------------------------------------------------------------------------------


def test_staff_pin_lock_move_and_merge(client, public_topic, engineer, private_space, member_a):
    topic, _answer = public_topic
    other = actions.create_topic(member_a, topic.space, title="Scope 2 figure again", body="Hi")
    client.force_login(engineer)
    staff_url = url("staff_actions", topic_id=other.pk)
    assert staff_url in page(client.get(other.get_absolute_url()))
    assert client.get(staff_url).status_code == 200
    # when staff pin and lock it
    client.post(staff_url, {"action": "pin"})
    client.post(staff_url, {"action": "lock"})
    other.refresh_from_db()
    assert (other.is_pinned, other.is_locked) == (True, True)
    # when they move it to Acme's private space
    moved = client.post(staff_url, {"action": "move", "space": private_space.pk})
    assert moved.status_code == 302
    assert Topic.objects.get(pk=other.pk).space == private_space
    # when they merge it into the first topic
    merged = client.post(staff_url, {"action": "merge", "target": topic.pk})
    # then its posts follow the first topic's, and its address leads there for good
    assert merged["Location"] == topic.get_absolute_url()
    assert list(topic.posts.order_by("number").values_list("body", flat=True)) == [
        "On which page?",
        "Under Reports, then Scope 2.",
        "Hi",
    ]
    redirect = client.get(other.get_absolute_url())
    assert redirect.status_code == 301
    assert redirect["Location"] == topic.get_absolute_url()


def test_staff_merge_into_unknown_topic_is_refused(client, public_topic, engineer):
    topic, _answer = public_topic
    client.force_login(engineer)
    response = client.post(
        url("staff_actions", topic_id=topic.pk), {"action": "merge", "target": topic.pk + 999}
    )
    assert response.status_code == 400
    assert "There is no topic with that number; check its address." in page(response)
    assert Topic.objects.get(pk=topic.pk).merged_into is None


def test_customers_cannot_use_staff_tools(client, public_topic, member_a):
    topic, _answer = public_topic
    client.force_login(member_a)
    # the topic page offers no staff link
    assert url("staff_actions", topic_id=topic.pk) not in page(client.get(topic.get_absolute_url()))
    for action in ("pin", "lock"):
        response = client.post(url("staff_actions", topic_id=topic.pk), {"action": action})
        assert response.status_code == 403
        assert "Only vendor staff can pin, lock, move or merge topics." in page(response)
    topic.refresh_from_db()
    assert (topic.is_pinned, topic.is_locked) == (False, False)


# --------------------------------------------------------------------------------------------
# Attachments
# --------------------------------------------------------------------------------------------


def test_attachments_are_uploaded_and_served_only_to_readers(
    client, member_a, member_b, private_space
):
    # given a member who starts a topic with an image and a PDF
    settled(member_a)
    client.force_login(member_a)
    response = client.post(
        url("new_topic", space_slug=private_space.slug),
        {
            "kind": "question",
            "title": "Display shows E42",
            "body": "Photo and manual attached.",
            "attachments": [
                SimpleUploadedFile("display.png", png(), content_type="image/png"),
                SimpleUploadedFile("manual.pdf", PDF, content_type="application/pdf"),
            ],
        },
    )
    assert response.status_code == 302
    image = Attachment.objects.get(name="display.png")
    pdf = Attachment.objects.get(name="manual.pdf")
    assert (image.content_type, pdf.content_type, pdf.size) == (
        "image/png",
        "application/pdf",
        len(PDF),
    )
    # then the page shows the image inline and links the PDF
    html = page(client.get(response["Location"]))
    assert f'<img src="{url("attachment", attachment_id=image.pk)}"' in html
    assert f'href="{url("attachment", attachment_id=pdf.pk)}">manual.pdf</a>' in html
    # when the files are opened
    shown = client.get(url("attachment", attachment_id=image.pk))
    downloaded = client.get(url("attachment", attachment_id=pdf.pk))
    # then they come with their checked type and headers that keep browsers from running them
    assert shown.status_code == 200
    assert b"".join(shown.streaming_content) == png()
    assert shown["Content-Type"] == "image/png"
    assert shown["Content-Disposition"].startswith("inline")
    assert downloaded["Content-Type"] == "application/pdf"
    assert downloaded["Content-Disposition"] == 'attachment; filename="manual.pdf"'
    for served in (shown, downloaded):
        assert served["X-Content-Type-Options"] == "nosniff"
        assert served["Cache-Control"] == "private, no-store"
        assert served["Content-Security-Policy"] == (
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
        )
    # and a member of another organisation gets nothing
    client.force_login(member_b)
    assert client.get(url("attachment", attachment_id=pdf.pk)).status_code == 404


def test_attachment_of_a_deleted_post_is_not_served(client, asked, member_a):
    topic, answer = asked
    attachment = Attachment.objects.get(post=answer)
    actions.set_post_status(answer, PostStatus.DELETED)
    client.force_login(member_a)
    assert client.get(url("attachment", attachment_id=attachment.pk)).status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("oversize-e42.png", "big", "oversize-e42.png is 1.5 MB; attachments may be at most 1 MB."),
        ("script-e42.png", b"<html><script>alert(1)</script></html>", "script-e42.png is not an"),
        (
            "png-e42.pdf",
            "png",
            "png-e42.pdf is named as another kind of file than it contains (PNG).",
        ),
    ],
)
def test_bad_attachments_are_refused_and_nothing_is_stored(
    client, settings, member_a, public_topic, name, content, message
):
    # given a 1 MB limit and a file that is too big, a script named .png, or a PNG named .pdf
    settings.COMMUNITY_ATTACHMENT_MAX_BYTES = 1024 * 1024
    data = {"big": png() + b"0" * (1536 * 1024 - len(png())), "png": png()}.get(content, content)
    topic, _answer = public_topic
    client.force_login(member_a)
    # when it is attached to a reply and to a new topic
    replied = client.post(
        url("reply", topic_id=topic.pk),
        {"body": "See the file.", "attachments": [SimpleUploadedFile(name, data)]},
    )
    created = client.post(
        url("new_topic", space_slug=topic.space.slug),
        {
            "kind": "question",
            "title": "A file for you",
            "body": "See the file.",
            "attachments": [SimpleUploadedFile(name, data)],
        },
    )
    # then both are refused with the file's name in the message
    for response in (replied, created):
        assert response.status_code == 400
        assert message in page(response)
    # and nothing was stored
    assert Attachment.objects.count() == 0
    assert stored_files(name) == []
    assert Topic.objects.count() == 1
    assert topic.posts.count() == 2


# --------------------------------------------------------------------------------------------
# Query bounds
# --------------------------------------------------------------------------------------------


def _topic_with_replies(asker, space, people, count: int) -> Topic:
    topic = actions.create_topic(asker, space, title=f"Topic with {count} replies", body="Q")
    for index in range(count):
        author = people[index % len(people)]
        post = actions.reply(
            author,
            topic,
            body=f"Reply {index} for @{access.member_for(asker).handle}",
            attachments=[SimpleUploadedFile(f"r{index}.png", png(), content_type="image/png")],
        )
        actions.react(asker, post, ReactionKind.UPVOTE)
    actions.accept_answer(asker, topic.posts.get(number=2))
    return topic


def test_topic_page_queries_do_not_grow_with_replies(
    client, django_assert_max_num_queries, public_space, member_a, member_b, engineer, admin_b
):
    # given topics with 3 and 30 replies by several people, each with an image and a reaction
    for person in (member_a, member_b, admin_b):
        settled(person)
    people = [member_b, engineer, admin_b]
    small = _topic_with_replies(member_a, public_space, people, 3)
    large = _topic_with_replies(member_a, public_space, people, 30)
    client.force_login(member_a)
    client.get(small.get_absolute_url())  # the first visit records the member
    # when the asker opens each / then both take the same bounded number of queries
    # (user, topic, member, posts, attachments, reactions, level, tags; + 2: setting and
    # restoring the request's row-level scope, portal/tenancy.py)
    with django_assert_max_num_queries(10) as small_queries:
        small_page = client.get(small.get_absolute_url())
    with django_assert_max_num_queries(10) as large_queries:
        large_page = client.get(large.get_absolute_url())
    assert len(small_queries) == len(large_queries)
    assert small_page.status_code == large_page.status_code == 200
    assert page(large_page).count('<article class="post') == 31


def test_level_choices_match_the_model(client, public_topic, member_a):
    # the level select offers exactly the subscription levels
    topic, _answer = public_topic
    client.force_login(member_a)
    html = page(client.get(topic.get_absolute_url()))
    for level in Level.values:
        assert f'<option value="{level}"' in html
    assert Subscription.objects.get(user=member_a, topic=topic).level == Level.WATCHING


def test_json_reaction_on_hidden_post_is_refused(client, public_topic, moderator):
    # a moderator can read a hidden post but not react to it
    topic, answer = public_topic
    actions.set_post_status(answer, PostStatus.HIDDEN)
    client.force_login(moderator)
    response = client.post(
        url("react", post_id=answer.pk), {"kind": "upvote"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert json.loads(response.content)["message"] == "This post is hidden."


def test_a_question_hidden_by_flags_stays_open_to_its_author_and_moderators(
    client, member_a, admin_a, moderator, public_space, ask
):
    # given a question whose opening post was hidden pending review
    topic = ask(settled(member_a), public_space, title="Is this allowed here?")
    actions.set_post_status(topic.posts.get(), PostStatus.PENDING_REVIEW)
    url = reverse("community:topic", kwargs={"topic_id": topic.pk})

    # when its author opens it / then they see it with the review notice
    client.force_login(member_a)
    response = client.get(url)
    assert response.status_code == 200
    assert "Hidden pending review" in response.content.decode()

    # and a moderator can open it to decide
    client.force_login(moderator)
    assert client.get(url).status_code == 200

    # but for everyone else it does not exist, on the page and in lists
    client.force_login(admin_a)
    assert client.get(url).status_code == 404
    assert "Is this allowed here?" not in client.get(reverse("community:index")).content.decode()
