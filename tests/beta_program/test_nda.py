"""Versioned NDAs: publishing fixes the text (numbered, hashed, immutable); a participant of a
programme under NDA sees its confidential content only after accepting the current version; a
new version blocks them until they accept it too; acceptances are append-only evidence that the
organisation's admins can read."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse
from wagtail.models import Page

from beta_program.programmes import actions
from beta_program.programmes.access import may_see_confidential
from beta_program.programmes.exceptions import ApplicationRefused, BetaError
from beta_program.programmes.models import (
    Application,
    ImmutableError,
    NdaAcceptance,
    NdaVersion,
    Phase,
    ProgrammeStatus,
)
from beta_program.programmes.pages import ProgrammePage
from portal.exceptions import PermissionDeniedError
from portal.models import AuditEvent, OutboxEvent


def _nda(programme, product, title="NDA", body="Keep it quiet."):
    draft = NdaVersion.objects.create(programme=programme, title=title, body=body)
    return actions.publish_nda(draft, product)


@pytest.fixture
def participant(confidential, org_a, admin_a):
    actions.submit_application(confidential, org_a, admin_a, {})
    return admin_a


def _nda_url(org, programme):
    return reverse("beta:nda", kwargs={"org_slug": org.slug, "programme_slug": programme.slug})


def test_publishing_numbers_hashes_and_freezes_a_version(confidential, product):
    first = _nda(confidential, product, body="Version one")
    second = _nda(confidential, product, body="Version two")
    assert (first.version, second.version) == (1, 2)
    assert first.content_hash == first.compute_hash()
    assert len(second.content_hash) == 64
    assert first.content_hash != second.content_hash
    assert AuditEvent.objects.filter(action="beta.nda_published").count() == 2
    first.body = "Changed afterwards"
    with pytest.raises(ImmutableError):
        first.save()
    with pytest.raises(ImmutableError):
        first.delete()
    assert NdaVersion.objects.get(pk=first.pk).body == "Version one"
    with pytest.raises(BetaError):
        actions.publish_nda(first, product)


def test_a_participant_sees_confidential_content_only_after_accepting_the_current_version(
    client, confidential, product, participant, org_a, django_capture_on_commit_callbacks
):
    # given a programme under NDA with a phase and a landing page
    Phase.objects.create(
        programme=confidential, name="Wave 1", starts_on="2027-01-04", ends_on="2027-02-01"
    )
    page = Page.objects.get(depth=2, slug="home").add_child(
        instance=ProgrammePage(
            title="Firmware",
            slug="fw",
            programme=confidential,
            body=[("what_to_test", "<p>SECRET grid-forming</p>")],
        )
    )
    detail = reverse(
        "beta:programme", kwargs={"org_slug": org_a.slug, "programme_slug": confidential.slug}
    )
    client.force_login(participant)
    # no NDA published yet: nothing confidential, and no agreement to accept
    assert may_see_confidential(participant, confidential) is False
    assert client.get(_nda_url(org_a, confidential)).status_code == 404
    nda = _nda(confidential, product)
    # when the participant has not accepted it
    response = client.get(detail)
    assert response.context["nda_needed"] is True
    assert "Wave 1" not in response.content.decode()
    assert "SECRET" not in client.get(page.url).content.decode()
    # and accepts it
    response = client.post(
        _nda_url(org_a, confidential),
        {"version": "1", "accept": "on"},
        HTTP_USER_AGENT="Tester/1.0",
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 302
    # then the acceptance is recorded with who, when, what and from where
    acceptance = NdaAcceptance.objects.get()
    assert (
        acceptance.user,
        acceptance.organisation,
        acceptance.version,
        acceptance.content_hash,
        acceptance.user_agent,
    ) == (participant, org_a, 1, nda.content_hash, "Tester/1.0")
    assert acceptance.ip_address is not None
    event = OutboxEvent.objects.get(type="greenloop.beta.nda_accepted")
    assert event.data == {
        "acceptance_id": acceptance.pk,
        "programme_id": confidential.pk,
        "nda_version": 1,
        "user_id": participant.pk,
    }
    assert "Wave 1" in client.get(detail).content.decode()
    assert "SECRET grid-forming" in client.get(page.url).content.decode()
    # when a new version is published, the content closes until it is accepted too
    _nda(confidential, product, body="Stricter terms")
    assert "Wave 1" not in client.get(detail).content.decode()
    assert "SECRET" not in client.get(page.url).content.decode()
    # accepting the old version number again is refused
    stale = client.post(_nda_url(org_a, confidential), {"version": "1", "accept": "on"})
    assert stale.status_code == 200
    assert NdaAcceptance.objects.count() == 1
    client.post(_nda_url(org_a, confidential), {"version": "2", "accept": "on"})
    assert list(NdaAcceptance.objects.order_by("version").values_list("version", flat=True)) == [
        1,
        2,
    ]
    assert "Wave 1" in client.get(detail).content.decode()


def test_accepting_needs_the_box_ticked(client, confidential, product, participant, org_a):
    _nda(confidential, product)
    client.force_login(participant)
    response = client.post(_nda_url(org_a, confidential), {"version": "1"})
    assert response.status_code == 200
    assert NdaAcceptance.objects.count() == 0


def test_only_participants_accept_and_a_stale_version_is_refused(
    confidential, product, participant, org_a, member_a
):
    _nda(confidential, product)
    with pytest.raises(PermissionDeniedError):
        actions.accept_nda(confidential, org_a, member_a, version=1)
    with pytest.raises(ApplicationRefused):
        actions.accept_nda(confidential, org_a, participant, version=2)
    assert NdaAcceptance.objects.count() == 0


def test_outsiders_get_404_for_the_agreement(
    client, confidential, product, participant, org_a, org_b, admin_b, member_a
):
    _nda(confidential, product)
    # a member of the same organisation without a place
    client.force_login(member_a)
    assert client.get(_nda_url(org_a, confidential)).status_code == 404
    # another organisation, through its own URL, once recruiting is over
    confidential.__class__.objects.filter(pk=confidential.pk).update(status=ProgrammeStatus.RUNNING)
    client.force_login(admin_b)
    assert client.get(_nda_url(org_b, confidential)).status_code == 404
    assert (
        client.post(_nda_url(org_b, confidential), {"version": 1, "accept": "on"}).status_code
        == 404
    )
    assert NdaAcceptance.objects.count() == 0


@pytest.mark.postgres
def test_acceptances_are_append_only_in_the_database(confidential, product, participant, org_a):
    _nda(confidential, product)
    acceptance = actions.accept_nda(confidential, org_a, participant, version=1)
    with pytest.raises(ImmutableError):
        acceptance.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        NdaAcceptance.objects.filter(pk=acceptance.pk).update(user_agent="forged")
    with pytest.raises(DatabaseError), transaction.atomic():
        NdaAcceptance.objects.filter(pk=acceptance.pk).delete()
    assert NdaAcceptance.objects.get().user_agent == ""


def test_a_customer_admin_sees_who_in_their_organisation_accepted_what(
    client, confidential, product, participant, org_a, org_b, admin_b, member_a
):
    _nda(confidential, product)
    actions.accept_nda(confidential, org_a, participant, version=1)
    Application.objects.create(
        programme=confidential, organisation=org_b, applicant=admin_b, status="accepted"
    )
    actions.accept_nda(confidential, org_b, admin_b, version=1)
    url = reverse("beta:nda_acceptances", kwargs={"org_slug": org_a.slug})
    client.force_login(participant)  # Acme's admin
    response = client.get(url)
    assert [(a.user, a.version) for a in response.context["acceptances"]] == [(participant, 1)]
    client.force_login(member_a)
    assert client.get(url).status_code == 403


def test_the_personal_data_export_holds_applications_and_acceptances(
    confidential, product, participant, org_a
):
    from portal.privacy import personal_data

    _nda(confidential, product)
    actions.accept_nda(confidential, org_a, participant, version=1)
    data = personal_data(participant)["beta_programmes"]
    assert [(a["programme"], a["status"]) for a in data["applications"]] == [
        ("firmware-beta", "accepted")
    ]
    assert [(n["programme"], n["version"]) for n in data["nda_acceptances"]] == [
        ("firmware-beta", 1)
    ]
