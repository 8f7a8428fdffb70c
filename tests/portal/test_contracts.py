"""Public contracts pinned to literal values (issue #11 item 3): what integrators, auditors and
staff rely on is written out here, not read back from the code's own constants, so a change to
any of them fails a test and has to be made on purpose."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group

import portal.urls  # noqa: F401 - builds the API, which registers every app's scopes
from carbon.points import ledger
from portal import actions
from portal.api_scopes import SCOPES
from portal.models import ApiToken
from portal.models.tokens import hash_secret
from portal.staff_roles import ensure_staff_groups


def test_a_token_is_stored_as_the_sha256_hex_of_its_plaintext():
    # given a known token (its hash computed independently with coreutils' sha256sum)
    plaintext = "glp_0123456789ab_known-secret-for-the-contract-test"
    # then the stored hash is exactly that digest
    assert hash_secret(plaintext) == (
        "f41d18d8481ce0145acecc1f85368771084bc127c59519b2eedcb82af710fb14"
    )


def test_issued_tokens_have_the_documented_shape(org_a):
    # when a token is issued / then it is glp_, a 12-hex lookup id, _, a 43-character secret
    token, plaintext = actions.issue_api_token(org_a, "erp", ["account:read"], by=None)
    match = re.fullmatch(r"glp_([0-9a-f]{12})_[A-Za-z0-9_-]{43}", plaintext)
    assert match is not None, plaintext
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.lookup == match.group(1)
    assert stored.token_hash == hash_secret(plaintext)
    assert plaintext not in str(stored.__dict__)


def test_the_api_scopes_are_the_documented_ones():
    assert sorted(SCOPES) == [
        "account:read",
        "beta:read",
        "beta:write",
        "carbon:read",
        "carbon:write",
        "community:read",
        "community:write",
        "ideas:read",
        "ideas:write",
        "points:read",
        "points:write",
    ]


def test_the_points_formula_as_shown_to_customers():
    assert ledger.FORMULA == (
        "period points = min(floor(max(0, sum over the period's legs of (reference t·km x baseline "
        "of the leg's service class - leg WTW kg) + sum of max(0, Scope 2 location kg - Scope 2 "
        "market kg)) x points per kg), cap per period); order points = the change the order makes "
        "to its period's points"
    )


STAFF_MATRIX = {
    "Customer success": {
        "beta_program.add_reportingrate",
        "beta_program.change_reportingrate",
        "beta_program.view_board",
        "beta_program.view_idea",
        "beta_program.view_ideastatus",
        "beta_program.view_reportingrate",
        "beta_program.view_tag",
        "carbon.add_service",
        "carbon.change_redemption",
        "carbon.change_service",
        "carbon.view_redemption",
        "carbon.view_service",
        "portal.add_accounthealth",
        "portal.change_organisation",
        "portal.view_accounthealth",
        "portal.view_auditevent",
        "portal.view_organisation",
        "wagtailadmin.access_admin",
    },
    "Integration admin": {
        "portal.add_crmendpoint",
        "portal.change_crmendpoint",
        "portal.view_auditevent",
        "portal.view_crmcontact",
        "portal.view_crmendpoint",
        "portal.view_delivery",
        "portal.view_inboundwebhook",
        "portal.view_organisation",
        "portal.view_outboxevent",
        "wagtailadmin.access_admin",
    },
    "Moderator": {
        "community.add_space",
        "community.add_tag",
        "community.change_space",
        "community.change_tag",
        "community.delete_tag",
        "community.view_member",
        "community.view_post",
        "community.view_space",
        "community.view_tag",
        "portal.view_auditevent",
        "wagtailadmin.access_admin",
    },
    "Product": {
        "beta_program.add_announcement",
        "beta_program.add_board",
        "beta_program.add_build",
        "beta_program.add_cohort",
        "beta_program.add_ideastatus",
        "beta_program.add_ndaversion",
        "beta_program.add_programme",
        "beta_program.add_reportingrate",
        "beta_program.add_tag",
        "beta_program.change_announcement",
        "beta_program.change_board",
        "beta_program.change_build",
        "beta_program.change_cohort",
        "beta_program.change_ideastatus",
        "beta_program.change_ndaversion",
        "beta_program.change_programme",
        "beta_program.change_reportingrate",
        "beta_program.change_tag",
        "beta_program.delete_board",
        "beta_program.delete_ideastatus",
        "beta_program.view_announcement",
        "beta_program.view_application",
        "beta_program.view_board",
        "beta_program.view_build",
        "beta_program.view_cohort",
        "beta_program.view_feedback",
        "beta_program.view_idea",
        "beta_program.view_ideastatus",
        "beta_program.view_ndaacceptance",
        "beta_program.view_ndaversion",
        "beta_program.view_programme",
        "beta_program.view_reportingrate",
        "beta_program.view_tag",
        "community.add_space",
        "community.add_tag",
        "community.change_space",
        "community.change_tag",
        "community.delete_tag",
        "community.view_space",
        "community.view_tag",
        "portal.view_organisation",
        "wagtailadmin.access_admin",
    },
    "Sustainability": {
        "carbon.add_factordataset",
        "carbon.add_importjob",
        "carbon.add_pointspolicy",
        "carbon.add_product",
        "carbon.add_report",
        "carbon.change_factordataset",
        "carbon.change_pointspolicy",
        "carbon.change_product",
        "carbon.view_emissionfactor",
        "carbon.view_factordataset",
        "carbon.view_greenpowerdeclaration",
        "carbon.view_importjob",
        "carbon.view_ledgerentry",
        "carbon.view_order",
        "carbon.view_pointsaccount",
        "carbon.view_pointspolicy",
        "carbon.view_product",
        "carbon.view_redemption",
        "carbon.view_report",
        "carbon.view_service",
        "portal.view_auditevent",
        "portal.view_organisation",
        "wagtailadmin.access_admin",
    },
}


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(STAFF_MATRIX))
def test_the_staff_permission_matrix(role):
    # given the staff groups as the first migrate leaves them
    ensure_staff_groups()
    group = Group.objects.get(name=role)
    # then each role holds exactly these model permissions (none deletes orders, ledger or audit)
    held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
    assert held == STAFF_MATRIX[role]
