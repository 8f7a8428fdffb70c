"""The beta wing's component of the health score (beta_program/programmes/account_signals.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from beta_program.programmes import actions
from beta_program.programmes.account_signals import beta_signals
from beta_program.programmes.models import BuildDownload
from tests.beta_program.test_builds import _build

pytestmark = pytest.mark.django_db


def test_an_active_programme_and_downloads_of_the_last_90_days(
    recruiting, org_a, org_b, admin_a, django_assert_max_num_queries
):
    # Acme takes part in a recruiting programme and downloaded its build three times
    actions.submit_application(recruiting, org_a, admin_a, {})
    build = _build(recruiting)
    for _ in range(3):
        BuildDownload.objects.create(build=build, user=admin_a, organisation=org_a)
    # when the signals are collected, in two queries whatever the number of organisations
    with django_assert_max_num_queries(2):
        found = beta_signals([org_a.pk, org_b.pk], timezone.now())
    # then Acme: 5 for the programme + 3 downloads = 8 of 10 -> 80
    [acme] = found[org_a.pk]
    assert (acme.key, acme.score, acme.source) == ("beta", 80, "beta_program")
    assert acme.signals == {"applications": 1, "active_programmes": 1, "build_downloads_90d": 3}
    # and Globex never applied: nothing to score, so the other components carry the weight
    [globex] = found[org_b.pk]
    assert (globex.score, globex.signals) == (None, {"applications": 0})
    # and 91 days later the downloads no longer count; the programme still does
    later = beta_signals([org_a.pk], timezone.now() + dt.timedelta(days=91))
    assert later[org_a.pk][0].score == 50


def test_a_closed_programme_no_longer_counts(make_programme, org_a, admin_a, product):
    programme = make_programme()
    actions.submit_application(programme, org_a, admin_a, {})
    actions.change_status(programme, "running", product)
    actions.change_status(programme, "closed", product)
    [component] = beta_signals([org_a.pk], timezone.now())[org_a.pk]
    assert (component.score, component.signals["active_programmes"]) == (0, 0)
