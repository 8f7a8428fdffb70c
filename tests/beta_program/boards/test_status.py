"""The status workflow: only product staff move ideas, along the configured transitions;
shipped and declined need a public note; voters and subscribers who may see the idea are
notified in their own language; the CRM hears the change and, on shipping, each asking
organisation's record gets its own event."""

from __future__ import annotations

import pytest
from django.utils import translation

from beta_program.boards import actions
from beta_program.boards.exceptions import IdeaRefused, TransitionRefused
from beta_program.boards.models import IdeaStatus, IdeaStatusChange
from beta_program.boards.status_actions import change_status
from portal import notifications
from portal.exceptions import PermissionDeniedError
from portal.models import Notification, OutboxEvent


def _status(key: str) -> IdeaStatus:
    return IdeaStatus.objects.get(key=key)


def test_customers_and_non_product_staff_cannot_move_ideas(
    public_board, org_a, admin_a, staff_success, propose
):
    idea = propose(public_board, org_a, admin_a)
    for person in (admin_a, staff_success):
        with pytest.raises(PermissionDeniedError):
            change_status(idea, _status("planned"), person)


def test_workflow_transitions_and_required_notes(public_board, org_a, admin_a, product, propose):
    idea = propose(public_board, org_a, admin_a)
    # new -> in progress is not in the default workflow.
    with pytest.raises(TransitionRefused):
        change_status(idea, _status("in_progress"), product)
    with pytest.raises(IdeaRefused) as refused:
        change_status(idea, _status("declined"), product)
    assert refused.value.field == "note"
    change_status(idea, _status("planned"), product)
    change_status(idea, _status("in_progress"), product)
    change_status(
        idea, _status("shipped"), product, note="In release 4.2.", note_zh="4.2 版已发布。"
    )
    idea.refresh_from_db()
    assert idea.status.key == "shipped"
    assert idea.shipped_at is not None
    history = [(c.from_status.key, c.to_status.key) for c in IdeaStatusChange.objects.all()]
    assert history == [("new", "planned"), ("planned", "in_progress"), ("in_progress", "shipped")]


def test_voters_and_subscribers_are_notified_in_their_language(
    public_board, org_a, org_b, admin_a, member_a, admin_b, product, propose
):
    idea = propose(public_board, org_a, admin_a, title="Carbon per SKU")
    actions.vote(idea, org_b, admin_b, 3)
    actions.vote(idea, org_a, member_a, 1)
    actions.set_subscribed(idea, org_a, member_a, False)  # left: still notified as a voter
    change_status(idea, _status("planned"), product)
    recipients = set(Notification.objects.values_list("recipient_id", flat=True))
    assert recipients == {admin_a.pk, admin_b.pk, member_a.pk}
    note = Notification.objects.get(recipient=admin_b)
    assert note.link == f"/ideas/{idea.pk}/"
    with translation.override("en"):
        assert notifications.message(note) == f"“Carbon per SKU” (#{idea.pk}) is now Planned"
    with translation.override("zh-hans"):
        assert "已计划" in notifications.message(note)


def test_private_idea_notifications_stay_inside_the_board(
    private_board, org_a, admin_a, member_a, admin_b, product, propose
):
    idea = propose(private_board, org_a, admin_a, title="Secret pump")
    actions.vote(idea, org_a, member_a, 2)
    change_status(idea, _status("planned"), product)
    assert set(Notification.objects.values_list("recipient_id", flat=True)) == {
        admin_a.pk,
        member_a.pk,
    }
    # The stored params of a private idea carry no title.
    assert all("title" not in n.params for n in Notification.objects.all())


def test_shipping_writes_one_event_per_asking_organisation(
    public_board, org_a, org_b, admin_a, admin_b, product, propose
):
    idea = propose(public_board, org_a, admin_a)
    actions.vote(idea, org_b, admin_b, 2)
    for key in ("planned", "in_progress"):
        change_status(idea, _status(key), product)
    change_status(idea, _status("shipped"), product, note="Shipped in 4.2.")
    shipped = list(OutboxEvent.objects.filter(type="greenloop.boards.idea_shipped"))
    assert sorted(e.organisation_id for e in shipped) == sorted([org_a.pk, org_b.pk])
    assert shipped[0].data == {
        "idea_id": idea.pk,
        "board_id": public_board.pk,
        "changelog_page_id": None,
        "organisation_ids": sorted([org_a.pk, org_b.pk]),
    }
    changed = OutboxEvent.objects.filter(
        type="greenloop.boards.idea_status_changed", data__to="shipped"
    ).get()
    assert changed.data["to"] == "shipped"
    assert changed.data["kind"] == "shipped"
    assert changed.organisation_id == org_a.pk
