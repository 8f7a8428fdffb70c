"""Votes product staff record on behalf of an organisation: only Product staff, only for an
organisation that can see the idea, one per organisation and idea (a second one changes it),
audited and sent to the CRM as `idea_voted` with `on_behalf: true`; withdrawable; the admin form
offers only organisations that see the idea."""

from __future__ import annotations

import pytest

from beta_program.boards import accounts, actions
from beta_program.boards.exceptions import IdeaRefused
from beta_program.boards.models import Idea, Vote
from portal.exceptions import PermissionDeniedError
from portal.models import AuditEvent, OutboxEvent

NOTE = "Ms Li asked at the quarterly review"


def test_on_behalf_vote_counts_audits_and_publishes(
    public_board, org_a, org_b, admin_a, product, propose
):
    idea = propose(public_board, org_a, admin_a)
    vote = accounts.vote_on_behalf(idea, org_b, product, 3, NOTE)
    assert (vote.on_behalf, vote.voter, vote.organisation, vote.note) == (
        True,
        product,
        org_b,
        NOTE,
    )
    idea.refresh_from_db()
    assert (idea.vote_count, idea.organisation_count, idea.importance_total) == (1, 1, 3)
    event = OutboxEvent.objects.get(type="greenloop.boards.idea_voted")
    assert event.organisation == org_b
    assert event.data == {
        "idea_id": idea.pk,
        "vote_id": vote.pk,
        "voter_id": product.pk,
        "importance": 3,
        "changed": False,
        "on_behalf": True,
    }
    audit = AuditEvent.objects.get(action="boards.vote_on_behalf")
    assert audit.organisation == org_b
    assert audit.details == {"vote_id": vote.pk, "importance": 3, "changed": False}
    assert NOTE not in str(audit.details)
    [row] = [r for r in accounts.by_account(idea).rows if r.organisation == org_b]
    assert row.on_behalf.note == NOTE
    assert row.voters == []


def test_second_on_behalf_vote_changes_the_first(
    public_board, org_a, org_b, admin_a, product, propose
):
    idea = propose(public_board, org_a, admin_a)
    first = accounts.vote_on_behalf(idea, org_b, product, 1, NOTE)
    second = accounts.vote_on_behalf(idea, org_b, product, 3, "Asked again by e-mail")
    assert second.pk == first.pk
    assert Vote.objects.filter(idea=idea, on_behalf=True).count() == 1
    second.refresh_from_db()
    assert (second.importance, second.note) == (3, "Asked again by e-mail")
    idea.refresh_from_db()
    assert (idea.vote_count, idea.importance_total) == (1, 3)
    changed = OutboxEvent.objects.filter(type="greenloop.boards.idea_voted")
    assert sorted(e.data["changed"] for e in changed) == [False, True]


def test_people_and_staff_votes_of_one_organisation_both_count(
    public_board, org_a, admin_a, member_a, product, propose
):
    idea = propose(public_board, org_a, admin_a)
    actions.vote(idea, org_a, member_a, 1)
    accounts.vote_on_behalf(idea, org_a, product, 2, NOTE)
    idea.refresh_from_db()
    assert (idea.vote_count, idea.organisation_count) == (2, 1)
    [row] = accounts.by_account(idea).rows
    assert row.importance == 2


def test_refused_for_an_organisation_outside_a_private_board(
    private_board, org_a, org_b, admin_a, product, propose
):
    idea = propose(private_board, org_a, admin_a, title="Secret pump")
    with pytest.raises(IdeaRefused) as refused:
        accounts.vote_on_behalf(idea, org_b, product, 3, NOTE)
    assert refused.value.field == "organisation"
    assert not Vote.objects.exists()
    assert not OutboxEvent.objects.filter(type="greenloop.boards.idea_voted").exists()
    assert list(accounts.organisations_seeing(idea)) == [org_a]


def test_only_product_staff_vote_on_behalf(
    public_board, org_a, org_b, admin_a, admin_b, staff_success, product, propose
):
    idea = propose(public_board, org_a, admin_a)
    for person in (staff_success, admin_b):
        with pytest.raises(PermissionDeniedError):
            accounts.vote_on_behalf(idea, org_b, person, 3, NOTE)
    accounts.vote_on_behalf(idea, org_b, product, 3, NOTE)
    with pytest.raises(PermissionDeniedError):
        accounts.withdraw_on_behalf(idea, org_b, staff_success)
    assert Vote.objects.filter(on_behalf=True).count() == 1


def test_note_and_importance_are_required(public_board, org_a, org_b, admin_a, product, propose):
    idea = propose(public_board, org_a, admin_a)
    with pytest.raises(IdeaRefused) as refused:
        accounts.vote_on_behalf(idea, org_b, product, 3, "   ")
    assert refused.value.field == "note"
    with pytest.raises(IdeaRefused) as refused:
        accounts.vote_on_behalf(idea, org_b, product, 4, NOTE)
    assert refused.value.field == "importance"
    assert not Vote.objects.exists()


def test_withdraw_on_behalf_recounts(public_board, org_a, org_b, admin_a, product, propose):
    idea = propose(public_board, org_a, admin_a)
    accounts.vote_on_behalf(idea, org_b, product, 3, NOTE)
    assert accounts.withdraw_on_behalf(idea, org_b, product) is True
    assert accounts.withdraw_on_behalf(idea, org_b, product) is False
    idea.refresh_from_db()
    assert (idea.vote_count, idea.organisation_count) == (0, 0)
    assert AuditEvent.objects.filter(action="boards.vote_on_behalf_withdrawn").count() == 1


def test_admin_form_records_changes_and_withdraws(
    client, private_board, org_a, org_b, admin_a, product, propose
):
    idea = propose(private_board, org_a, admin_a, title="Secret pump")
    url = f"/admin/ideas-by-account/{idea.pk}/"
    client.force_login(product)
    page = client.get(url).content.decode()
    # the organisation choices only (the importance select has its own numbered options)
    choices = page.split('name="organisation"', 1)[1].split("</select>", 1)[0]
    assert f'<option value="{org_a.pk}"' in choices
    assert f'<option value="{org_b.pk}"' not in choices
    # an outsider organisation forged into the form: refused, nothing recorded
    response = client.post(url, {"organisation": org_b.pk, "importance": 3, "note": NOTE})
    assert response.status_code == 422
    assert not Vote.objects.exists()
    response = client.post(url, {"organisation": org_a.pk, "importance": 3, "note": ""})
    assert response.status_code == 422
    response = client.post(url, {"organisation": org_a.pk, "importance": 3, "note": NOTE})
    assert response.status_code == 302
    assert response["Location"] == url
    assert client.get(url).content.decode().count(NOTE) == 1
    client.post(url, {"organisation": org_a.pk, "importance": 1, "note": "Changed on the phone"})
    vote = Vote.objects.get(on_behalf=True)
    assert (vote.importance, vote.note) == (1, "Changed on the phone")
    response = client.post(f"{url}withdraw/", {"organisation": org_a.pk})
    assert response.status_code == 302
    assert not Vote.objects.exists()
    assert Idea.objects.get(pk=idea.pk).vote_count == 0


def test_admin_form_refuses_non_product_staff_and_customers(
    client, public_board, org_a, org_b, admin_a, staff_success, product, propose
):
    idea = propose(public_board, org_a, admin_a)
    accounts.vote_on_behalf(idea, org_b, product, 2, NOTE)
    url = f"/admin/ideas-by-account/{idea.pk}/"
    client.force_login(staff_success)
    page = client.get(url).content.decode()
    assert NOTE in page
    assert "Record the vote" not in page
    assert "Withdraw" not in page
    for person, refused_to in (
        (staff_success, "/admin/"),
        (admin_a, ("/accounts/login/", "/admin/login/")),
    ):
        client.force_login(person)
        for target, body in (
            (url, {"organisation": org_a.pk, "importance": 3, "note": NOTE}),
            (f"{url}withdraw/", {"organisation": org_b.pk}),
        ):
            response = client.post(target, body)
            assert response.status_code == 302
            assert response["Location"].startswith(refused_to)
    assert list(Vote.objects.values_list("organisation_id", "importance")) == [(org_b.pk, 2)]


def test_merged_idea_takes_no_vote_on_behalf(public_board, org_a, org_b, admin_a, product, propose):
    from beta_program.boards.exceptions import VotingClosed

    primary = propose(public_board, org_a, admin_a)
    duplicate = propose(public_board, org_a, admin_a, title="CSV export")
    Idea.objects.filter(pk=duplicate.pk).update(merged_into=primary)
    with pytest.raises(VotingClosed):
        accounts.vote_on_behalf(duplicate, org_b, product, 3, NOTE)
    assert not Vote.objects.exists()


def test_form_choices_agree_with_the_board_rule(
    public_board, private_board, org_a, org_b, admin_a, propose
):
    from beta_program.boards.models import Board
    from tests.factories import OrganisationFactory

    closed = OrganisationFactory(slug="closed", is_active=False)
    for board in (public_board, private_board):
        idea = propose(board, org_a, admin_a)
        offered = set(accounts.organisations_seeing(idea))
        for org in (org_a, org_b, closed):
            sees = Board.objects.for_organisation(org).filter(pk=board.pk).exists()
            assert (org in offered) == sees, (board.slug, org.slug)
    assert {o.slug for o in accounts.organisations_seeing(idea)} == {"acme"}
    private_board.archived = True
    private_board.save()
    idea.board.refresh_from_db()
    assert not accounts.organisations_seeing(idea).exists()
