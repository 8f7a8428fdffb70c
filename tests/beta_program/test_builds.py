"""Cohorts (backed by Django groups) and the release channel: builds per programme, downloads
through an access-checked view that records them, expired builds refused with a reason."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from beta_program.programmes import actions
from beta_program.programmes.exceptions import BetaError
from beta_program.programmes.models import Build, BuildDownload, Cohort, NdaVersion
from portal.models import OutboxEvent
from tests.api_client import api_error, token_headers
from tests.beta_program.builds import make_build as _build


@pytest.fixture
def participant(recruiting, org_a, admin_a):
    actions.submit_application(recruiting, org_a, admin_a, {})
    return admin_a


def _download(client, org, build):
    return client.get(
        reverse(
            "beta:download_build",
            kwargs={
                "org_slug": org.slug,
                "programme_slug": build.programme.slug,
                "build_id": build.pk,
            },
        )
    )


def test_creating_a_cohort_creates_its_group_and_tells_other_plugins(recruiting, product):
    cohort = actions.create_cohort(recruiting, "Wave 1", product, name_zh="第一批")
    assert cohort.group.name == "Beta monitor-beta: Wave 1"
    event = OutboxEvent.objects.get(type="greenloop.beta.cohort_created")
    assert event.data == {
        "cohort_id": cohort.pk,
        "programme_id": recruiting.pk,
        "group_id": cohort.group.pk,
        "created_by": product.pk,
        "create_space": True,
    }
    assert event.dataschema == "urn:greenloop:event-schema:greenloop.beta.cohort_created:2"
    with pytest.raises(BetaError):
        actions.create_cohort(recruiting, "Wave 1", product)
    assert Cohort.objects.count() == 1


def test_only_participants_join_a_cohort(recruiting, product, participant, member_a):
    cohort = actions.create_cohort(recruiting, "Wave 1", product)
    with pytest.raises(BetaError):
        actions.set_cohort_members(cohort, [participant, member_a], product)
    actions.set_cohort_members(cohort, [participant], product)
    assert list(Group.objects.get(pk=cohort.group_id).user_set.all()) == [participant]


def test_a_participant_downloads_a_build_and_the_download_is_recorded(
    client, recruiting, participant, org_a
):
    build = _build(recruiting)
    client.force_login(participant)
    response = _download(client, org_a, build)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"firmware-bytes"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment")
    download = BuildDownload.objects.get()
    assert (download.build, download.user, download.organisation) == (build, participant, org_a)
    assert OutboxEvent.objects.get(type="greenloop.beta.build_downloaded").data == {
        "download_id": download.pk,
        "build_id": build.pk,
        "programme_id": recruiting.pk,
        "user_id": participant.pk,
    }


def test_an_external_build_link_redirects_after_recording(client, recruiting, participant, org_a):
    build = _build(recruiting, external_url="https://downloads.example.com/app-3.0b1.apk")
    client.force_login(participant)
    response = _download(client, org_a, build)
    assert response["Location"] == "https://downloads.example.com/app-3.0b1.apk"
    assert BuildDownload.objects.count() == 1


def test_an_expired_build_is_refused_with_a_clear_message(client, recruiting, participant, org_a):
    build = _build(recruiting, days_left=-1)
    client.force_login(participant)
    response = _download(client, org_a, build)
    assert response.status_code == 410
    assert "This build expired on" in response.content.decode()
    assert BuildDownload.objects.count() == 0


def test_a_cohort_build_is_only_for_its_members(
    client, recruiting, product, participant, org_a, member_a
):
    actions.submit_application(recruiting, org_a, member_a, {})
    cohort = actions.create_cohort(recruiting, "Wave 1", product)
    actions.set_cohort_members(cohort, [participant], product)
    build = _build(recruiting)
    build.cohorts.set([cohort])
    client.force_login(member_a)
    assert _download(client, org_a, build).status_code == 404
    client.force_login(participant)
    assert _download(client, org_a, build).status_code == 200


def test_non_participants_and_other_organisations_get_404(
    client, recruiting, participant, org_a, org_b, admin_b, member_a
):
    build = _build(recruiting)
    client.force_login(member_a)  # same organisation, no place
    assert _download(client, org_a, build).status_code == 404
    client.force_login(admin_b)
    assert _download(client, org_b, build).status_code == 404
    assert BuildDownload.objects.count() == 0


def test_a_build_needing_a_newer_nda_is_refused_until_it_is_accepted(
    client, confidential, product, org_a, admin_a
):
    actions.submit_application(confidential, org_a, admin_a, {})
    first = NdaVersion.objects.create(programme=confidential, title="NDA", body="v1")
    actions.publish_nda(first, product)
    actions.accept_nda(confidential, org_a, admin_a, version=1)
    build = _build(confidential, min_nda_version=2)
    client.force_login(admin_a)
    assert _download(client, org_a, build).status_code == 403
    second = NdaVersion.objects.create(programme=confidential, title="NDA", body="v2")
    actions.publish_nda(second, product)
    # the new version closes the programme until accepted: the build is not even listed
    assert _download(client, org_a, build).status_code == 404
    actions.accept_nda(confidential, org_a, admin_a, version=2)
    assert _download(client, org_a, build).status_code == 200


def test_the_programme_page_lists_builds_with_a_bounded_number_of_queries(
    client, recruiting, participant, org_a, django_assert_max_num_queries
):
    for n in range(2):
        _build(recruiting, f"1.{n}", days_left=10 - n * 20)
    url = reverse(
        "beta:programme", kwargs={"org_slug": org_a.slug, "programme_slug": recruiting.slug}
    )
    client.force_login(participant)
    client.get(url)
    with django_assert_max_num_queries(40) as few:
        response = client.get(url)
    for n in range(2, 12):
        _build(recruiting, f"1.{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert len(response.context["builds"]) == 12
    assert "Expired" in response.content.decode()


def test_a_build_default_expiry_is_ninety_days(recruiting):
    build = Build.objects.create(programme=recruiting, version="x", external_url="https://e.x/y")
    assert build.expires_on == timezone.localdate() + dt.timedelta(days=90)


def test_the_api_lists_a_participants_builds_with_download_urls(
    client, recruiting, participant, org_a, member_a
):
    current = _build(recruiting, "2.0")
    _build(recruiting, "1.0", days_left=-1)
    url = f"/api/v1/organisations/{org_a.slug}/beta/programmes/{recruiting.slug}/builds"
    client.force_login(participant)
    body = client.get(url).json()
    assert sorted((b["version"], b["expired"]) for b in body) == [("1.0", True), ("2.0", False)]
    by_version = {b["version"]: b for b in body}
    assert by_version["1.0"]["download_url"] is None
    assert by_version["2.0"]["download_url"] == (
        f"http://testserver/o/{org_a.slug}/beta/p/{recruiting.slug}/builds/{current.pk}/download/"
    )
    # a member without a place sees none; a token is refused before anything is read
    client.force_login(member_a)
    assert client.get(url).json() == []
    headers = token_headers(org_a, ["beta:read"])
    client.logout()
    api_error(client.get(url, headers=headers), 403, "person_required")
