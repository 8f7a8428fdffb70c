"""How a pass claims lanes (portal/crm/delivery.py): a few lanes at a time, so several workers
share them, and never past a dead-lettered delivery."""

from __future__ import annotations

import pytest

from portal.crm import delivery
from portal.models import Delivery, OutboxEvent
from tests.crm.conftest import emit

pytestmark = [pytest.mark.synthetic_events, pytest.mark.django_db]


def by_lane(received) -> dict[int, list[str]]:
    lanes: dict[int, list[str]] = {}
    for item in received:
        lanes.setdefault(int(item.event["greenloopaccount"]), []).append(item.id)
    return lanes


def test_a_pass_claims_at_most_lanes_per_pass_lanes_and_leaves_the_rest(
    endpoint, receiver, org_a, org_b, settings
):
    from tests.factories import OrganisationFactory

    settings.GREENLOOP_CRM = {**settings.GREENLOOP_CRM, "lanes_per_pass": 2}
    org_c = OrganisationFactory()
    lanes = {org.pk: emit(org, 2) for org in (org_a, org_b, org_c)}
    delivery.route_events()
    # when one batch is sent
    first = delivery.deliver_batch()
    # then two lanes went, whole and in order; the third waits for the next pass
    assert first.delivered == 4
    assert by_lane(receiver.wait_for(4)) == {org_a.pk: lanes[org_a.pk], org_b.pk: lanes[org_b.pk]}
    assert delivery.deliver_batch().delivered == 2
    assert by_lane(receiver.wait_for(6)) == lanes


def test_a_dead_letter_behind_a_resent_delivery_still_blocks_the_rest_of_its_lane(
    endpoint, receiver, org_a
):
    # given a lane whose first event was delivered and is resent, whose second is dead-lettered
    # and whose third waits
    first, second, third = emit(org_a, 3)
    delivery.route_events()
    Delivery.objects.filter(event_id=first).update(state="delivered")
    Delivery.objects.filter(event_id=second).update(state="dead")
    OutboxEvent.objects.filter(id=second).update(status="dead")
    assert delivery.resend(Delivery.objects.filter(event_id=first)) == 1
    # when passes run
    while delivery.run_pass().worked:
        pass
    # then the resent one went again, and nothing passed the dead letter
    assert [r.id for r in receiver.wait_for(1)] == [first]
    assert receiver.state.requests == 1
    assert Delivery.objects.get(event_id=third).state == "pending"
