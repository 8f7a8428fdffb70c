import os

import pytest
from django.conf import settings

from portal.models import Role
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_runtest_setup(item):
    reason = getattr(settings, "GREENLOOP_TEST_POSTGRES_REASON", "")
    if reason and item.get_closest_marker("postgres"):
        if IN_CI:
            # In CI a PostgreSQL-only test that cannot run is a failure, never a quiet skip.
            pytest.fail(f"CI requires PostgreSQL for this test: {reason}", pytrace=False)
        pytest.skip(f"needs PostgreSQL: {reason}")


@pytest.fixture
def org_a(db):
    return OrganisationFactory(slug="acme", name="Acme Solar", country="DE")


@pytest.fixture
def org_b(db):
    return OrganisationFactory(slug="globex", name="Globex Power", country="CN")


def _member(org, role, email):
    user = UserFactory(email=email)
    MembershipFactory(user=user, organisation=org, role=role)
    return user


@pytest.fixture
def admin_a(org_a):
    return _member(org_a, Role.ADMIN, "admin@acme.example")


@pytest.fixture
def member_a(org_a):
    return _member(org_a, Role.MEMBER, "member@acme.example")


@pytest.fixture
def viewer_a(org_a):
    return _member(org_a, Role.VIEWER, "viewer@acme.example")


@pytest.fixture
def admin_b(org_b):
    return _member(org_b, Role.ADMIN, "admin@globex.example")


@pytest.fixture
def member_b(org_b):
    return _member(org_b, Role.MEMBER, "member@globex.example")
