"""The redemption catalogue as one organisation sees it (carbon.points.redemptions.offers): literal
expectations that the mutation run of the "redemptions" module showed missing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from carbon.points import actions, redemptions
from tests.carbon.factories import ServiceFactory, fund
from tests.factories import SiteFactory

TODAY = dt.date(2025, 6, 10)

pytestmark = pytest.mark.django_db


def _offer(org, service, today=TODAY):
    return next(o for o in redemptions.offers(org, today) if o.service == service)


def test_closed_requests_give_their_place_back_in_the_catalogue(org_a, member_a, staff_success):
    service = ServiceFactory(points_cost=100, monthly_capacity=3)
    fund(org_a, 1000)
    kept, _ = actions.request_redemption(org_a, service, member_a, key="a1", today=TODAY)
    cancelled, _ = actions.request_redemption(org_a, service, member_a, key="a2", today=TODAY)
    rejected, _ = actions.request_redemption(org_a, service, member_a, key="a3", today=TODAY)
    assert _offer(org_a, service).remaining_this_month == 0
    actions.cancel(cancelled, member_a)
    actions.reject(rejected, staff_success, reason="Engineer ill.")
    offer = _offer(org_a, service)
    assert (offer.eligible, offer.remaining_this_month, offer.reason) == (True, 2, "")


def test_the_active_window_is_read_on_the_day_asked(org_a):
    window = ServiceFactory(
        name="Summer training",
        active_from=dt.date(2025, 6, 1),
        active_until=dt.date(2025, 6, 30),
    )
    offer = _offer(org_a, window)
    assert (offer.eligible, offer.reason) == (True, "")


def test_the_catalogue_costs_the_same_queries_whatever_its_size(org_a):
    # Services restricted to a country and needing a site read the organisation's sites once
    # for the whole catalogue, not once per service.
    SiteFactory(organisation=org_a, country="CN")
    ServiceFactory(name="Visit CN 1", eligible_countries=["CN"], requires_site=True)
    with CaptureQueriesContext(connection) as one:
        redemptions.offers(org_a, TODAY)
    for n in range(2, 5):
        ServiceFactory(name=f"Visit CN {n}", eligible_countries=["CN"], requires_site=True)
    with CaptureQueriesContext(connection) as four:
        offers = redemptions.offers(org_a, TODAY)
    assert [o.eligible for o in offers] == [True, True, True, True]
    assert len(four.captured_queries) == len(one.captured_queries)
