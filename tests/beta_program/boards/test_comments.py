"""Comments on ideas: Markdown with @mentions (handles answered by the community through
portal.people), notifications to the people mentioned and to the idea's subscribers (never the
author, never anyone outside a private board), the author's subscription, the comment counter,
and product staff hiding a comment."""

from __future__ import annotations

import pytest
from django.utils import translation

from beta_program.boards import actions, comment_actions
from beta_program.boards.exceptions import BoardError
from beta_program.boards.models import Comment, Idea, Subscription
from community.access import member_for
from portal import notifications, people
from portal.exceptions import PermissionDeniedError
from portal.models import Notification


def _url(org, idea, tail: str = "") -> str:
    return f"/o/{org.slug}/ideas/{idea.pk}/{tail}"


def _handle(user) -> str:
    return member_for(user).handle


def _received(kind: str) -> set[int]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient_id", flat=True))


def test_handles_resolve_both_ways_through_the_community(admin_a, admin_b):
    member_for(admin_a)
    member_for(admin_b)
    # admin@acme.example and admin@globex.example share the local part: the second is numbered
    assert people.resolve_handles({"admin", "admin2", "nobody"}) == {
        "admin": admin_a.pk,
        "admin2": admin_b.pk,
    }
    assert people.handles_of([admin_a.pk, admin_b.pk, 999999]) == {
        admin_a.pk: "admin",
        admin_b.pk: "admin2",
    }
    assert people.lookup(handles=["ADMIN"]).links == {"admin": "/community/people/admin/"}
    assert people.resolve_handles(set()) == {}


def test_a_comment_notifies_subscribers_but_not_its_author_and_subscribes_the_author(
    client, public_board, org_a, org_b, admin_a, member_a, admin_b, propose
):
    # given an idea proposed by admin_a (subscribed) and followed by admin_b
    idea = propose(public_board, org_a, admin_a, title="Carbon per SKU")
    actions.set_subscribed(idea, org_b, admin_b, True)
    # when member_a comments through the page
    client.force_login(member_a)
    response = client.post(_url(org_a, idea, "comments/"), {"body": "We need this **too**."})
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/o/acme/ideas/{idea.pk}/#comment-{comment.pk}"
    # then the other subscribers are told once, the author is not, and the author now follows
    assert _received("boards.comment") == {admin_a.pk, admin_b.pk}
    assert Subscription.objects.get(user=member_a, idea=idea).active is True
    assert Idea.objects.get().comment_count == 1
    note = Notification.objects.get(recipient=admin_b)
    assert note.params == {"idea_id": idea.pk, "title": "Carbon per SKU", "comment_id": comment.pk}
    assert note.link == f"/ideas/{idea.pk}/"
    with translation.override("en"):
        assert notifications.message(note) == f"New comment on “Carbon per SKU” (#{idea.pk})"
    with translation.override("zh-hans"):
        assert notifications.message(note) == f"“Carbon per SKU”（#{idea.pk}）有新评论"
    page = client.get(_url(org_a, idea)).content.decode()
    assert "We need this <strong>too</strong>." in page


def test_an_author_who_left_stays_out_when_commenting(public_board, org_a, admin_a, propose):
    idea = propose(public_board, org_a, admin_a)
    actions.set_subscribed(idea, org_a, admin_a, False)
    comment_actions.add_comment(idea, org_a, admin_a, "Still here.")
    assert Subscription.objects.get(user=admin_a).active is False


def test_a_mention_notifies_the_colleague_once_and_links_to_them(
    client, public_board, org_a, admin_a, member_a, propose
):
    idea = propose(public_board, org_a, admin_a)
    handle = _handle(member_a)
    actions.set_subscribed(idea, org_a, member_a, True)
    client.force_login(admin_a)
    client.post(_url(org_a, idea, "comments/"), {"body": f"What do you think, @{handle}?"})
    # a mentioned subscriber hears it as a mention, not twice
    assert _received("boards.mention") == {member_a.pk}
    assert _received("boards.comment") == set()
    note = Notification.objects.get()
    with translation.override("en"):
        assert notifications.message(note).startswith("You were mentioned in a comment on “")
    page = client.get(_url(org_a, idea)).content.decode()
    assert f'<a href="/community/people/{handle}/" class="mention"' in page


def test_a_mention_of_someone_outside_a_private_board_notifies_nobody_and_links_nothing(
    client, private_board, org_a, admin_a, admin_b, propose
):
    # given a private board of Acme and a Globex admin with a community handle
    idea = propose(private_board, org_a, admin_a)
    handle = _handle(admin_b)
    # when Acme mentions them
    client.force_login(admin_a)
    client.post(_url(org_a, idea, "comments/"), {"body": f"Ask @{handle} about it"})
    # then nobody is notified (the author follows and is never told of their own comment)
    assert Notification.objects.count() == 0
    page = client.get(_url(org_a, idea)).content.decode()
    assert f"Ask @{handle} about it" in page
    assert f"/community/people/{handle}/" not in page


def test_an_empty_comment_is_a_message_and_nothing_is_written(
    client, public_board, org_a, admin_a, propose
):
    idea = propose(public_board, org_a, admin_a)
    client.force_login(admin_a)
    response = client.post(_url(org_a, idea, "comments/"), {"body": "  "}, follow=True)
    assert "This field is required." in response.content.decode()
    assert Comment.objects.count() == 0


def test_a_merged_idea_takes_no_comments(public_board, org_a, admin_a, propose):
    primary = propose(public_board, org_a, admin_a, title="A")
    duplicate = propose(public_board, org_a, admin_a, title="B")
    Idea.objects.filter(pk=duplicate.pk).update(merged_into=primary)
    with pytest.raises(BoardError) as refused:
        comment_actions.add_comment(duplicate, org_a, admin_a, "Hello")
    assert refused.value.message == f"This idea was merged into #{primary.pk}: comment there."
    assert Comment.objects.count() == 0


def test_staff_hide_a_comment_which_disappears_and_is_no_longer_counted(
    client, public_board, org_a, admin_a, member_a, superuser, propose
):
    idea = propose(public_board, org_a, admin_a)
    comment = comment_actions.add_comment(idea, org_a, member_a, "Buy cheap watches")
    kept = comment_actions.add_comment(idea, org_a, admin_a, "A real point")
    assert Idea.objects.get().comment_count == 2
    # a customer cannot hide it
    client.force_login(admin_a)
    response = client.post(_url(org_a, idea, f"comments/{comment.pk}/hide/"), follow=True)
    assert "Only product staff hide comments." in response.content.decode()
    assert Comment.objects.get(pk=comment.pk).hidden is False
    # staff can
    client.force_login(superuser)
    page = client.get(_url(org_a, idea)).content.decode()
    assert "Hide comment" in page
    response = client.post(_url(org_a, idea, f"comments/{comment.pk}/hide/"), follow=True)
    assert "The comment is hidden." in response.content.decode()
    assert Comment.objects.get(pk=comment.pk).hidden is True
    assert Idea.objects.get().comment_count == 1
    client.force_login(member_a)
    page = client.get(_url(org_a, idea)).content.decode()
    assert "Buy cheap watches" not in page
    assert f'id="comment-{kept.pk}"' in page


def test_staff_comment_as_the_product_team(
    client, public_board, org_a, admin_a, superuser, propose
):
    superuser.first_name, superuser.last_name = "Pia", "Product"
    superuser.save()
    idea = propose(public_board, org_a, admin_a)
    comment = comment_actions.add_comment(idea, org_a, superuser, "We are on it.")
    assert comment.organisation is None
    client.force_login(admin_a)
    page = client.get(_url(org_a, idea)).content.decode()
    assert "Pia Product (product team)" in page
    assert _received("boards.comment") == {admin_a.pk}


def test_a_viewer_of_another_organisation_cannot_comment_for_it(
    public_board, org_a, org_b, admin_a, admin_b, propose
):
    idea = propose(public_board, org_a, admin_a)
    with pytest.raises(PermissionDeniedError):
        comment_actions.add_comment(idea, org_a, admin_b, "Sneaky")
    assert Comment.objects.count() == 0
