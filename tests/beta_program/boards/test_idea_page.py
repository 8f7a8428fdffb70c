"""The idea page (/o/<slug>/ideas/<id>/): what it shows to whom, the vote box, following and
attachments. A third party meets a private idea as 404 through its own organisation's URL, for
GET and every POST, and nothing is written; merged ideas redirect to their primary; refused
votes come back as messages."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.files.base import ContentFile

from beta_program.boards import actions
from beta_program.boards.models import (
    Comment,
    Idea,
    IdeaAttachment,
    IdeaStatus,
    IdeaStatusChange,
    Subscription,
    Vote,
)
from portal.models import AuditEvent
from tests.community.test_xss import Page, assert_page_runs_nothing
from tests.xss_payloads import PAYLOADS


def _url(org, idea, tail: str = "") -> str:
    return f"/o/{org.slug}/ideas/{idea.pk}/{tail}"


def _attach(idea) -> IdeaAttachment:
    attachment = IdeaAttachment(idea=idea, name="sketch.png", content_type="image/png", size=8)
    attachment.file.save("sketch.png", ContentFile(b"\x89PNG\r\n\x1a\n"), save=False)
    attachment.save()
    return attachment


@pytest.fixture
def named(admin_a, admin_b):
    admin_a.first_name, admin_a.last_name = "Anna", "Schmidt"
    admin_a.save()
    admin_b.first_name, admin_b.last_name = "Wei", "Li"
    admin_b.save()


def test_third_party_gets_404_for_a_private_idea_through_its_own_url(
    client, private_board, org_a, org_b, admin_a, admin_b, propose
):
    # given a private idea of Acme with an attachment and a comment
    idea = propose(private_board, org_a, admin_a, title="Secret pump")
    attachment = _attach(idea)
    Comment.objects.create(idea=idea, organisation=org_a, author=admin_a, body="Secret")
    comment = Comment.objects.get()
    subscriptions = Subscription.objects.count()
    client.force_login(admin_b)
    # when Globex's admin opens it, its attachment, and posts to every action, under Globex's URL
    answers = [
        client.get(_url(org_b, idea)).status_code,
        client.get(_url(org_b, idea, f"attachments/{attachment.pk}/")).status_code,
        client.post(_url(org_b, idea, "vote/"), {"importance": "3"}).status_code,
        client.post(_url(org_b, idea, "unvote/")).status_code,
        client.post(_url(org_b, idea, "comments/"), {"body": "Me too"}).status_code,
        client.post(_url(org_b, idea, f"comments/{comment.pk}/hide/")).status_code,
        client.post(_url(org_b, idea, "subscription/"), {"subscribed": "1"}).status_code,
    ]
    # then every answer is 404 and nothing is written
    assert answers == [404, 404, 404, 404, 404, 404, 404]
    assert Vote.objects.count() == 0
    assert list(Comment.objects.values_list("body", "hidden")) == [("Secret", False)]
    assert Subscription.objects.count() == subscriptions
    assert Idea.objects.get().vote_count == 0


def test_a_merged_idea_redirects_to_its_primary_with_a_message(
    client, public_board, org_a, admin_a, propose
):
    primary = propose(public_board, org_a, admin_a, title="Export as CSV")
    duplicate = propose(public_board, org_a, admin_a, title="CSV export please")
    Idea.objects.filter(pk=duplicate.pk).update(merged_into=primary)
    client.force_login(admin_a)
    response = client.get(_url(org_a, duplicate))
    assert response.status_code == 302
    assert response["Location"] == f"/o/acme/ideas/{primary.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert f"That idea was merged into #{primary.pk}." in page


def test_the_page_shows_the_idea_with_markdown_tags_history_and_counts(
    client, public_board, org_a, admin_a, member_a, product, named, propose
):
    idea = propose(
        public_board,
        org_a,
        admin_a,
        title="Carbon per SKU",
        problem="We need **per-SKU** numbers.",
        solution="A `sku` column.",
    )
    actions.vote(idea, org_a, member_a, 3)
    from beta_program.boards.status_actions import change_status

    change_status(idea, IdeaStatus.objects.get(key="under_review"), product, note="We *look*.")
    client.force_login(member_a)
    page = client.get(_url(org_a, idea)).content.decode()
    assert "<strong>per-SKU</strong>" in page
    assert "<code>sku</code>" in page
    assert "<em>look</em>" in page
    assert '<span class="badge idea-status">Under review</span>' in page
    assert "<dt>Votes</dt><dd>1</dd>" in page
    assert "<dt>Organisations</dt><dd>1</dd>" in page
    # a colleague of the same organisation reads the proposer's name
    assert "Anna Schmidt" in page


def test_other_customers_read_a_customer_and_staff_read_names_and_organisations(
    client, public_board, org_a, org_b, admin_a, admin_b, superuser, named, propose
):
    idea = propose(public_board, org_a, admin_a)
    client.force_login(admin_b)
    page = client.get(_url(org_b, idea)).content.decode()
    assert "Anna Schmidt" not in page
    assert "Acme Solar" not in page
    assert "<dd>a customer</dd>" in page
    client.force_login(superuser)
    page = client.get(_url(org_b, idea)).content.decode()
    assert 'Anna Schmidt <span class="muted">(Acme Solar)</span>' in page


def test_chinese_readers_see_the_status_and_a_customer_in_chinese(
    client, public_board, org_a, org_b, admin_a, admin_b, propose
):
    idea = propose(public_board, org_a, admin_a)
    client.force_login(admin_b)
    page = client.get(_url(org_b, idea), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<span class="badge idea-status">新建</span>' in page
    assert "<dd>一位客户</dd>" in page


def test_a_chinese_reader_votes_an_idea_critical_in_words_of_importance(
    client, public_board, org_a, admin_a, member_a, propose
):
    # given an idea, and a member reading the portal in Chinese
    idea = propose(public_board, org_a, admin_a)
    client.force_login(member_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    # when they vote it critical
    client.post(_url(org_a, idea, "vote/"), {"importance": "3"})
    page = client.get(_url(org_a, idea)).content.decode()
    # then the importance reads 至关重要 (how much an idea matters), not a bug's severity 严重
    assert "您的投票：至关重要。" in page
    assert "严重" not in page


def test_voting_counts_people_and_organisations_and_can_be_changed_and_withdrawn(
    client, public_board, org_a, org_b, admin_a, member_a, admin_b, propose
):
    idea = propose(public_board, org_a, admin_a)
    client.force_login(member_a)
    client.post(_url(org_a, idea, "vote/"), {"importance": "3", "reason": "Audits"})
    client.force_login(admin_b)
    client.post(_url(org_b, idea, "vote/"), {"importance": "1"})
    idea.refresh_from_db()
    assert (idea.vote_count, idea.organisation_count, idea.importance_total) == (2, 2, 4)
    # changing the vote keeps one vote per person
    client.post(_url(org_b, idea, "vote/"), {"importance": "2"})
    idea.refresh_from_db()
    assert (idea.vote_count, idea.organisation_count, idea.importance_total) == (2, 2, 5)
    assert Vote.objects.get(voter=member_a).reason == "Audits"
    page = client.get(_url(org_b, idea)).content.decode()
    assert "You voted: Important." in page
    assert "Change my vote" in page
    response = client.post(_url(org_b, idea, "unvote/"), follow=True)
    assert "Your vote is withdrawn." in response.content.decode()
    idea.refresh_from_db()
    assert (idea.vote_count, idea.organisation_count, idea.importance_total) == (1, 1, 3)


@pytest.mark.parametrize("importance", ["abc", "4", "0", "", None, "２"])
def test_an_invalid_importance_is_a_message_and_no_vote(
    client, public_board, org_a, admin_a, member_a, propose, importance
):
    idea = propose(public_board, org_a, admin_a)
    client.force_login(member_a)
    body = {} if importance is None else {"importance": importance}
    response = client.post(_url(org_a, idea, "vote/"), body, follow=True)
    assert response.status_code == 200
    assert "Choose how important the idea is to you." in response.content.decode()
    assert Vote.objects.count() == 0
    assert Idea.objects.get().vote_count == 0


def test_a_closed_idea_says_why_voting_is_closed_and_refuses_votes(
    client, public_board, org_a, admin_a, member_a, propose
):
    idea = propose(public_board, org_a, admin_a)
    Idea.objects.filter(pk=idea.pk).update(status=IdeaStatus.objects.get(key="shipped"))
    client.force_login(member_a)
    page = client.get(_url(org_a, idea)).content.decode()
    assert "Voting is closed: this idea is shipped." in page
    assert 'name="importance"' not in page
    response = client.post(_url(org_a, idea, "vote/"), {"importance": "2"}, follow=True)
    assert "Voting is closed: this idea is shipped." in response.content.decode()
    assert Vote.objects.count() == 0


def test_staff_outside_the_organisation_get_no_vote_box(
    client, public_board, org_a, admin_a, superuser, propose
):
    idea = propose(public_board, org_a, admin_a)
    client.force_login(superuser)
    page = client.get(_url(org_a, idea)).content.decode()
    assert "Members of the organisation vote here." in page
    response = client.post(_url(org_a, idea, "vote/"), {"importance": "2"}, follow=True)
    assert "You cannot vote for this organisation." in response.content.decode()
    assert Vote.objects.count() == 0


def test_follow_and_unfollow(client, public_board, org_a, org_b, admin_a, admin_b, propose):
    idea = propose(public_board, org_a, admin_a)
    client.force_login(admin_b)
    assert "Follow</button>" in client.get(_url(org_b, idea)).content.decode()
    response = client.post(_url(org_b, idea, "subscription/"), {"subscribed": "1"}, follow=True)
    assert "You follow this idea." in response.content.decode()
    assert Subscription.objects.get(user=admin_b).active is True
    response = client.post(_url(org_b, idea, "subscription/"), {"subscribed": "0"}, follow=True)
    assert "You no longer follow this idea." in response.content.decode()
    assert Subscription.objects.get(user=admin_b).active is False
    # leaving is remembered: voting does not bring them back
    client.post(_url(org_b, idea, "vote/"), {"importance": "2"})
    assert Subscription.objects.get(user=admin_b).active is False
    response = client.post(_url(org_b, idea, "subscription/"), {"subscribed": "yes"}, follow=True)
    assert "Choose whether to follow the idea." in response.content.decode()


def test_attachments_download_hardened_for_those_who_see_the_idea(
    client, public_board, org_a, org_b, admin_a, admin_b, propose
):
    idea = propose(public_board, org_a, admin_a)
    attachment = _attach(idea)
    other = propose(public_board, org_a, admin_a, title="Another")
    client.force_login(admin_b)
    page = client.get(_url(org_b, idea)).content.decode()
    assert f'href="/o/globex/ideas/{idea.pk}/attachments/{attachment.pk}/"' in page
    response = client.get(_url(org_b, idea, f"attachments/{attachment.pk}/"))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"\x89PNG\r\n\x1a\n"
    assert response["Content-Disposition"] == 'attachment; filename="sketch.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    # another idea's id with this attachment: 404
    assert client.get(_url(org_b, other, f"attachments/{attachment.pk}/")).status_code == 404


def test_script_in_problem_solution_notes_and_comments_is_inert(
    client, public_board, org_a, admin_a, member_a, propose
):
    idea = propose(public_board, org_a, admin_a)
    hostile = "\n\n".join(PAYLOADS)
    Idea.objects.filter(pk=idea.pk).update(problem=hostile, solution=hostile)
    for payload in PAYLOADS:
        Comment.objects.create(idea=idea, organisation=org_a, author=member_a, body=payload)
    IdeaStatusChange.objects.create(
        idea=idea,
        from_status=IdeaStatus.objects.get(key="new"),
        to_status=IdeaStatus.objects.get(key="under_review"),
        note=hostile,
    )
    client.force_login(admin_a)
    response = client.get(_url(org_a, idea))
    assert response.status_code == 200
    parsed = Page(response.content.decode())
    assert_page_runs_nothing(parsed)
    text = "".join(parsed.all_text)
    assert "<script>alert(1)</script>" in text
    assert '<a href="javascript:alert(1)">raw link</a>' in text
    assert text.count("<svg onload=alert(1)>") == 4


def test_the_page_takes_a_bounded_number_of_queries_with_30_comments(
    client, public_board, org_a, org_b, admin_a, member_a, admin_b, propose,
    django_assert_max_num_queries,
):  # fmt: skip
    idea = propose(public_board, org_a, admin_a)
    authors = [(org_a, admin_a), (org_a, member_a), (org_b, admin_b)]
    for n in range(30):
        organisation, author = authors[n % 3]
        Comment.objects.create(
            idea=idea, organisation=organisation, author=author, body=f"Point {n} @someone"
        )
    client.force_login(admin_a)
    with django_assert_max_num_queries(30):
        response = client.get(_url(org_a, idea))
    assert response.content.decode().count('class="idea-comment"') == 30


def test_refused_writes_leave_no_audit_trail_of_changes(
    client, private_board, org_a, org_b, admin_a, admin_b, propose
):
    idea = propose(private_board, org_a, admin_a)
    before = AuditEvent.objects.count()
    client.force_login(admin_b)
    client.post(_url(org_b, idea, "comments/"), {"body": "Hello"})
    assert AuditEvent.objects.count() == before
