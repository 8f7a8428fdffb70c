"""Eligibility and capacity rules as worked examples (beta_program/programmes/eligibility.py)."""

import pytest

from beta_program.programmes.eligibility import (
    Candidate,
    Capacity,
    Rules,
    has_room,
    initial_status,
    rules_of,
    unmet,
)

GOLD_CN_GATEWAY = Candidate(tier="gold", country="CN", skus=frozenset({"MON-GW-4G"}), role="member")


@pytest.mark.parametrize(
    ("rules", "candidate", "failed"),
    [
        # no rules: any member may apply
        (Rules(), GOLD_CN_GATEWAY, []),
        # tier listed / not listed
        (Rules(tiers=frozenset({"gold", "strategic"})), GOLD_CN_GATEWAY, []),
        (Rules(tiers=frozenset({"silver"})), GOLD_CN_GATEWAY, ["tier"]),
        # country listed (codes are compared upper-case) / not listed
        (rules_of([], ["cn", "de"], [], "member"), GOLD_CN_GATEWAY, []),
        (rules_of([], ["DE"], [], "member"), GOLD_CN_GATEWAY, ["country"]),
        # owning one of the listed products is enough
        (rules_of([], [], ["BAT-LFP-215", "MON-GW-4G"], "member"), GOLD_CN_GATEWAY, []),
        (rules_of([], [], ["BAT-LFP-215"], "member"), GOLD_CN_GATEWAY, ["product"]),
        # role: member passes "member", fails "admin"; a viewer fails "member"
        (rules_of([], [], [], "admin"), GOLD_CN_GATEWAY, ["role"]),
        (
            Rules(),
            Candidate(tier="gold", country="CN", skus=frozenset(), role="viewer"),
            ["role"],
        ),
        (
            rules_of([], [], [], "viewer"),
            Candidate(tier="gold", country="CN", skus=frozenset(), role="viewer"),
            [],
        ),
        # not a member at all
        (Rules(), Candidate(tier="gold", country="CN", skus=frozenset(), role=None), ["role"]),
        # every rule failing, in the fixed order
        (
            rules_of(["silver"], ["DE"], ["BAT-LFP-215"], "admin"),
            GOLD_CN_GATEWAY,
            ["tier", "country", "product", "role"],
        ),
    ],
)
def test_eligibility_matrix(rules, candidate, failed):
    assert unmet(rules, candidate) == failed


@pytest.mark.parametrize(
    ("capacity", "room"),
    [
        (
            Capacity(
                total=None, per_organisation=None, accepted_total=500, accepted_in_organisation=9
            ),
            True,
        ),
        (
            Capacity(total=5, per_organisation=None, accepted_total=4, accepted_in_organisation=4),
            True,
        ),
        (
            Capacity(total=5, per_organisation=None, accepted_total=5, accepted_in_organisation=0),
            False,
        ),
        (
            Capacity(total=None, per_organisation=2, accepted_total=7, accepted_in_organisation=1),
            True,
        ),
        (
            Capacity(total=None, per_organisation=2, accepted_total=7, accepted_in_organisation=2),
            False,
        ),
        (
            Capacity(total=10, per_organisation=0, accepted_total=0, accepted_in_organisation=0),
            False,
        ),
    ],
)
def test_capacity_counts_per_organisation_and_in_total(capacity, room):
    assert has_room(capacity) is room


def test_a_new_application_is_accepted_only_when_automatic_and_a_place_is_free():
    free = Capacity(total=3, per_organisation=1, accepted_total=2, accepted_in_organisation=0)
    full = Capacity(total=3, per_organisation=1, accepted_total=3, accepted_in_organisation=0)
    assert initial_status(auto_accept=True, capacity=free) == "accepted"
    assert initial_status(auto_accept=True, capacity=full) == "pending"
    assert initial_status(auto_accept=False, capacity=free) == "pending"
