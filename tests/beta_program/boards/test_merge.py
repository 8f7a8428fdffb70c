"""Merging a duplicate idea into its primary and undoing it: which votes survive (one per person,
the higher importance), comments, followers and tags moved and back, the duplicate's status,
the notice its voters get, the refusals, and the product staff's admin screens."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from beta_program.boards import actions
from beta_program.boards.exceptions import VotingClosed
from beta_program.boards.merge import MergeRefused, merge, undo_merge
from beta_program.boards.models import (
    Board,
    Comment,
    Idea,
    IdeaMerge,
    IdeaStatusChange,
    Subscription,
    Tag,
    Visibility,
    Vote,
)
from portal import notifications
from portal.exceptions import PermissionDeniedError
from portal.models import AuditEvent, Notification


def counted(idea: Idea) -> dict[str, int]:
    """The idea's counted personal votes: voter e-mail -> importance."""
    return {
        v.voter.email: v.importance
        for v in Vote.objects.filter(idea=idea, suppressed_by__isnull=True, on_behalf=False)
    }


def counters(idea: Idea) -> tuple[int, int, int, int]:
    idea.refresh_from_db()
    return (idea.vote_count, idea.organisation_count, idea.importance_total, idea.comment_count)


@pytest.fixture
def pair(public_board, org_a, org_b, admin_a, admin_b, member_a, member_b, viewer_a, propose):
    """The brief's worked example: the duplicate has votes of A (important) and B, the primary
    of A (critical) and C. A = member_a, B = member_b (Globex), C = viewer_a."""
    duplicate = propose(public_board, org_a, admin_a, title="Export as CSV")
    primary = propose(public_board, org_b, admin_b, title="CSV export of the dashboard")
    actions.vote(duplicate, org_a, member_a, 2)
    actions.vote(duplicate, org_b, member_b, 1)
    actions.vote(primary, org_a, member_a, 3)
    actions.vote(primary, org_a, viewer_a, 2)
    return duplicate, primary


def test_worked_example_votes_merge_and_undo_exactly(pair, product):
    duplicate, primary = pair
    # when product staff merge the duplicate into the primary
    record = merge(duplicate, primary, product)
    # then the primary has A critical, B and C: three votes from two organisations
    assert counted(primary) == {
        "member@acme.example": 3,
        "member@globex.example": 1,
        "viewer@acme.example": 2,
    }
    assert counters(primary) == (3, 2, 6, 0)
    # and nothing counts on the duplicate (A's weaker vote is kept there, suppressed)
    assert counters(duplicate) == (0, 0, 0, 0)
    weaker = Vote.objects.get(idea=duplicate, voter__email="member@acme.example")
    assert (weaker.importance, weaker.suppressed_by_id) == (2, record.pk)
    moved = Vote.objects.get(idea=primary, voter__email="member@globex.example")
    assert moved.origin_idea_id == duplicate.pk
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == primary.pk
    assert duplicate.status.key == "duplicate"
    assert len(record.moved["votes"]) == 1
    assert len(record.moved["suppressed"]) == 1

    # when the merge is undone
    undo_merge(record, product)
    # then both ideas have exactly their original votes back
    assert counted(duplicate) == {"member@acme.example": 2, "member@globex.example": 1}
    assert counted(primary) == {"member@acme.example": 3, "viewer@acme.example": 2}
    assert counters(duplicate) == (2, 2, 3, 0)
    assert counters(primary) == (2, 1, 5, 0)
    assert not Vote.objects.filter(origin_idea__isnull=False).exists()
    assert not Vote.objects.filter(suppressed_by__isnull=False).exists()
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id is None
    assert duplicate.status.key == "new"
    record.refresh_from_db()
    assert record.undone_by == product
    assert record.undone_at is not None


def test_the_stronger_vote_on_the_duplicate_wins_and_comes_back(
    public_board, org_a, admin_a, member_a, product, propose
):
    duplicate = propose(public_board, org_a, admin_a, title="Dark mode")
    primary = propose(public_board, org_a, admin_a, title="Dark theme")
    dup_vote = actions.vote(duplicate, org_a, member_a, 3)
    primary_vote = actions.vote(primary, org_a, member_a, 1)
    record = merge(duplicate, primary, product)
    # the duplicate's critical vote moved and counts; the primary's nice-to-have is suppressed
    assert counted(primary) == {"member@acme.example": 3}
    primary_vote.refresh_from_db()
    assert (primary_vote.idea_id, primary_vote.suppressed_by_id) == (primary.pk, record.pk)
    undo_merge(record, product)
    dup_vote.refresh_from_db()
    primary_vote.refresh_from_db()
    assert (dup_vote.idea_id, dup_vote.origin_idea_id) == (duplicate.pk, None)
    assert primary_vote.suppressed_by_id is None
    assert counted(primary) == {"member@acme.example": 1}
    assert counted(duplicate) == {"member@acme.example": 3}


def test_staff_votes_one_per_organisation_the_higher_wins(
    public_board, org_a, org_b, admin_a, product, propose
):
    duplicate = propose(public_board, org_a, admin_a, title="Dark mode")
    primary = propose(public_board, org_a, admin_a, title="Dark theme")
    weak = Vote.objects.create(
        idea=duplicate, voter=product, organisation=org_b, importance=1, on_behalf=True
    )
    other = Vote.objects.create(
        idea=duplicate, voter=product, organisation=org_a, importance=2, on_behalf=True
    )
    strong = Vote.objects.create(
        idea=primary, voter=product, organisation=org_b, importance=3, on_behalf=True
    )
    record = merge(duplicate, primary, product)
    assert record.moved["votes"] == [other.pk]
    assert record.moved["suppressed"] == [weak.pk]
    assert counters(primary)[:3] == (2, 2, 5)
    undo_merge(record, product)
    assert set(Vote.objects.filter(idea=duplicate, suppressed_by=None)) == {weak, other}
    assert set(Vote.objects.filter(idea=primary, suppressed_by=None)) == {strong}


def test_comments_followers_and_tags_move_and_come_back(pair, product, admin_a, admin_b):
    duplicate, primary = pair
    comment = Comment.objects.create(idea=duplicate, author=admin_a, body="Also for PDF?")
    actions.recount(duplicate.pk)
    shared = Tag.objects.create(name="Export", slug="export")
    extra = Tag.objects.create(name="Reports", slug="reports")
    duplicate.tags.set([shared, extra])
    primary.tags.set([shared])
    # duplicate followers: admin_a (author), member_a and member_b (voters); primary's: admin_b,
    # member_a and viewer_a
    record = merge(duplicate, primary, product)
    comment.refresh_from_db()
    assert (comment.idea_id, comment.origin_idea_id) == (primary.pk, duplicate.pk)
    assert counters(primary)[3] == 1
    followers = {s.user.email for s in Subscription.objects.filter(idea=primary)}
    assert followers == {
        "admin@acme.example",
        "member@globex.example",
        "admin@globex.example",
        "member@acme.example",
        "viewer@acme.example",
    }
    # member_a's own row on the primary won; theirs on the duplicate stayed
    assert {s.user.email for s in Subscription.objects.filter(idea=duplicate)} == {
        "member@acme.example"
    }
    assert set(primary.tags.values_list("slug", flat=True)) == {"export", "reports"}
    assert record.moved["tags"] == [extra.pk]

    undo_merge(record, product)
    comment.refresh_from_db()
    assert (comment.idea_id, comment.origin_idea_id) == (duplicate.pk, None)
    assert counters(duplicate)[3] == 1
    assert counters(primary)[3] == 0
    assert {s.user.email for s in Subscription.objects.filter(idea=duplicate)} == {
        "admin@acme.example",
        "member@acme.example",
        "member@globex.example",
    }
    assert {s.user.email for s in Subscription.objects.filter(idea=primary)} == {
        "admin@globex.example",
        "member@acme.example",
        "viewer@acme.example",
    }
    assert not Subscription.objects.filter(origin_idea__isnull=False).exists()
    # only the tag the merge added left the primary
    assert list(primary.tags.values_list("slug", flat=True)) == ["export"]
    assert set(duplicate.tags.values_list("slug", flat=True)) == {"export", "reports"}


def test_status_history_audit_and_one_notice_to_the_duplicates_people(pair, product):
    duplicate, primary = pair
    record = merge(duplicate, primary, product)
    change = IdeaStatusChange.objects.get(idea=duplicate)
    assert (change.from_status.key, change.to_status.key) == ("new", "duplicate")
    assert change.note == f"Merged into #{primary.pk}"
    assert change.note_zh == f"已合并到 #{primary.pk}"
    assert change.changed_by == product
    event = AuditEvent.objects.get(action="boards.ideas_merged")
    assert event.details == {
        "merge_id": record.pk,
        "primary_id": primary.pk,
        "votes": 1,
        "suppressed": 1,
        "comments": 0,
        "subscriptions": 2,
        "tags": 0,
    }
    # the duplicate's voters and followers, once each; the primary's own people hear nothing
    notices = Notification.objects.filter(kind="boards.merged")
    assert {n.recipient.email for n in notices} == {
        "admin@acme.example",
        "member@acme.example",
        "member@globex.example",
    }
    notice = notices.first()
    assert notice.link == f"/ideas/{primary.pk}/"
    assert notifications.message(notice) == (
        f"Idea #{duplicate.pk}, which you voted for or follow, was merged into "
        f"“CSV export of the dashboard” (#{primary.pk})"
    )
    with translation.override("zh-hans"):
        assert notifications.message(notice) == (
            f"你投票或关注的创意 #{duplicate.pk} 已合并到“CSV export of the dashboard”"
            f"（#{primary.pk}）"
        )
    # no status-change notice, no CRM event
    assert not Notification.objects.filter(kind="boards.status_changed").exists()

    undo_merge(record, product)
    undone = IdeaStatusChange.objects.filter(idea=duplicate).last()
    assert (undone.from_status.key, undone.to_status.key) == ("duplicate", "new")
    assert (undone.note, undone.note_zh) == ("Merge undone", "已撤销合并")
    assert AuditEvent.objects.get(action="boards.merge_undone").details == {
        "merge_id": record.pk,
        "primary_id": primary.pk,
        "kept_suppressed": [],
    }


def test_a_merged_idea_takes_no_votes_and_opens_again_after_undo(pair, product, org_a, admin_a):
    duplicate, primary = pair
    record = merge(duplicate, primary, product)
    with pytest.raises(VotingClosed) as closed:
        actions.vote(duplicate, org_a, admin_a, 2)
    assert closed.value.message == f"This idea was merged into #{primary.pk}: vote there."
    assert not Vote.objects.filter(voter=admin_a).exists()
    undo_merge(record, product)
    actions.vote(duplicate, org_a, admin_a, 2)
    assert counted(duplicate)["admin@acme.example"] == 2


def test_undo_keeps_the_newer_vote_cast_on_the_primary(
    public_board, org_a, admin_a, member_a, product, propose
):
    duplicate = propose(public_board, org_a, admin_a, title="Dark mode")
    primary = propose(public_board, org_a, admin_a, title="Dark theme")
    actions.vote(duplicate, org_a, member_a, 3)
    old = actions.vote(primary, org_a, member_a, 1)
    record = merge(duplicate, primary, product)
    # after the merge the person withdraws the moved vote and votes anew on the primary
    assert actions.withdraw_vote(primary, member_a)
    newer = actions.vote(primary, org_a, member_a, 2)
    undo_merge(record, product)
    # the newer vote stays the counted one; the old one stays suppressed
    assert set(Vote.objects.filter(idea=primary, suppressed_by=None)) == {newer}
    old.refresh_from_db()
    assert old.suppressed_by_id == record.pk
    assert counted(duplicate) == {}
    assert counters(primary)[:3] == (1, 1, 2)
    assert AuditEvent.objects.get(action="boards.merge_undone").details["kept_suppressed"] == [
        old.pk
    ]


def _nothing_merged(*ideas: Idea) -> None:
    assert not IdeaMerge.objects.exists()
    for idea in ideas:
        idea.refresh_from_db()
        assert idea.merged_into_id is None


def test_refusals_say_why_and_change_nothing(pair, product, public_board, org_a, admin_a, propose):
    duplicate, primary = pair
    third = propose(public_board, org_a, admin_a, title="Excel export")
    with pytest.raises(MergeRefused) as refused:
        merge(duplicate, duplicate, product)
    assert refused.value.message == "An idea cannot be merged into itself."
    _nothing_merged(duplicate, primary)
    assert counted(primary) == {"member@acme.example": 3, "viewer@acme.example": 2}

    first = merge(third, primary, product)
    with pytest.raises(MergeRefused) as refused:
        merge(third, duplicate, product)
    assert refused.value.message == (
        f"#{third.pk} is already merged into #{primary.pk}; undo that merge first."
    )
    with pytest.raises(MergeRefused) as refused:
        merge(duplicate, third, product)
    assert refused.value.message == (
        f"#{third.pk} is itself merged into #{primary.pk}; merge into #{primary.pk} instead."
    )
    assert IdeaMerge.objects.get() == first
    undo_merge(first, product)
    with pytest.raises(MergeRefused) as refused:
        undo_merge(first, product)
    assert refused.value.message == "This merge was already undone."


def test_undo_waits_for_a_later_merge_of_the_primary(
    pair, product, public_board, org_a, admin_a, propose
):
    duplicate, primary = pair
    final = propose(public_board, org_a, admin_a, title="Every export format")
    first = merge(duplicate, primary, product)
    second = merge(primary, final, product)
    with pytest.raises(MergeRefused) as refused:
        undo_merge(first, product)
    assert refused.value.message == (
        f"#{primary.pk} was merged into #{final.pk} since; undo that merge first."
    )
    # B's vote came from the duplicate and keeps that origin on the final idea
    moved = Vote.objects.get(voter__email="member@globex.example")
    assert (moved.idea_id, moved.origin_idea_id) == (final.pk, duplicate.pk)
    undo_merge(second, product)
    moved.refresh_from_db()
    assert (moved.idea_id, moved.origin_idea_id) == (primary.pk, duplicate.pk)
    undo_merge(first, product)
    moved.refresh_from_db()
    assert (moved.idea_id, moved.origin_idea_id) == (duplicate.pk, None)
    assert counted(primary) == {"member@acme.example": 3, "viewer@acme.example": 2}


def test_boards_voters_would_lose_sight_of_are_refused(
    public_board, private_board, org_a, org_b, admin_a, product, propose
):
    shared = Board.objects.create(name="Joint board", slug="joint", visibility=Visibility.PRIVATE)
    shared.organisations.set([org_a, org_b])
    shared.save()
    public_idea = propose(public_board, org_a, admin_a, title="Public idea")
    private_idea = propose(private_board, org_a, admin_a, title="Acme's idea")
    joint_idea = propose(shared, org_a, admin_a, title="Joint idea")
    message = (
        f"Some people who see #{public_idea.pk} cannot see the board of #{private_idea.pk}: they "
        "would lose sight of their votes. Merge into an idea on a board they all see."
    )
    # public -> private: refused
    with pytest.raises(MergeRefused) as refused:
        merge(public_idea, private_idea, product)
    assert refused.value.message == message
    # private to Acme and Globex -> private to Acme: refused
    with pytest.raises(MergeRefused):
        merge(joint_idea, private_idea, product)
    _nothing_merged(public_idea, private_idea, joint_idea)
    # private to Acme -> private to Acme and Globex, and private -> public: fine
    undo_merge(merge(private_idea, joint_idea, product), product)
    merge(private_idea, public_idea, product)
    assert Idea.objects.get(pk=private_idea.pk).merged_into_id == public_idea.pk


def test_only_product_staff_merge_and_undo(pair, product, admin_a, staff_success):
    duplicate, primary = pair
    for person in (admin_a, staff_success):
        with pytest.raises(PermissionDeniedError):
            merge(duplicate, primary, person)
    _nothing_merged(duplicate, primary)
    record = merge(duplicate, primary, product)
    for person in (admin_a, staff_success):
        with pytest.raises(PermissionDeniedError):
            undo_merge(record, person)
    record.refresh_from_db()
    assert record.undone_at is None


# --- the admin screens


def test_admin_merge_screen_previews_merges_and_undoes(client, pair, product):
    duplicate, primary = pair
    client.force_login(product)
    url = reverse("boards_idea_merge", kwargs={"idea_id": duplicate.pk})
    assert url == f"/admin/idea-merges/idea/{duplicate.pk}/"
    # search the board by title words
    page = client.get(url, {"q": "dashboard"})
    assert page.status_code == 200
    assert [i.pk for i in page.context["candidates"]] == [primary.pk]
    # choosing the primary shows what will move, and writes nothing
    page = client.get(url, {"primary": primary.pk})
    assert page.context["counts"] == {
        "votes": 1,
        "suppressed": 1,
        "comments": 0,
        "subscriptions": 2,
        "tags": 0,
    }
    assert "Votes moved" in page.content.decode()
    assert not IdeaMerge.objects.exists()
    # confirming merges
    response = client.post(url, {"primary": primary.pk})
    assert response.status_code == 302
    assert response["Location"] == url
    record = IdeaMerge.objects.get()
    assert (record.duplicate_id, record.primary_id, record.merged_by) == (
        duplicate.pk,
        primary.pk,
        product,
    )
    page = client.get(url)
    undo_url = reverse("boards_merge_undo", kwargs={"merge_id": record.pk})
    assert undo_url in page.content.decode()
    # the undo's confirmation, then the undo
    confirm = client.get(undo_url)
    assert confirm.status_code == 200
    assert "Undo the merge" in confirm.content.decode()
    assert IdeaMerge.objects.get().undone_at is None
    response = client.post(undo_url)
    assert response["Location"] == url
    assert IdeaMerge.objects.get().undone_at is not None


def test_admin_refusal_is_shown_and_nothing_merges(client, pair, product):
    duplicate, _primary = pair
    client.force_login(product)
    url = reverse("boards_idea_merge", kwargs={"idea_id": duplicate.pk})
    page = client.get(url, {"primary": duplicate.pk})
    assert page.context["refusal"] == "An idea cannot be merged into itself."
    response = client.post(url, {"primary": duplicate.pk}, follow=True)
    assert "An idea cannot be merged into itself." in response.content.decode()
    response = client.post(url, {"primary": 999999}, follow=True)
    assert "There is no idea #999999." in response.content.decode()
    assert not IdeaMerge.objects.exists()


def test_admin_screens_refuse_customers_and_other_staff(
    client, pair, product, admin_a, staff_success
):
    duplicate, primary = pair
    record = merge(duplicate, primary, product)
    urls = [
        reverse("boards_idea_merge", kwargs={"idea_id": primary.pk}),
        reverse("boards_merge_undo", kwargs={"merge_id": record.pk}),
    ]
    for url in urls:
        # anonymous and customers: to sign-in
        for person in (None, admin_a):
            client.logout()
            if person:
                client.force_login(person)
            for method in ("get", "post"):
                response = getattr(client, method)(url, {"primary": duplicate.pk})
                assert response.status_code == 302, url
                assert response["Location"].startswith("/accounts/login/"), url
        # staff of another role: back to the admin's home
        client.force_login(staff_success)
        for method in ("get", "post"):
            response = getattr(client, method)(url, {"primary": duplicate.pk})
            assert response.status_code == 302
            assert response["Location"] == "/admin/"
    record.refresh_from_db()
    assert record.undone_at is None
    assert IdeaMerge.objects.count() == 1


def test_unknown_ids_are_404_for_product_staff(client, product):
    client.force_login(product)
    assert client.get("/admin/idea-merges/idea/999999/").status_code == 404
    assert client.get("/admin/idea-merges/999999/undo/").status_code == 404


def test_the_notice_goes_only_to_people_who_may_see_the_primary(pair, product, org_b):
    duplicate, primary = pair
    # given Globex's account closed since member_b voted on the duplicate
    org_b.is_active = False
    org_b.save(update_fields=["is_active"])
    # when the ideas are merged
    merge(duplicate, primary, product)
    # then only Acme's people hear of it
    assert {n.recipient.email for n in Notification.objects.filter(kind="boards.merged")} == {
        "admin@acme.example",
        "member@acme.example",
    }
