"""Withdrawing an application or leaving a programme: who may, the place it frees, the cohort
it leaves, the audit record and the ids-only event, the confirmation page and the API, and
another organisation's application answering 404 through the caller's own URLs."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from beta_program.programmes import actions
from beta_program.programmes.exceptions import ApplicationRefused, CapacityFull
from beta_program.programmes.models import Application
from portal.exceptions import PermissionDeniedError
from portal.models import AuditEvent, OutboxEvent
from tests.api_client import api_error, token_headers
from tests.factories import MembershipFactory, UserFactory

API = "/api/v1/organisations/{org}/beta/applications/{id}/withdraw"


def _withdraw_url(org, application):
    return reverse("beta:withdraw", kwargs={"org_slug": org.slug, "application_id": application.pk})


@pytest.fixture
def place(tester, recruiting):
    return Application.objects.get(programme=recruiting, applicant=tester)


# --- the action


def test_leaving_frees_the_place_leaves_the_cohort_and_tells_the_crm_with_ids_only(
    make_programme, org_a, member_a, admin_a, product
):
    programme = make_programme(capacity_total=1, name="Secret firmware", goals="SECRET-GOAL")
    application = actions.submit_application(programme, org_a, member_a, {})
    cohort = actions.create_cohort(programme, "Wave 1", product)
    actions.set_cohort_members(cohort, [member_a], product)
    # the programme is full: the admin waits for review
    waiting = actions.submit_application(programme, org_a, admin_a, {})
    assert waiting.status == "pending"
    with pytest.raises(CapacityFull):
        actions.decide_application(waiting, "accepted", product)
    # when
    left = actions.withdraw_application(application, member_a)
    # then
    assert left.status == "withdrawn"
    assert list(Group.objects.get(pk=cohort.group_id).user_set.all()) == []
    event = OutboxEvent.objects.get(type="greenloop.beta.application_withdrawn")
    assert event.organisation_id == org_a.pk
    assert event.subject == f"beta/applications/{application.pk}"
    assert event.data == {
        "application_id": application.pk,
        "programme_id": programme.pk,
        "applicant_id": member_a.pk,
        "withdrawn_by": member_a.pk,
        "was": "accepted",
    }
    assert AuditEvent.objects.get(action="beta.application_withdrawn").details == {
        "programme_id": programme.pk,
        "was": "accepted",
        "cohorts_left": [cohort.pk],
    }
    # the freed place can be given to the one waiting
    assert actions.decide_application(waiting, "accepted", product).status == "accepted"


def test_an_admin_withdraws_a_colleagues_pending_application(make_programme, org_a, admin_a):
    programme = make_programme(auto_accept=False)
    colleague = UserFactory(email="colleague@acme.example")
    MembershipFactory(user=colleague, organisation=org_a, role="member")
    application = actions.submit_application(programme, org_a, colleague, {})
    assert application.status == "pending"
    assert actions.withdraw_application(application, admin_a).status == "withdrawn"
    assert OutboxEvent.objects.get(type="greenloop.beta.application_withdrawn").data["was"] == (
        "pending"
    )
    # and the colleague may apply again
    again = actions.submit_application(programme, org_a, colleague, {})
    assert again.status == "pending"


def test_another_member_cannot_withdraw_and_a_closed_application_stays(place, org_a, viewer_a):
    with pytest.raises(PermissionDeniedError):
        actions.withdraw_application(place, viewer_a)
    assert Application.objects.get(pk=place.pk).status == "accepted"
    actions.withdraw_application(place, place.applicant)
    with pytest.raises(ApplicationRefused, match="This application is already withdrawn."):
        actions.withdraw_application(place, place.applicant)
    assert OutboxEvent.objects.filter(type="greenloop.beta.application_withdrawn").count() == 1


def test_the_programme_closes_to_someone_who_left(client, place, org_a, recruiting):
    client.force_login(place.applicant)
    page = reverse(
        "beta:programme", kwargs={"org_slug": org_a.slug, "programme_slug": "monitor-beta"}
    )
    assert "Leave the programme" in client.get(page).content.decode()
    actions.withdraw_application(place, place.applicant)
    body = client.get(page).content.decode()
    assert "Leave the programme" not in body
    assert "Withdrawn" in body


# --- pages


def test_the_applicant_confirms_then_leaves(client, place, org_a):
    client.force_login(place.applicant)
    listing = client.get(reverse("beta:applications", kwargs={"org_slug": org_a.slug}))
    assert _withdraw_url(org_a, place) in listing.content.decode()
    confirm = client.get(_withdraw_url(org_a, place))
    assert confirm.status_code == 200
    assert "Leave the programme" in confirm.content.decode()
    assert Application.objects.get(pk=place.pk).status == "accepted"  # GET changes nothing
    response = client.post(_withdraw_url(org_a, place), follow=True)
    assert response.redirect_chain[-1][0] == reverse(
        "beta:applications", kwargs={"org_slug": org_a.slug}
    )
    assert "You left the programme." in response.content.decode()
    assert Application.objects.get(pk=place.pk).status == "withdrawn"
    again = client.post(_withdraw_url(org_a, place), follow=True)
    assert "This application is already withdrawn." in again.content.decode()


def test_the_page_in_chinese(client, place, org_a):
    client.force_login(place.applicant)
    response = client.get(_withdraw_url(org_a, place), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "退出项目" in response.content.decode()


def test_other_people_and_other_organisations_get_404(
    client, place, org_a, org_b, admin_b, viewer_a
):
    # a colleague who is not an admin sees the list but no button, and the URL is 404
    client.force_login(viewer_a)
    listing = client.get(reverse("beta:applications", kwargs={"org_slug": org_a.slug}))
    assert _withdraw_url(org_a, place) not in listing.content.decode()
    assert client.post(_withdraw_url(org_a, place)).status_code == 404
    # another organisation's admin, through their own organisation's URL
    client.force_login(admin_b)
    assert client.get(_withdraw_url(org_b, place)).status_code == 404
    assert client.post(_withdraw_url(org_b, place)).status_code == 404
    assert Application.objects.get(pk=place.pk).status == "accepted"


def test_the_applications_page_needs_bounded_queries(
    client, make_programme, org_a, admin_a, django_assert_max_num_queries
):
    for n in range(5):
        actions.submit_application(make_programme(f"p{n}", name=f"P{n}"), org_a, admin_a, {})
    client.force_login(admin_a)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("beta:applications", kwargs={"org_slug": org_a.slug}))
    assert response.content.decode().count("/withdraw/") == 5


# --- API


def test_the_api_withdraws_for_the_applicant(client, place, org_a):
    client.force_login(place.applicant)
    response = client.post(API.format(org=org_a.slug, id=place.pk))
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["status"]) == (place.pk, "withdrawn")
    api_error(client.post(API.format(org=org_a.slug, id=place.pk)), 409, "application_refused")


def test_the_api_refuses_tokens_others_and_other_organisations(
    client, place, org_a, org_b, admin_b, viewer_a
):
    headers = token_headers(org_a, ["beta:read", "beta:write"])
    api_error(
        client.post(API.format(org=org_a.slug, id=place.pk), headers=headers),
        403,
        "person_required",
    )
    client.force_login(viewer_a)
    api_error(client.post(API.format(org=org_a.slug, id=place.pk)), 404, "not_found")
    client.force_login(admin_b)
    api_error(client.post(API.format(org=org_b.slug, id=place.pk)), 404, "not_found")
    assert Application.objects.get(pk=place.pk).status == "accepted"
