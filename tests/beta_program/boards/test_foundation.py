"""The boards' core rules: who sees a board (public, private to chosen organisations, behind a
programme's NDA), one vote per person with importance, counters per person and per account,
and the notification filter that keeps a private idea inside its board."""

from __future__ import annotations

import pytest

from beta_program.boards import actions
from beta_program.boards.access import idea_or_404, ideas_for, who_may_see
from beta_program.boards.exceptions import IdeaRefused, VotingClosed
from beta_program.boards.models import Board, Idea, IdeaStatus, Subscription
from beta_program.programmes import actions as programme_actions
from beta_program.programmes.models import NdaVersion
from portal.exceptions import PermissionDeniedError
from portal.models import OutboxEvent


def test_private_board_is_seen_by_its_organisations_and_staff_only(
    public_board, private_board, org_a, org_b, admin_a, admin_b, product
):
    assert set(Board.objects.visible_to(admin_a, org_a)) == {public_board, private_board}
    assert set(Board.objects.visible_to(admin_b, org_b)) == {public_board}
    # admin_a acting for an organisation they do not belong to gains nothing from org_a's rights
    # through the board rule: the organisation decides.
    assert set(Board.objects.visible_to(admin_a, org_b)) == {public_board}
    assert set(Board.objects.visible_to(product, None)) == {public_board, private_board}


def test_private_idea_is_404_for_the_third_party_through_their_own_loader(
    private_board, org_a, org_b, admin_a, admin_b, propose
):
    from django.http import Http404

    idea = propose(private_board, org_a, admin_a, title="Secret pump controller")
    assert idea_or_404(admin_a, org_a, idea.pk) == idea
    with pytest.raises(Http404):
        idea_or_404(admin_b, org_b, idea.pk)
    assert not ideas_for(admin_b, org_b).filter(pk=idea.pk).exists()


def test_nda_board_needs_the_programmes_current_nda(
    confidential, product, org_a, admin_a, member_a
):
    board = Board.objects.create(name="Firmware ideas", slug="fw", nda_programme=confidential)
    assert not Board.objects.visible_to(admin_a, org_a).filter(pk=board.pk).exists()
    programme_actions.submit_application(confidential, org_a, admin_a, {})
    draft = NdaVersion.objects.create(programme=confidential, title="NDA", body="Quiet.")
    programme_actions.publish_nda(draft, product)
    programme_actions.accept_nda(confidential, org_a, admin_a, version=1)
    assert Board.objects.visible_to(admin_a, org_a).filter(pk=board.pk).exists()
    assert not Board.objects.visible_to(member_a, org_a).filter(pk=board.pk).exists()
    # A new NDA version shuts the board until it is accepted again.
    draft2 = NdaVersion.objects.create(programme=confidential, title="NDA 2", body="Quieter.")
    programme_actions.publish_nda(draft2, product)
    assert not Board.objects.visible_to(admin_a, org_a).filter(pk=board.pk).exists()


def test_proposing_starts_new_subscribes_the_author_and_sends_ids_only(
    public_board, org_a, admin_a, propose
):
    idea = propose(public_board, org_a, admin_a, title="Carbon per SKU")
    assert idea.status.key == "new"
    assert Subscription.objects.filter(idea=idea, user=admin_a, active=True).exists()
    event = OutboxEvent.objects.get(type="greenloop.boards.idea_created")
    assert event.data == {
        "idea_id": idea.pk,
        "board_id": public_board.pk,
        "author_id": admin_a.pk,
        "private_board": False,
    }
    assert "Carbon" not in str(event.data)


def test_bad_proposal_names_the_field(public_board, org_a, admin_a, propose):
    with pytest.raises(IdeaRefused) as refused:
        propose(public_board, org_a, admin_a, title="   ")
    assert refused.value.field == "title"
    assert not Idea.objects.exists()


def test_one_vote_per_person_counted_per_person_and_per_account(
    public_board, org_a, org_b, admin_a, member_a, admin_b, consultant, propose
):
    idea = propose(public_board, org_a, admin_a)
    actions.vote(idea, org_a, admin_a, 1)
    actions.vote(idea, org_a, member_a, 3, "Audits every quarter")
    actions.vote(idea, org_b, admin_b, 2)
    idea.refresh_from_db()
    assert (idea.vote_count, idea.organisation_count, idea.importance_total) == (3, 2, 6)
    # Voting again changes the vote, it does not add one.
    actions.vote(idea, org_a, admin_a, 3)
    idea.refresh_from_db()
    assert (idea.vote_count, idea.organisation_count, idea.importance_total) == (3, 2, 8)
    assert actions.withdraw_vote(idea, member_a) is True
    assert actions.withdraw_vote(idea, member_a) is False
    idea.refresh_from_db()
    assert (idea.vote_count, idea.organisation_count, idea.importance_total) == (2, 2, 5)


def test_importance_outside_1_to_3_is_refused(public_board, org_a, admin_a, propose):
    idea = propose(public_board, org_a, admin_a)
    for bad in (0, 4, -1):
        with pytest.raises(IdeaRefused) as refused:
            actions.vote(idea, org_a, admin_a, bad)
        assert refused.value.field == "importance"


def test_third_party_cannot_vote_on_a_private_idea(
    private_board, org_a, org_b, admin_a, admin_b, propose
):
    idea = propose(private_board, org_a, admin_a)
    with pytest.raises(PermissionDeniedError):
        actions.vote(idea, org_b, admin_b, 3)
    # Nor by naming an organisation they do not belong to.
    with pytest.raises(PermissionDeniedError):
        actions.vote(idea, org_a, admin_b, 3)


def test_closed_idea_takes_no_votes(public_board, org_a, admin_a, member_a, propose):
    idea = propose(public_board, org_a, admin_a)
    Idea.objects.filter(pk=idea.pk).update(status=IdeaStatus.objects.get(key="declined"))
    idea.refresh_from_db()
    with pytest.raises(VotingClosed):
        actions.vote(idea, org_a, member_a, 2)


def test_notification_filter_keeps_private_ideas_inside_the_board(
    private_board, public_board, org_a, admin_a, member_a, admin_b, consultant, product, propose
):
    secret = propose(private_board, org_a, admin_a)
    everyone = {admin_a.pk, member_a.pk, admin_b.pk, consultant.pk, product.pk}
    # The consultant belongs to org_a and org_b: they see it through org_a.
    assert who_may_see(secret, everyone) == {admin_a.pk, member_a.pk, consultant.pk, product.pk}
    open_idea = propose(public_board, org_a, admin_a)
    assert who_may_see(open_idea, everyone) == everyone


def test_default_workflow_is_seeded(db):
    keys = list(IdeaStatus.objects.values_list("key", flat=True))
    assert keys == [
        "new",
        "under_review",
        "planned",
        "in_progress",
        "shipped",
        "declined",
        "duplicate",
    ]
    assert IdeaStatus.objects.get(key="shipped").requires_note
    assert IdeaStatus.objects.get(key="declined").requires_note
    assert IdeaStatus.objects.initial().key == "new"
