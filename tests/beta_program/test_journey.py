"""The whole confidential-beta journey through the pages a person uses (issue "done when"): a
customer applies and is accepted at once, accepts the NDA, downloads a build and files a bug with
a screenshot; product staff confirm it in the admin and mark it fixed in the next build; the
reporter sees each status on the page and by e-mail; the CRM outbox holds ids only; and a
customer of another organisation, or a colleague without a place, finds nothing confidential
through their own URLs, search or API token."""

from __future__ import annotations

import pytest
from django.urls import reverse

from beta_program.programmes import actions
from beta_program.programmes.models import NdaVersion, Programme
from tests.beta_program.builds import make_build

SECRETS = (
    "SECRET-GOAL",
    "SECRET-NDA-TEXT",
    "SECRET-NOTES",
    "SECRET-TEST",
    "SECRET-BUG",
    "cabinet-4",
    "shot.png",
)


@pytest.fixture
def beta(confidential, product):
    """The programme as the product manager leaves it: goals, a published NDA, a cohort and a
    first build (notes and what to test are confidential)."""
    Programme.objects.filter(pk=confidential.pk).update(goals="SECRET-GOAL: grid-forming")
    confidential.refresh_from_db()
    actions.publish_nda(
        NdaVersion.objects.create(
            programme=confidential, title="Firmware NDA", body="SECRET-NDA-TEXT keep quiet"
        ),
        product,
    )
    actions.create_cohort(confidential, "Wave 1", product)
    make_build(
        confidential,
        "4.0.0-beta.1",
        release_notes="SECRET-NOTES one",
        what_to_test="SECRET-TEST islanding",
    )
    return confidential


def _url(name: str, org, programme=None, **kwargs) -> str:
    if programme is not None:
        kwargs["programme_slug"] = programme.slug
    return reverse(f"beta:{name}", kwargs={"org_slug": org.slug, **kwargs})


def _leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


def test_a_colleague_is_shown_the_organisations_application_not_as_their_own(
    client, beta, org_a, admin_a, member_a
):
    # given a colleague holds the organisation's place in a programme under NDA
    actions.submit_application(beta, org_a, admin_a, {})
    # when a member without a place opens the programme
    client.force_login(member_a)
    response = client.get(_url("programme", org_a, beta))
    page = response.content.decode()
    # then the application is the organisation's, by its applicant, and no false NDA notice
    assert "Your organisation's application" in page
    assert f"submitted by {admin_a.get_full_name()} on" in page
    assert "Only the people who hold a place see the programme's content." in page
    assert "Your application<" not in page
    assert "The product team has not published the agreement yet." not in page
    assert (response.context["nda_needed"], response.context["nda_unpublished"]) == (False, False)


def test_a_participant_waiting_for_the_first_nda_is_told_so(client, confidential, org_a, admin_a):
    # given a participant of a programme under NDA with no version published yet
    actions.submit_application(confidential, org_a, admin_a, {})
    client.force_login(admin_a)
    # when they open it
    page = client.get(_url("programme", org_a, confidential)).content.decode()
    # then they read that the agreement is not published yet
    assert "Your application<" in page
    assert "The product team has not published the agreement yet." in page


def test_chinese_readers_are_asked_to_apply_not_to_use_an_app(client, recruiting, org_a, admin_a):
    # given a Chinese reader of a recruiting programme
    client.force_login(admin_a)
    client.cookies["django_language"] = "zh-hans"
    # when they open it
    page = client.get(_url("programme", org_a, recruiting)).content.decode()
    # then the call to action reads 申请 (apply for), never 应用 (application software)
    assert '/apply/">申请</a>' in page
    assert "应用</a>" not in page
