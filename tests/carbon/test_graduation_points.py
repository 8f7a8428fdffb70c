"""Carbon reacts to the beta plugin's `programme_graduated` event by name: it credits the grants
in the event's data and ignores what it cannot trust (no grants, no approver, a deactivated
organisation)."""

from __future__ import annotations

from carbon.models import LedgerEntry, PointsAccount
from carbon.points import subscribers
from carbon.points.tasks import grant_graduation_points
from portal.models import OutboxEvent


def _event(data) -> OutboxEvent:
    return OutboxEvent(type="greenloop.beta.programme_graduated", data=data)


def test_the_handler_credits_only_well_formed_grants(org_a, org_b, staff_success):
    subscribers.on_programme_graduated(
        _event(
            {
                "programme_id": 7,
                "graduated_by": staff_success.pk,
                "grants": [
                    {"organisation_id": org_a.pk, "points": 120},
                    {"organisation_id": "globex", "points": 50},
                ],
            }
        )
    )
    assert PointsAccount.objects.get(organisation=org_a).available == 120
    assert not LedgerEntry.objects.filter(account__organisation=org_b).exists()
    entry = LedgerEntry.objects.get()
    assert entry.reason == "Beta programme graduation: thank-you points (programme 7)"


def test_nothing_is_credited_without_grants_or_an_approver(org_a, staff_success, member_a):
    subscribers.on_programme_graduated(
        _event({"programme_id": 7, "graduated_by": staff_success.pk, "grants": []})
    )
    subscribers.on_programme_graduated(
        _event({"programme_id": 7, "grants": [{"organisation_id": org_a.pk, "points": 5}]})
    )
    # a customer is no approver of points
    assert (
        grant_graduation_points(7, member_a.pk, [{"organisation_id": org_a.pk, "points": 5}]) == 0
    )
    assert not LedgerEntry.objects.exists()


def test_a_deactivated_organisation_gets_nothing(org_a, staff_success):
    org_a.is_active = False
    org_a.save(update_fields=["is_active"])
    assert (
        grant_graduation_points(7, staff_success.pk, [{"organisation_id": org_a.pk, "points": 5}])
        == 0
    )
    assert not LedgerEntry.objects.exists()
