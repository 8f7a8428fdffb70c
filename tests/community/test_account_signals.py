"""Community's component of the health score (community/account_signals.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from community import actions
from community.account_signals import community_signals
from tests.community.conftest import settled

pytestmark = pytest.mark.django_db


def test_topics_replies_and_accepted_answers_of_the_last_90_days(
    org_a, org_b, member_a, admin_b, public_space, ask
):
    settled(member_a)
    settled(admin_b)
    # Acme asks twice; Globex answers once and is accepted
    question = ask(member_a, public_space, title="Inverter keeps rebooting")
    ask(member_a, public_space, title="Where is the Scope 2 figure?")
    answer = actions.reply(admin_b, question, body="Update the firmware to 2.2.")
    actions.accept_answer(member_a, answer)
    # when the signals are collected
    found = community_signals([org_a.pk, org_b.pk], timezone.now())
    # then Acme: 2 topics -> 2 of 10 points; Globex: 1 reply + 2 for the accepted answer -> 3
    [acme] = found[org_a.pk]
    assert (acme.key, acme.score, acme.source) == ("community", 20, "community")
    assert acme.signals == {"topics_90d": 2, "replies_90d": 0, "accepted_answers_90d": 0}
    [globex] = found[org_b.pk]
    assert globex.score == 30
    assert globex.signals == {"topics_90d": 0, "replies_90d": 1, "accepted_answers_90d": 1}
    # and 91 days later none of it counts
    later = community_signals([org_a.pk], timezone.now() + dt.timedelta(days=91))
    assert later[org_a.pk][0].score == 0
