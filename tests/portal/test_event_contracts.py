"""The events' payload contract (tests/event_contracts.py) covers every type the product can
publish, and the check that conftest.py runs on every outbox row really refuses a wrong shape."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import transaction

from portal.events import publish
from tests.event_contracts import EVENT_SHAPES, contract_violation

ROOT = Path(__file__).resolve().parents[2]


def _types_in_the_code() -> set[str]:
    found = set()
    for app in ("portal", "carbon", "community", "beta_program"):
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            found |= set(re.findall(r"[\"'](greenloop\.[a-z_]+\.[a-z_]+)[\"']", path.read_text()))
    return found


def test_the_contract_lists_every_event_type_the_code_names():
    assert _types_in_the_code() == set(EVENT_SHAPES)


def test_the_published_event_types():
    # The CRM's mapping is built on these names: renaming one is a breaking change.
    assert sorted(EVENT_SHAPES) == [
        "greenloop.account.member_invited",
        "greenloop.account.member_joined",
        "greenloop.account.member_removed",
        "greenloop.account.member_role_changed",
        "greenloop.account.personal_data_erased",
        "greenloop.account.personal_data_exported",
        "greenloop.account.signals",
        "greenloop.beta.announcement_published",
        "greenloop.beta.application_accepted",
        "greenloop.beta.application_rejected",
        "greenloop.beta.application_submitted",
        "greenloop.beta.application_withdrawn",
        "greenloop.beta.bug_confirmed",
        "greenloop.beta.build_downloaded",
        "greenloop.beta.cohort_created",
        "greenloop.beta.feedback_submitted",
        "greenloop.beta.nda_accepted",
        "greenloop.beta.participant_reminded",
        "greenloop.beta.programme_graduated",
        "greenloop.boards.idea_created",
        "greenloop.boards.idea_shipped",
        "greenloop.boards.idea_status_changed",
        "greenloop.boards.idea_voted",
        "greenloop.carbon.dataset_published",
        "greenloop.carbon.footprint_calculated",
        "greenloop.carbon.footprints_recalculated",
        "greenloop.carbon.green_power_rejected",
        "greenloop.carbon.green_power_revoked",
        "greenloop.carbon.green_power_submitted",
        "greenloop.carbon.green_power_verified",
        "greenloop.carbon.order_upserted",
        "greenloop.carbon.orders_changed",
        "greenloop.carbon.orders_imported",
        "greenloop.carbon.points_activated",
        "greenloop.carbon.points_awarded",
        "greenloop.carbon.points_expired",
        "greenloop.carbon.points_reversed",
        "greenloop.carbon.redemption_cancelled",
        "greenloop.carbon.redemption_fulfilled",
        "greenloop.carbon.redemption_rejected",
        "greenloop.carbon.redemption_requested",
        "greenloop.carbon.report_generated",
        "greenloop.community.answer_accepted",
        "greenloop.community.post_flagged",
        "greenloop.community.reply_posted",
        "greenloop.community.topic_created",
        "greenloop.crm.endpoint_tested",
    ]


@pytest.mark.parametrize(
    ("type_", "subject", "data", "problem"),
    [
        ("greenloop.account.member_joined", "users/7", {"user_id": 7}, "missing"),
        (
            "greenloop.account.member_joined",
            "users/7",
            {"user_id": 7, "role": "admin", "email": "a@b.example", "password": "x"},
            "unexpected",
        ),
        ("greenloop.account.member_joined", "user/7", {"user_id": 7, "role": "admin"}, "subject"),
        ("greenloop.account.member_joined", "member/7", {}, "subject"),
        ("greenloop.account.member_left", "user/7", {}, "not in the contract"),
        (
            "greenloop.community.reply_posted",
            "community/topics/3",
            {
                **dict.fromkeys(["topic_id", "space_id", "post_id", "author_id", "number"], 1),
                "title": "Half the public fields",
            },
            "not all of",
        ),
        (
            "greenloop.carbon.points_expired",
            "points-accounts/1",
            {"entry_id": 1, "kind": "expire", "points": 5, "balances": {"available": 0}},
            "balances",
        ),
    ],
)
def test_the_checker_names_what_is_wrong(type_, subject, data, problem):
    assert problem in contract_violation(type_, subject, data)


def test_a_conforming_private_space_event_passes():
    data = dict.fromkeys(["topic_id", "space_id", "post_id", "author_id", "number"], 1)
    assert (
        contract_violation("greenloop.community.reply_posted", "community/topics/3", data) is None
    )


@pytest.mark.django_db
def test_publishing_a_wrong_shape_fails_where_it_is_written(org_a, request, settings):
    # given the suite-wide check (tests/conftest.py), with publish()'s own schema check off so
    # that the row is written / when a product event is written without one of its keys / then
    # the write itself raises, naming the key
    settings.GREENLOOP_VALIDATE_EVENTS = False
    with pytest.raises(AssertionError, match=r"missing keys \['role'\]"), transaction.atomic():
        publish("greenloop.account.member_joined", org_a, "users/1", {"user_id": 1})
    # and it is also recorded for teardown, in case a caller swallowed the error
    assert request.node.event_contract_violations == [
        "greenloop.account.member_joined: missing keys ['role'], unexpected keys []"
    ]
    request.node.event_contract_violations.clear()
