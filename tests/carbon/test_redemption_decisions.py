"""Deciding a redemption (fulfil, reject, cancel): the literal refusals, fields and audit rows
(found missing by the mutation run of the "redemptions" module, scripts/mutation.sh)."""

from __future__ import annotations

import datetime as dt

import pytest

from carbon.points import actions
from portal.exceptions import PermissionDeniedError
from portal.models import AuditEvent
from tests.carbon.factories import ServiceFactory, fund

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 6, 10)


@pytest.fixture
def requested(org_a, member_a):
    fund(org_a, 1000)
    redemption, _ = actions.request_redemption(
        org_a, ServiceFactory(points_cost=100), member_a, key="k1", today=TODAY
    )
    return redemption


def _refusal(call) -> tuple:
    with pytest.raises((actions.RedemptionError, PermissionDeniedError)) as refused:
        call()
    return refused.value.code, refused.value.field, refused.value.message


def test_only_customer_success_decide_and_only_members_cancel(requested, member_a, viewer_a):
    assert _refusal(
        lambda: actions.fulfil(requested, member_a, scheduled_for=TODAY, assignee="Li")
    ) == ("permission_denied", None, "Only customer success staff fulfil redemptions.")
    assert _refusal(lambda: actions.reject(requested, member_a, reason="No.")) == (
        "permission_denied",
        None,
        "Only customer success staff reject redemptions.",
    )
    assert _refusal(lambda: actions.cancel(requested, viewer_a)) == (
        "permission_denied",
        None,
        "Only members and admins may cancel redemptions.",
    )


def test_a_fulfilment_needs_a_date_and_a_name(requested, staff_success):
    def fulfil(**kw):
        return lambda: actions.fulfil(requested, staff_success, **kw)

    assert _refusal(fulfil(scheduled_for=None, assignee="Li")) == (
        "redemption_error",
        "scheduled_for",
        "Give the date of the service.",
    )
    for nobody in ("", "   ", None):
        assert _refusal(fulfil(scheduled_for=TODAY, assignee=nobody)) == (
            "redemption_error",
            "assignee",
            "Name who delivers the service.",
        )


def test_a_rejection_needs_a_reason(requested, staff_success):
    for nothing in ("", "  ", None):
        assert _refusal(lambda r=nothing: actions.reject(requested, staff_success, reason=r)) == (
            "redemption_error",
            "reason",
            "Tell the customer why the request is declined.",
        )


def test_a_fulfilment_without_a_note_keeps_none_and_is_audited(requested, org_a, staff_success):
    done = actions.fulfil(requested, staff_success, scheduled_for=TODAY, assignee="Li")
    assert done.staff_note == ""
    row = AuditEvent.objects.get(action="carbon.redemption.fulfilled")
    assert (row.organisation, row.object_id, row.actor) == (
        org_a,
        str(requested.pk),
        staff_success,
    )
    assert _refusal(lambda: actions.reject(requested, staff_success, reason="Late.")) == (
        "redemption_closed",
        "status",
        "This redemption is already fulfilled.",
    )


def test_a_cancellation_is_audited_with_its_organisation(requested, org_a, member_a):
    actions.cancel(requested, member_a)
    row = AuditEvent.objects.get(action="carbon.redemption.cancelled")
    assert (row.organisation, row.object_id, row.actor) == (org_a, str(requested.pk), member_a)
