"""Beta programme journey in a real browser: a customer applies to a recruiting confidential
beta and is accepted at once, accepts its NDA, then sees what to test and downloads a build; a
customer of another organisation finds nothing of the programme once recruiting is over."""

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from playwright.sync_api import expect

from beta_program.programmes import actions
from beta_program.programmes.models import (
    Build,
    BuildDownload,
    NdaAcceptance,
    NdaVersion,
    Programme,
    ProgrammeStatus,
    QuestionKind,
    ScreeningQuestion,
)
from portal.models import OutboxEvent, Role
from portal.permissions import act_for_staff
from portal.staff_roles import StaffRole
from tests.conftest import _staff
from tests.e2e.test_journeys import sign_in
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_apply_accept_the_nda_and_download_a_build(live_server, browser, page, snap):
    # given: a confidential beta recruiting, with a screening question, an NDA and a build
    nordwind = OrganisationFactory(slug="nordwind", name="Nordwind Energie", country="DE")
    huadong = OrganisationFactory(slug="huadong-pv", name="Huadong PV", country="CN")
    anna = UserFactory(email="anna@nordwind.example", first_name="Anna")
    MembershipFactory(user=anna, organisation=nordwind, role=Role.ADMIN)
    li = UserFactory(email="li@huadong.example", first_name="Li")
    MembershipFactory(user=li, organisation=huadong, role=Role.ADMIN)
    product = act_for_staff(_staff("pm@greenloop.example", StaffRole.PRODUCT))
    programme = Programme.objects.create(
        slug="fw-4",
        name="Firmware 4.0 beta",
        product_line="Storage",
        summary="Pre-release firmware for storage cabinets.",
        goals="SECRET goal: grid-forming",
        confidentiality="nda",
        eligible_countries=["DE"],
    )
    ScreeningQuestion.objects.create(
        programme=programme, text="How many cabinets?", kind=QuestionKind.NUMBER
    )
    actions.change_status(programme, ProgrammeStatus.RECRUITING, product)
    actions.publish_nda(
        NdaVersion.objects.create(programme=programme, title="Firmware NDA", body="Keep quiet."),
        product,
    )
    build = Build(
        programme=programme,
        version="4.0.0-beta.3",
        what_to_test="Cut the grid feed",
        expires_on=timezone.localdate() + dt.timedelta(days=30),
    )
    build.file.save("fw.bin", ContentFile(b"firmware"), save=False)
    build.save()

    # when: Anna applies
    sign_in(page, live_server, anna.email)
    page.goto(live_server.url + "/o/nordwind/beta/")
    page.get_by_role("link", name="Firmware 4.0 beta").click()
    page.get_by_role("link", name="Apply").first.click()
    page.get_by_label("How many cabinets?").fill("3")
    snap("apply")
    page.get_by_role("button", name="Send application").click()
    # then: she is accepted at once and asked to accept the NDA before anything confidential
    expect(page.get_by_text("You are in. Welcome to the programme!")).to_be_visible()
    expect(page.get_by_text("SECRET goal")).to_have_count(0)
    page.get_by_role("link", name="Read and accept the agreement").click()
    page.get_by_label("I have read the agreement and accept it for myself.").check()
    snap("nda")
    page.get_by_role("button", name="Accept the agreement").click()
    expect(page.get_by_text("SECRET goal: grid-forming")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download 4.0.0-beta.3").click()
    assert download.value.suggested_filename == "fw.bin"
    snap("programme-open")
    assert NdaAcceptance.objects.get().user == anna
    assert BuildDownload.objects.get().user == anna
    types = set(OutboxEvent.objects.values_list("type", flat=True))
    assert {
        "greenloop.beta.application_accepted",
        "greenloop.beta.nda_accepted",
        "greenloop.beta.build_downloaded",
    } <= types

    # and: once recruiting is over, Li (another organisation) finds nothing of it
    actions.change_status(programme, ProgrammeStatus.RUNNING, product)
    page.context.clear_cookies()
    sign_in(page, live_server, li.email)
    page.goto(live_server.url + "/o/huadong-pv/beta/")
    expect(page.get_by_text("Firmware 4.0 beta")).to_have_count(0)
    response = page.goto(live_server.url + "/o/huadong-pv/beta/p/fw-4/")
    assert response.status == 404
