"""Community's entries for the authorisation walk (tests/authz.py imports this module).

Community pages are not under /o/<org_slug>/: a space admits people by its audience rule. The
walk's "foreign organisation" owns a private space (audience: that organisation only) with a
topic, a reply and an attachment in it; a member of another organisation must get 404 for each.
"""

from __future__ import annotations


def _foreign_space(org):
    from community.models import Audience, Space

    slug = f"walk-{org.slug}"
    space = Space.objects.filter(slug=slug).first()
    if space is None:
        space = Space.objects.create(
            name=f"Private to {org.name}", slug=slug, audience=Audience.ORGANISATIONS
        )
        space.organisations.set([org])
    return space


def _foreign_topic(org):
    from django.core.files.base import ContentFile

    from community.models import Attachment, Post, Topic
    from portal.models import Membership

    space = _foreign_space(org)
    topic = Topic.objects.filter(space=space).first()
    if topic is not None:
        return topic
    author = Membership.objects.filter(organisation=org).select_related("user").first()
    author = author.user if author else None
    topic = Topic.objects.create(space=space, title="Private question", author=author)
    Post.objects.create(topic=topic, number=1, author=author, body="secret", html="<p>secret</p>")
    reply = Post.objects.create(
        topic=topic, number=2, author=author, body="reply", html="<p>reply</p>"
    )
    attachment = Attachment(post=reply, name="x.pdf", content_type="application/pdf", size=8)
    attachment.file.save("x.pdf", ContentFile(b"%PDF-1.4\n%%EOF"), save=False)
    attachment.save()
    return topic


def _foreign_post(org):
    return _foreign_topic(org).posts.get(number=2)


def _foreign_tag(org):
    from community.models import Tag

    return Tag.objects.get_or_create(slug="walk-tag", defaults={"name": "Walk tag"})[0]


def _foreign_handle(org):
    """The handle of someone who shares no space with the walker: a foreign organisation's
    member with no public posts. Their profile shows only what the walker may see."""
    from community.access import member_for
    from portal.models import Membership

    membership = Membership.objects.filter(organisation=org).select_related("user").first()
    if membership is None:
        from tests.factories import MembershipFactory

        membership = MembershipFactory(organisation=org)
    return member_for(membership.user).handle


URL_PARAM_SAMPLES: dict = {
    "space_slug": lambda org: _foreign_space(org).slug,
    "topic_id": lambda org: _foreign_topic(org).pk,
    "post_id": lambda org: _foreign_post(org).pk,
    "attachment_id": lambda org: _foreign_post(org).attachments.get().pk,
}

NESTED_PARAM_SAMPLES: dict = {
    "tag_slug": lambda org: _foreign_tag(org).slug,
    # A person who shares no readable post with the walker does not exist for them.
    "handle": _foreign_handle,
}
# Tags belong to nobody: the tag page lists only the topics the reader may see (tested in
# tests/community), so the walk checks only that anonymous visitors are sent to sign in.
SHARED_PARAMS = {"tag_slug"}

API_PARAM_SAMPLES: dict = {
    "topic_id": lambda org: _foreign_topic(org).pk,
    "post_id": lambda org: _foreign_post(org).pk,
}


# --- Personal ownership within one organisation: a question and its answer written by another
# member, in a space of the caller's own organisation. Only the author (or a moderator) may edit
# or delete a post, only the asker (or vendor staff) may accept an answer: 403, nothing changes.


def _personal_question(org, other):
    from community.models import Audience, Post, Space, Topic, TopicKind

    slug = f"walk-own-{org.slug}"
    space = Space.objects.filter(slug=slug).first()
    if space is None:
        space = Space.objects.create(
            name=f"Board of {org.name}", slug=slug, audience=Audience.ORGANISATIONS
        )
        space.organisations.set([org])
    topic = Topic.objects.filter(space=space, author=other).first()
    if topic is None:
        topic = Topic.objects.create(
            space=space, title="Whose answer?", author=other, kind=TopicKind.QUESTION
        )
        Post.objects.create(topic=topic, number=1, author=other, body="q", html="<p>q</p>")
        Post.objects.create(topic=topic, number=2, author=other, body="a", html="<p>a</p>")
    return topic


def _others_reply(org, caller, other):
    return {"post_id": _personal_question(org, other).posts.get(number=2).pk}


def _others_question(org, caller, other):
    return {"topic_id": _personal_question(org, other).pk}


PERSONAL_ROUTE_SAMPLES: dict = {
    "community:edit_post": _others_reply,
    "community:delete_post": _others_reply,
}
PERSONAL_API_SAMPLES: dict = {
    ("post", "/api/v1/community/posts/{post_id}/accept"): _others_reply,
    ("delete", "/api/v1/community/topics/{topic_id}/accepted-answer"): _others_question,
}
# Valid submissions, so that a refusal comes from the ownership rule and not from the form.
WRITE_BODIES: dict = {
    "community:edit_post": lambda own, foreign: {"body": "Changed by someone else"},
    "community:delete_post": lambda own, foreign: {},
}
API_BODIES: dict = {
    ("post", "/api/v1/community/topics/{topic_id}/replies"): lambda own, foreign: {
        "body": "A reply from the walk"
    },
    ("post", "/api/v1/community/posts/{post_id}/reactions"): lambda own, foreign: {
        "kind": "upvote"
    },
}
