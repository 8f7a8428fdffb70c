"""Shared beta-programme fixtures: product staff with a second factor and programmes made the
way staff make them (status changes through the action)."""

from __future__ import annotations

import pytest

from beta_program.programmes import actions
from beta_program.programmes.models import (
    Confidentiality,
    Programme,
    ProgrammeStatus,
    QuestionKind,
    ScreeningQuestion,
)
from portal.staff_roles import StaffRole
from tests.beta_program.builds import make_build
from tests.conftest import _staff


@pytest.fixture
def product(db, enable_totp):
    user = _staff("pm@greenloop.example", StaffRole.PRODUCT, first_name="Pia")
    enable_totp(user)
    return user


@pytest.fixture
def make_programme(product):
    def make(slug="monitor-beta", status=ProgrammeStatus.RECRUITING, **fields):
        fields.setdefault("name", "Monitor app beta")
        fields.setdefault("product_line", "Monitoring")
        fields.setdefault("summary", "Try the new monitoring app.")
        programme = Programme.objects.create(slug=slug, **fields)
        path = {
            ProgrammeStatus.PLANNING: [],
            ProgrammeStatus.RECRUITING: [ProgrammeStatus.RECRUITING],
            ProgrammeStatus.RUNNING: [ProgrammeStatus.RUNNING],
            ProgrammeStatus.CLOSED: [ProgrammeStatus.RUNNING, ProgrammeStatus.CLOSED],
        }[status]
        for step in path:
            actions.change_status(programme, step, product)
        return programme

    return make


@pytest.fixture
def recruiting(make_programme):
    return make_programme()


@pytest.fixture
def confidential(make_programme):
    return make_programme(
        "firmware-beta",
        name="Firmware 4.0 beta",
        summary="Pre-release firmware.",
        confidentiality=Confidentiality.NDA,
    )


@pytest.fixture
def questions(recruiting):
    plants = ScreeningQuestion.objects.create(
        programme=recruiting, text="How many plants?", kind=QuestionKind.NUMBER, sort_order=0
    )
    devices = ScreeningQuestion.objects.create(
        programme=recruiting,
        text="Which devices?",
        text_zh="哪些设备？",
        kind=QuestionKind.MULTIPLE,
        choices="Android|安卓\niPhone|苹果",
        sort_order=1,
    )
    wish = ScreeningQuestion.objects.create(
        programme=recruiting, text="Anything else?", required=False, sort_order=2
    )
    return plants, devices, wish


@pytest.fixture
def tester(recruiting, org_a, member_a):
    """A member of Acme with an accepted place in the recruiting programme."""
    actions.submit_application(recruiting, org_a, member_a, {})
    return member_a


@pytest.fixture
def build(recruiting):
    return make_build(recruiting, "3.0.0-beta.1")
