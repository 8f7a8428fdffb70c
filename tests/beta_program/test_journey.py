"""The whole confidential-beta journey through the pages a person uses (issue "done when"): a
customer applies and is accepted at once, accepts the NDA, downloads a build and files a bug with
a screenshot; product staff confirm it in the admin and mark it fixed in the next build; the
reporter sees each status on the page and by e-mail; the CRM outbox holds ids only; and a
customer of another organisation, or a colleague without a place, finds nothing confidential
through their own URLs, search or API token."""

from __future__ import annotations

import json

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from beta_program.programmes import actions
from beta_program.programmes.feedback_models import Feedback
from beta_program.programmes.models import (
    Application,
    Confidentiality,
    NdaVersion,
    Programme,
    ProgrammeStatus,
)
from portal.models import OutboxEvent
from tests.api_client import token_headers
from tests.beta_program.builds import make_build
from tests.factories import png_bytes

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


def test_apply_nda_download_bug_confirmed_fixed_and_outsiders_see_nothing(
    client,
    beta,
    product,
    org_a,
    admin_a,
    member_a,
    org_b,
    admin_b,
    django_capture_on_commit_callbacks,
):
    first = beta.builds.get()
    # when the customer applies
    client.force_login(admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("apply", org_a, beta), {})
    # then they are accepted at once and told by e-mail, but see nothing confidential yet
    assert response.status_code == 302
    application = Application.objects.get(programme=beta)
    assert (application.status, application.auto_decided) == ("accepted", True)
    assert [m.to for m in mail.outbox] == [[admin_a.email]]
    page = client.get(_url("programme", org_a, beta)).content.decode()
    assert _leaks(page) == []
    assert "Read and accept the agreement" in page
    assert client.get(_url("download_build", org_a, beta, build_id=first.pk)).status_code == 404

    # when they accept the NDA and download the build
    nda = client.post(_url("nda", org_a, beta), {"version": "1", "accept": "on"})
    assert nda.status_code == 302
    page = client.get(_url("programme", org_a, beta)).content.decode()
    assert "SECRET-GOAL: grid-forming" in page
    assert "SECRET-TEST islanding" in page
    download = client.get(_url("download_build", org_a, beta, build_id=first.pk))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"firmware-bytes"

    # and file a bug with a screenshot
    with django_capture_on_commit_callbacks(execute=True):
        filed = client.post(
            _url("feedback_new", org_a, beta),
            {
                "build": first.pk,
                "kind": "bug",
                "title": "SECRET-BUG cabinet-4 drops the site",
                "severity": "high",
                "frequency": "always",
                "steps": "Pull the grid feed",
                "actual": "The site goes dark",
                "attachments": [SimpleUploadedFile("shot.png", png_bytes(8, 8))],
            },
        )
    report = Feedback.objects.get()
    attachment = report.attachments.get()
    assert filed["Location"] == f"/o/acme/beta/feedback/{report.pk}/"
    detail_url = _url("feedback_detail", org_a, feedback_id=report.pk)
    attachment_url = _url(
        "feedback_attachment", org_a, feedback_id=report.pk, attachment_id=attachment.pk
    )
    assert client.get(attachment_url).status_code == 200

    # when product staff confirm it, then mark it fixed in the next build
    client.force_login(product)
    triage = reverse("beta_feedback:triage", args=(report.pk,))
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(triage, {"status": "confirmed"}).status_code == 302
    second = make_build(beta, "4.0.0-beta.2", release_notes="SECRET-NOTES two")
    with django_capture_on_commit_callbacks(execute=True):
        fixed = client.post(triage, {"status": "fixed", "fixed_in_build": second.pk})
    assert fixed.status_code == 302

    # then the reporter sees the status on the page and was told of both changes by e-mail
    client.force_login(admin_a)
    detail = client.get(detail_url).content.decode()
    assert "Fixed in build 4.0.0-beta.2" in detail
    status_mails = [m for m in mail.outbox if f"/beta/feedback/{report.pk}/" in m.body]
    assert [m.to for m in status_mails] == [[admin_a.email], [admin_a.email]]
    assert "Confirmed" in status_mails[0].body
    assert "Fixed in build 4.0.0-beta.2" in status_mails[1].body
    assert [_leaks(m.subject + m.body) for m in mail.outbox] == [[]] * len(mail.outbox)

    # and the CRM outbox holds the journey's events with ids only
    events = OutboxEvent.objects.filter(type__startswith="greenloop.beta.").order_by("created_at")
    types = [event.type for event in events]
    for expected in (
        "greenloop.beta.application_submitted",
        "greenloop.beta.application_accepted",
        "greenloop.beta.cohort_created",
        "greenloop.beta.nda_accepted",
        "greenloop.beta.build_downloaded",
        "greenloop.beta.feedback_submitted",
        "greenloop.beta.bug_confirmed",
    ):
        assert types.count(expected) == 1, types
    bug_confirmed = events.get(type="greenloop.beta.bug_confirmed")
    assert bug_confirmed.data == {
        "feedback_id": report.pk,
        "programme_id": beta.pk,
        "build_id": first.pk,
        "severity": "high",
    }
    for event in events:
        payload = json.dumps([event.subject, event.data])
        assert _leaks(payload) == [], event.type
        assert "Firmware" not in payload
        assert "4.0.0-beta" not in payload

    # and a customer of another organisation finds nothing through their own URLs
    own_urls = [
        _url("programme", org_b, beta),
        _url("nda", org_b, beta),
        _url("apply", org_b, beta),
        _url("download_build", org_b, beta, build_id=first.pk),
        _url("download_build", org_b, beta, build_id=second.pk),
        _url("feedback_new", org_b, beta),
        _url("feedback_detail", org_b, feedback_id=report.pk),
        _url("feedback_attachment", org_b, feedback_id=report.pk, attachment_id=attachment.pk),
    ]
    actions.change_status(beta, "running", product)
    client.force_login(admin_b)
    assert [client.get(url).status_code for url in own_urls] == [404] * len(own_urls)
    assert [client.get(url).status_code for url in (detail_url, attachment_url)] == [404, 404]
    for url in (
        _url("index", org_b),
        _url("applications", org_b),
        _url("feedback", org_b),
        f"/o/{org_b.slug}/",
        "/community/search/?q=drops+the+site",
    ):
        body = client.get(url).content.decode()
        assert _leaks(body) == [], url
        assert beta.name not in body, url
    api = f"/api/v1/organisations/{org_b.slug}/beta"
    headers = token_headers(org_b, ["beta:read"])
    assert client.get(f"{api}/programmes", headers=headers).json() == []
    assert client.get(f"{api}/programmes/{beta.slug}", headers=headers).status_code == 404
    assert client.get(f"{api}/applications", headers=headers).json() == []

    # and a colleague without a place sees no confidential content, build, report or file
    client.force_login(member_a)
    colleague_urls = [
        _url("nda", org_a, beta),
        _url("download_build", org_a, beta, build_id=first.pk),
        _url("download_build", org_a, beta, build_id=second.pk),
        _url("feedback_new", org_a, beta),
        detail_url,
        attachment_url,
    ]
    assert [client.get(url).status_code for url in colleague_urls] == [404] * len(colleague_urls)
    for url in (_url("programme", org_a, beta), _url("feedback", org_a), _url("index", org_a)):
        assert _leaks(client.get(url).content.decode()) == [], url


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


@pytest.mark.parametrize("secret", [True, False], ids=["under NDA", "open"])
def test_past_recruiting_a_programme_under_nda_is_known_only_to_its_applicants(
    client, make_programme, org_a, admin_a, member_a, viewer_a, product, secret
):
    # given Acme's admin holds a place in a programme that has stopped recruiting
    programme = make_programme(
        "gateway-beta",
        name="Gateway 2.0 beta",
        confidentiality=Confidentiality.NDA if secret else Confidentiality.OPEN,
    )
    actions.submit_application(programme, org_a, member_a, {})
    actions.change_status(programme, ProgrammeStatus.RUNNING, product)
    page = _url("programme", org_a, programme)
    listing = _url("index", org_a)
    # when a colleague without an application opens the Beta page and the programme's URL
    client.force_login(viewer_a)
    colleague = (client.get(listing).content.decode(), client.get(page).status_code)
    # then under NDA they find neither its name nor its page; an open programme stays listed
    if secret:
        assert "Gateway 2.0 beta" not in colleague[0]
        assert colleague[1] == 404
    else:
        assert "Gateway 2.0 beta" in colleague[0]
        assert colleague[1] == 200
    # and the applicant and the organisation's admin still find it
    for person in (member_a, admin_a):
        client.force_login(person)
        assert "Gateway 2.0 beta" in client.get(listing).content.decode()
        assert client.get(page).status_code == 200
