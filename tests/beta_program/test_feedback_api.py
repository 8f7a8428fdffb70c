"""Feedback in the REST API: filing, listing and reading one's own reports with public comments,
build surveys; people only (tokens 403 person_required), the pages' visibility (404), errors in
the JSON shape, query bounds on the list and the operations in the OpenAPI document."""

from __future__ import annotations

import pytest

from beta_program.programmes import actions, feedback_actions
from beta_program.programmes.feedback_actions import Report
from beta_program.programmes.feedback_models import Feedback
from tests.api_client import api_error, token_headers
from tests.beta_program.builds import make_build

BASE = "/api/v1/organisations"


def _body(build, **extra):
    return {
        "build_id": build.pk,
        "kind": "bug",
        "title": "Export freezes",
        "steps": "Press Export",
        "actual": "Spinner forever",
        "severity": "high",
        "frequency": "always",
        **extra,
    }


def test_a_participant_files_and_reads_a_report(client, tester, build, recruiting, product):
    client.force_login(tester)
    url = f"{BASE}/acme/beta/programmes/{recruiting.slug}/feedback"
    response = client.post(url, _body(build), content_type="application/json")
    assert response.status_code == 201, response.content
    created = response.json()
    report = Feedback.objects.get()
    assert created["id"] == report.pk
    assert (created["status"], created["build"], created["comments"]) == ("new", "3.0.0-beta.1", [])
    feedback_actions.comment(report, product, "Internal: exporter lock", internal=True)
    feedback_actions.comment(report, product, "Thanks, confirmed.")
    feedback_actions.transition(report, "confirmed", product)
    detail = client.get(f"{BASE}/acme/beta/feedback/{report.pk}").json()
    assert detail["status_label"] == "Confirmed"
    assert [c["body"] for c in detail["comments"]] == ["Thanks, confirmed."]
    assert detail["comments"][0]["product_team"] is True
    listing = client.get(f"{BASE}/acme/beta/feedback").json()
    assert [r["id"] for r in listing] == [report.pk]


def test_refusals_are_json_errors_naming_the_field(client, tester, build, recruiting):
    client.force_login(tester)
    url = f"{BASE}/acme/beta/programmes/{recruiting.slug}/feedback"
    response = client.post(url, _body(build, severity="urgent"), content_type="application/json")
    api_error(response, 422, "validation_error", "severity")
    response = client.post(url, _body(build, title="a\u0000b"), content_type="application/json")
    assert response.status_code == 422
    expired = make_build(recruiting, "2.9", days_left=-1)
    response = client.post(url, _body(expired), content_type="application/json")
    api_error(response, 404, "not_found")
    assert Feedback.objects.count() == 0


def test_tokens_are_refused_before_the_body_is_read(client, tester, org_a, build, recruiting):
    headers = token_headers(org_a, ["beta:read", "beta:write"])
    url = f"{BASE}/acme/beta/programmes/{recruiting.slug}/feedback"
    api_error(
        client.post(url, "not json", content_type="application/json", headers=headers),
        403,
        "person_required",
    )
    api_error(client.get(f"{BASE}/acme/beta/feedback", headers=headers), 403, "person_required")


def test_other_organisations_and_people_get_404(
    client, tester, org_a, org_b, admin_a, admin_b, build, recruiting
):
    report = feedback_actions.file_feedback(
        build,
        org_a,
        tester,
        Report(kind="bug", title="Crash", steps="x", actual="y", severity="low"),
    )
    # Another organisation through its own slug.
    client.force_login(admin_b)
    api_error(client.get(f"{BASE}/globex/beta/feedback/{report.pk}"), 404, "not_found")
    url = f"{BASE}/globex/beta/programmes/{recruiting.slug}/feedback"
    api_error(client.post(url, _body(build), content_type="application/json"), 404, "not_found")
    # A colleague who takes part too does not read it.
    actions.submit_application(recruiting, org_a, admin_a, {})
    client.force_login(admin_a)
    api_error(client.get(f"{BASE}/acme/beta/feedback/{report.pk}"), 404, "not_found")
    assert client.get(f"{BASE}/acme/beta/feedback").json() == []


def test_the_list_runs_a_bounded_number_of_queries(
    client, tester, org_a, build, django_assert_max_num_queries
):
    for n in range(12):
        feedback_actions.file_feedback(
            build,
            org_a,
            tester,
            Report(kind="bug", title=f"Bug {n}", steps="x", actual="y", severity="low"),
        )
    client.force_login(tester)
    with django_assert_max_num_queries(16):
        response = client.get(f"{BASE}/acme/beta/feedback")
    assert len(response.json()) == 12


def test_survey_answers_once(client, tester, build, recruiting):
    client.force_login(tester)
    url = f"{BASE}/acme/beta/programmes/{recruiting.slug}/builds/{build.pk}/survey"
    api_error(
        client.post(url, {"nps": 10, "csat": 6}, content_type="application/json"),
        422,
        "validation_error",
        "csat",
    )
    response = client.post(
        url, {"nps": 10, "csat": 5, "comment": "Great"}, content_type="application/json"
    )
    assert response.status_code == 201
    assert (response.json()["nps"], response.json()["csat"]) == (10, 5)
    api_error(
        client.post(url, {"nps": 9, "csat": 5}, content_type="application/json"),
        409,
        "already_answered",
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/organisations/{slug}/beta/programmes/{programme_slug}/feedback"),
        ("get", "/api/v1/organisations/{slug}/beta/feedback"),
        ("get", "/api/v1/organisations/{slug}/beta/feedback/{feedback_id}"),
        (
            "post",
            "/api/v1/organisations/{slug}/beta/programmes/{programme_slug}/builds/{build_id}/survey",
        ),
    ],
)
def test_the_operations_are_documented(client, db, method, path):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"][path][method]
    assert operation["tags"] == ["Beta programmes"]
    assert "403" in operation["responses"]
