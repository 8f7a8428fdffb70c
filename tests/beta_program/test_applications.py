"""Applying to a programme: screening answers, automatic acceptance within capacity, the review
queue's decisions, e-mails in the applicant's language, events with ids only, and the pages'
and the API's answers to outsiders."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from beta_program.programmes import actions
from beta_program.programmes.exceptions import (
    ApplicationRefused,
    CapacityFull,
    InvalidAnswer,
    NotEligible,
)
from beta_program.programmes.models import Application, ProgrammeStatus
from portal.models import AuditEvent, OutboxEvent, Tier
from tests.api_client import api_error, token_headers
from tests.factories import MembershipFactory, UserFactory

API = "/api/v1/organisations/{org}/beta/programmes/{programme}/applications"


def _apply_url(org, programme):
    return reverse("beta:apply", kwargs={"org_slug": org.slug, "programme_slug": programme.slug})


def _member_of(org, email, role="member", language=""):
    user = UserFactory(email=email, preferred_language=language)
    MembershipFactory(user=user, organisation=org, role=role)
    return user


# --- the action


def test_an_eligible_application_is_accepted_at_once_while_places_are_free(
    recruiting, org_a, admin_a, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        application = actions.submit_application(recruiting, org_a, admin_a, {})
    # then
    assert (application.status, application.auto_decided) == ("accepted", True)
    events = OutboxEvent.objects.filter(type__startswith="greenloop.beta.").order_by("-type")
    assert [(e.type, e.data) for e in events] == [
        (
            "greenloop.beta.application_submitted",
            {
                "application_id": application.pk,
                "programme_id": recruiting.pk,
                "applicant_id": admin_a.pk,
                "status": "accepted",
            },
        ),
        (
            "greenloop.beta.application_accepted",
            {
                "application_id": application.pk,
                "programme_id": recruiting.pk,
                "applicant_id": admin_a.pk,
            },
        ),
    ]
    assert {e.organisation_id for e in events} == {org_a.pk}
    assert AuditEvent.objects.get(action="beta.application_submitted").details == {
        "programme_id": recruiting.pk,
        "status": "accepted",
    }
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "You are in: Monitor app beta"
    assert mail.outbox[0].to == [admin_a.email]


def test_events_and_notifications_of_a_confidential_programme_carry_no_confidential_text(
    make_programme, org_a, admin_a, django_capture_on_commit_callbacks
):
    programme = make_programme(
        "fw",
        name="Firmware",
        summary="Public line",
        goals="SECRET-GOAL",
        exit_criteria="SECRET-EXIT",
        confidentiality="nda",
    )
    with django_capture_on_commit_callbacks(execute=True):
        actions.submit_application(programme, org_a, admin_a, {})
    for event in OutboxEvent.objects.filter(type__startswith="greenloop.beta."):
        text = str(event.data) + event.subject
        assert "Firmware" not in text
        assert "SECRET" not in text
    assert "SECRET" not in mail.outbox[0].body
    assert "non-disclosure agreement" in mail.outbox[0].body


def test_capacity_per_organisation_sends_the_next_applicant_to_the_review_queue(
    make_programme, org_a, admin_a, member_a
):
    programme = make_programme(capacity_per_organisation=1)
    first = actions.submit_application(programme, org_a, admin_a, {})
    second = actions.submit_application(programme, org_a, member_a, {})
    assert (first.status, second.status) == ("accepted", "pending")
    assert second.auto_decided is False


def test_total_capacity_counts_every_organisation(make_programme, org_a, org_b, admin_a, admin_b):
    programme = make_programme(capacity_total=1)
    actions.submit_application(programme, org_b, admin_b, {})
    assert actions.submit_application(programme, org_a, admin_a, {}).status == "pending"


def test_without_automatic_acceptance_every_application_waits(
    make_programme, org_a, admin_a, django_capture_on_commit_callbacks
):
    programme = make_programme(auto_accept=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.submit_application(programme, org_a, admin_a, {}).status == "pending"
    assert not OutboxEvent.objects.filter(type="greenloop.beta.application_accepted").exists()
    assert mail.outbox[0].subject == "Application received: Monitor app beta"


@pytest.mark.parametrize(
    ("fields", "role", "message"),
    [
        (
            {"eligible_tiers": [Tier.GOLD]},
            "admin",
            "Your organisation's tier is not part of this programme.",
        ),
        (
            {"eligible_countries": ["CN"]},
            "admin",
            "This programme is not open in your organisation's country or region.",
        ),
        (
            {"required_skus": ["BAT-LFP-215"]},
            "admin",
            "This programme is for organisations that use the product it tests.",
        ),
        ({}, "viewer", "Your role in the organisation does not allow applying; ask an admin."),
    ],
)
def test_an_ineligible_application_is_refused_and_nothing_is_written(
    make_programme, org_a, fields, role, message
):
    programme = make_programme(**fields)
    user = _member_of(org_a, "someone@acme.example", role=role)
    with pytest.raises(NotEligible) as refused:
        actions.submit_application(programme, org_a, user, {})
    assert refused.value.message == message
    assert Application.objects.count() == 0
    assert not OutboxEvent.objects.filter(type__startswith="greenloop.beta.").exists()


def test_applying_twice_or_to_a_programme_not_recruiting_is_refused(
    make_programme, recruiting, org_a, admin_a
):
    actions.submit_application(recruiting, org_a, admin_a, {})
    with pytest.raises(ApplicationRefused):
        actions.submit_application(recruiting, org_a, admin_a, {})
    running = make_programme("running", status=ProgrammeStatus.RUNNING)
    with pytest.raises(ApplicationRefused):
        actions.submit_application(running, org_a, admin_a, {})
    assert Application.objects.count() == 1


def test_screening_answers_are_checked_and_stored(questions, recruiting, org_a, admin_a):
    plants, devices, wish = questions
    application = actions.submit_application(
        recruiting,
        org_a,
        admin_a,
        {str(plants.pk): "12", str(devices.pk): ["iPhone", "Android", "iPhone"]},
    )
    assert application.answers == {str(plants.pk): "12", str(devices.pk): ["Android", "iPhone"]}


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({}, "plants"),  # required and missing
        ({"plants": "many", "devices": ["Android"]}, "plants"),
        ({"plants": "NaN", "devices": ["Android"]}, "plants"),
        ({"plants": "3", "devices": ["Windows phone"]}, "devices"),
        ({"plants": "3", "devices": "Android"}, "devices"),
        ({"plants": "3", "devices": ["Android"], "wish": "x" * 2001}, "wish"),
    ],
)
def test_bad_screening_answers_are_refused_naming_the_question(
    questions, recruiting, org_a, admin_a, answers, field
):
    plants, devices, wish = questions
    ids = {"plants": plants.pk, "devices": devices.pk, "wish": wish.pk}
    raw = {str(ids[k]): v for k, v in answers.items()}
    with pytest.raises(InvalidAnswer) as refused:
        actions.submit_application(recruiting, org_a, admin_a, raw)
    assert refused.value.field == f"answers.{ids[field]}"
    assert Application.objects.count() == 0


# --- the review queue


@pytest.fixture
def waiting(make_programme, org_a, admin_a):
    programme = make_programme(auto_accept=False, capacity_per_organisation=1)
    return actions.submit_application(programme, org_a, admin_a, {})


def test_a_reviewer_accepts_a_waiting_application(
    waiting, product, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        actions.decide_application(waiting, "accepted", product)
    waiting.refresh_from_db()
    assert (waiting.status, waiting.decided_by) == ("accepted", product)
    assert OutboxEvent.objects.filter(type="greenloop.beta.application_accepted").count() == 1
    assert AuditEvent.objects.get(action="beta.application_decided").details == {
        "programme_id": waiting.programme_id,
        "decision": "accepted",
        "reason": "",
    }
    assert mail.outbox[0].subject == "You are in: Monitor app beta"


def test_rejecting_needs_a_reason_that_reaches_the_applicant_in_their_language(
    waiting, product, admin_a, django_capture_on_commit_callbacks
):
    with pytest.raises(ApplicationRefused):
        actions.decide_application(waiting, "rejected", product, reason="  ")
    waiting.refresh_from_db()
    assert waiting.status == "pending"
    admin_a.preferred_language = "zh-hans"
    admin_a.save()
    waiting.programme.name_zh = "监控应用测试"
    waiting.programme.save()
    with django_capture_on_commit_callbacks(execute=True):
        actions.decide_application(waiting, "rejected", product, reason="Only gateway owners")
    event = OutboxEvent.objects.get(type="greenloop.beta.application_rejected")
    assert "gateway" not in str(event.data)
    assert mail.outbox[0].subject == "您对“监控应用测试”的申请"
    assert "Only gateway owners" in mail.outbox[0].body


def test_waitlisting_then_accepting_needs_a_free_place(waiting, product, org_a, member_a):
    actions.decide_application(waiting, "waitlisted", product)
    other = actions.submit_application(waiting.programme, org_a, member_a, {})
    actions.decide_application(other, "accepted", product)
    with pytest.raises(CapacityFull):
        actions.decide_application(waiting, "accepted", product)
    waiting.refresh_from_db()
    assert waiting.status == "waitlisted"


def test_a_decided_application_is_not_decided_again(waiting, product):
    actions.decide_application(waiting, "rejected", product, reason="No")
    with pytest.raises(ApplicationRefused):
        actions.decide_application(waiting, "accepted", product)


def test_only_product_staff_decide(waiting, staff_success):
    from portal.exceptions import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        actions.decide_application(waiting, "accepted", staff_success)
    waiting.refresh_from_db()
    assert waiting.status == "pending"


# --- pages


def test_applying_through_the_page(client, questions, recruiting, org_a, admin_a):
    plants, devices, wish = questions
    client.force_login(admin_a)
    assert client.get(_apply_url(org_a, recruiting)).status_code == 200
    response = client.post(
        _apply_url(org_a, recruiting),
        {f"q{plants.pk}": "4", f"q{devices.pk}": ["Android"], f"q{wish.pk}": ""},
    )
    assert response.status_code == 302
    application = Application.objects.get()
    assert (application.organisation, application.applicant, application.status) == (
        org_a,
        admin_a,
        "accepted",
    )
    assert application.answers == {str(plants.pk): "4", str(devices.pk): ["Android"]}


def test_a_page_application_with_a_missing_answer_shows_the_form_again(
    client, questions, recruiting, org_a, admin_a
):
    client.force_login(admin_a)
    response = client.post(_apply_url(org_a, recruiting), {})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert Application.objects.count() == 0


def test_applying_to_another_organisations_programme_through_ones_own_url_is_404(
    client, make_programme, org_a, org_b, admin_a, admin_b
):
    programme = make_programme(status=ProgrammeStatus.RUNNING)
    Application.objects.create(programme=programme, organisation=org_b, status="accepted")
    client.force_login(admin_a)
    assert client.post(_apply_url(org_a, programme), {}).status_code == 404
    assert Application.objects.count() == 1


def test_the_applications_page_lists_only_the_organisations_own(
    client, recruiting, org_a, org_b, admin_a, admin_b
):
    actions.submit_application(recruiting, org_a, admin_a, {})
    actions.submit_application(recruiting, org_b, admin_b, {})
    client.force_login(admin_a)
    response = client.get(reverse("beta:applications", kwargs={"org_slug": org_a.slug}))
    assert [a.organisation for a in response.context["applications"]] == [org_a]


# --- API


def test_the_api_lists_programmes_and_applies_for_a_signed_in_person(
    client, questions, recruiting, org_a, admin_a
):
    plants, devices, _wish = questions
    client.force_login(admin_a)
    listed = client.get(f"/api/v1/organisations/{org_a.slug}/beta/programmes")
    assert listed.status_code == 200
    assert [(p["slug"], p["application"]) for p in listed.json()] == [("monitor-beta", None)]
    detail = client.get(f"/api/v1/organisations/{org_a.slug}/beta/programmes/monitor-beta")
    assert detail.json()["may_apply"] is True
    assert [q["kind"] for q in detail.json()["questions"]] == ["number", "multiple", "text"]
    response = client.post(
        API.format(org=org_a.slug, programme="monitor-beta"),
        {"answers": {str(plants.pk): 3, str(devices.pk): ["iPhone"]}},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["status"] == "accepted"
    mine = client.get(f"/api/v1/organisations/{org_a.slug}/beta/applications").json()
    assert [(a["programme"], a["status"]) for a in mine] == [("monitor-beta", "accepted")]


def test_api_refusals_are_json_errors(client, questions, recruiting, org_a, admin_a):
    plants, devices, _wish = questions
    client.force_login(admin_a)
    url = API.format(org=org_a.slug, programme="monitor-beta")
    api_error(
        client.post(url, {"answers": {str(plants.pk): "lots"}}, content_type="application/json"),
        422,
        "validation_error",
        f"answers.{plants.pk}",
    )
    api_error(
        client.post(url, {"answers": []}, content_type="application/json"),
        422,
        "validation_error",
        "payload.answers",
    )
    ok = {"answers": {str(plants.pk): 1, str(devices.pk): ["iPhone"]}}
    client.post(url, ok, content_type="application/json")
    api_error(client.post(url, ok, content_type="application/json"), 409, "application_refused")
    api_error(
        client.post(
            API.format(org=org_a.slug, programme="nope"), ok, content_type="application/json"
        ),
        404,
        "not_found",
    )


def test_a_token_reads_but_cannot_apply(client, recruiting, org_a):
    headers = token_headers(org_a, ["beta:read", "beta:write"])
    listed = client.get(f"/api/v1/organisations/{org_a.slug}/beta/programmes", headers=headers)
    assert [p["slug"] for p in listed.json()] == ["monitor-beta"]
    api_error(
        client.post(
            API.format(org=org_a.slug, programme="monitor-beta"),
            {"answers": {}},
            content_type="application/json",
            headers=headers,
        ),
        403,
        "person_required",
    )
    assert Application.objects.count() == 0


def test_a_token_needs_the_beta_read_scope(client, recruiting, org_a):
    headers = token_headers(org_a, ["account:read"])
    api_error(
        client.get(f"/api/v1/organisations/{org_a.slug}/beta/programmes", headers=headers),
        403,
        "insufficient_scope",
    )


def test_the_api_hides_another_organisations_programme_and_organisation(
    client, make_programme, org_a, org_b, admin_a
):
    programme = make_programme("secret", status=ProgrammeStatus.RUNNING, confidentiality="nda")
    Application.objects.create(programme=programme, organisation=org_b, status="accepted")
    client.force_login(admin_a)
    api_error(
        client.get(f"/api/v1/organisations/{org_a.slug}/beta/programmes/secret"), 404, "not_found"
    )
    api_error(client.get(f"/api/v1/organisations/{org_b.slug}/beta/programmes"), 404, "not_found")
    assert client.get(f"/api/v1/organisations/{org_a.slug}/beta/programmes").json() == []


# --- capacity under concurrent applications (PostgreSQL)


@pytest.mark.postgres
@pytest.mark.race
@pytest.mark.django_db(transaction=True)
def test_concurrent_applications_never_exceed_capacity(make_programme, org_a, org_b):
    from tests.concurrency import race

    # given 3 places and 8 people of two organisations applying at the same moment
    programme = make_programme("race", capacity_total=3)
    people = [
        (org_a if n % 2 else org_b, _member_of(org_a if n % 2 else org_b, f"racer{n}@example.com"))
        for n in range(8)
    ]
    # when
    results = race(
        lambda i: actions.submit_application(programme, people[i][0], people[i][1], {}).status, 8
    )
    # then exactly 3 are accepted and the rest wait for review
    assert results.overlapped, results.intervals
    assert sorted(results) == ["accepted"] * 3 + ["pending"] * 5
    assert Application.objects.filter(programme=programme, status="accepted").count() == 3
