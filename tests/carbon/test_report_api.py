"""Carbon reports through the API: POST /reports answers 202 and the report is generated in the
background; GET /reports/{id} gives status, progress and figures; GET /reports/{id}/file the file
(attachment, no-store, nosniff); every client error is a 4xx in the API's error shape; another
organisation's report is 404 whatever its id."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from carbon.footprint import api as carbon_api  # noqa: F401 - registers the carbon scopes
from carbon.models import Report, ReportStatus
from carbon.reports import actions
from portal.models import AuditEvent
from tests.api_client import api_error, token_headers
from tests.carbon.report_fakes import delivered_order, use_renderer

pytestmark = pytest.mark.django_db

READ_WRITE = ("carbon:read", "carbon:write")


@pytest.fixture(autouse=True)
def fake_renderer(monkeypatch):
    use_renderer(monkeypatch)


@pytest.fixture
def orders(org_a):
    return [delivered_order(org_a)]


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """POST /reports and let the queued generation run after the request's commit."""

    def call(body, headers=None):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                "/api/v1/reports", body, content_type="application/json", headers=headers or {}
            )

    return call


def test_a_token_requests_a_report_and_follows_it_to_the_file(client, org_a, orders, post):
    headers = token_headers(org_a, READ_WRITE)
    response = post({"period": "2025", "language": "zh-hans", "format": "csv"}, headers)

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued"
    assert body["organisation"] == "acme"
    assert body["period"] == {
        "kind": "year",
        "period": "2025",
        "start": "2025-01-01",
        "end": "2025-12-31",
    }
    assert (body["language"], body["format"], body["basis"]) == ("zh-hans", "csv", "as_issued")
    assert body["download_url"] is None
    assert response["Location"] == f"/api/v1/reports/{body['id']}"

    status = client.get(response["Location"], headers=headers).json()
    assert (status["status"], status["progress"], status["step"]) == ("done", 100, "")
    report = Report.objects.get(public_id=body["id"])
    assert status["summary"]["orders"] == 1
    assert status["summary"]["wtw_kg"] == report.summary["wtw_kg"]
    assert status["data_hash"] == report.data_hash
    assert status["download_url"] == f"/api/v1/reports/{body['id']}/file"

    file = client.get(status["download_url"], headers=headers)
    assert file.status_code == 200
    assert file["Content-Type"] == "text/csv; charset=utf-8"
    assert file["Content-Disposition"] == (
        'attachment; filename="greenloop-carbon-report-acme-2025-zh-hans.csv"'
    )
    assert "no-store" in file["Cache-Control"]
    assert file["X-Content-Type-Options"] == "nosniff"
    assert b"".join(file.streaming_content) == report.file.open("rb").read()
    assert AuditEvent.objects.filter(
        action="carbon.report_downloaded", object_id=str(report.pk)
    ).exists()


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"period": "2025-13"}, "invalid_period", "period"),
        ({"period": "last year"}, "invalid_period", "period"),
        ({"start": "2025-03-01", "end": "2025-02-01"}, "invalid_period", "period"),
        ({}, "validation_error", "period"),
        (
            {"period": "2025", "start": "2025-01-01", "end": "2025-02-01"},
            "validation_error",
            "period",
        ),
        ({"period": "2025", "language": "fr"}, "validation_error", "payload.language"),
        ({"period": "2025", "format": "docx"}, "validation_error", "payload.format"),
        ({"period": "2025", "restated": True}, "no_issued_report", "restated"),
        ({"start": "2025-01-01"}, "validation_error", "period"),
    ],
)
def test_bad_requests_are_422_naming_the_field(org_a, post, body, code, field):
    response = post(body, token_headers(org_a, READ_WRITE))
    api_error(response, 422, code, field)
    assert not Report.objects.exists()


def test_a_custom_period_from_start_and_end(org_a, orders, post):
    response = post(
        {"start": "2025-05-01", "end": "2025-05-31", "format": "ileap"},
        token_headers(org_a, READ_WRITE),
    )
    assert response.status_code == 202
    assert response.json()["period"]["period"] == "2025-05-01..2025-05-31"


def test_scopes_and_roles(client, org_a, viewer_a, member_a, orders, post):
    # a token without carbon:write may not request, one without carbon:read may not read
    api_error(
        post({"period": "2025"}, token_headers(org_a, ["carbon:read"])), 403, "insufficient_scope"
    )
    # a viewer may not request...
    client.force_login(viewer_a)
    api_error(post({"period": "2025"}), 403, "permission_denied")
    # ...but reads and downloads what a member requested
    client.force_login(member_a)
    assert post({"period": "2025"}).status_code == 202
    client.force_login(viewer_a)
    [item] = client.get("/api/v1/reports").json()["items"]
    assert client.get(item["download_url"]).status_code == 200
    api_error(
        client.get(item["url"], headers=token_headers(org_a, ["account:read"])),
        403,
        "insufficient_scope",
    )


def test_another_organisation_gets_404_for_status_and_file_even_with_the_id(
    client, org_a, org_b, member_b, admin_a, orders, post
):
    client.force_login(admin_a)
    report = post({"period": "2025"}).json()
    client.logout()

    foreign = token_headers(org_b, READ_WRITE)
    api_error(client.get(f"/api/v1/reports/{report['id']}", headers=foreign), 404, "not_found")
    api_error(client.get(f"/api/v1/reports/{report['id']}/file", headers=foreign), 404, "not_found")
    assert client.get("/api/v1/reports", headers=foreign).json()["count"] == 0

    client.force_login(member_b)
    api_error(client.get(f"/api/v1/reports/{report['id']}"), 404, "not_found")
    api_error(client.get(f"/api/v1/reports/{report['id']}/file"), 404, "not_found")
    # nor may they ask for one about Acme, by session or with their own token
    api_error(post({"period": "2025", "organisation": "acme"}), 404, "not_found")
    client.logout()
    api_error(post({"period": "2025", "organisation": "acme"}, foreign), 404, "not_found")
    assert Report.objects.count() == 1


def test_a_file_not_ready_is_409_and_an_expired_one_410(client, org_a, admin_a, orders, post):
    headers = token_headers(org_a, READ_WRITE)
    queued = actions.request_report(
        org_a, actions.ReportingPeriod.year(2025), language="en", format="pdf", by=admin_a
    )
    api_error(
        client.get(f"/api/v1/reports/{queued.public_id}/file", headers=headers),
        409,
        "report_not_ready",
    )
    done = post({"period": "2025"}, headers).json()
    actions.expire_reports(timezone.now() + dt.timedelta(days=31))
    expired = client.get(f"/api/v1/reports/{done['id']}", headers=headers).json()
    assert expired["status"] == "expired"
    assert expired["download_url"] is None
    assert len(expired["data_hash"]) == 64
    api_error(
        client.get(f"/api/v1/reports/{done['id']}/file", headers=headers), 410, "report_expired"
    )


def test_only_sustainability_staff_ask_for_every_customer(
    client, admin_a, sustainability, orders, post
):
    client.force_login(admin_a)
    api_error(post({"period": "2025", "all_customers": True}), 403, "permission_denied")
    client.force_login(sustainability)
    response = post({"period": "2025", "all_customers": True})
    assert response.status_code == 202
    assert response.json()["organisation"] is None
    report = Report.objects.get()
    assert report.organisation is None
    assert report.status == ReportStatus.DONE
    # the customer never sees it
    client.force_login(admin_a)
    api_error(client.get(f"/api/v1/reports/{report.public_id}"), 404, "not_found")


def test_the_list_is_bounded_in_queries(
    client, org_a, admin_a, orders, post, django_assert_max_num_queries
):
    headers = token_headers(org_a, READ_WRITE)
    for _ in range(3):
        post({"period": "2025"}, headers)
    with django_assert_max_num_queries(6):
        first = client.get("/api/v1/reports?page_size=2", headers=headers).json()
    for _ in range(5):
        post({"period": "2025-Q2"}, headers)
    with django_assert_max_num_queries(6):
        page = client.get("/api/v1/reports?page_size=50", headers=headers).json()
    assert (first["count"], len(first["items"])) == (3, 2)
    assert (page["count"], len(page["items"])) == (8, 8)


def test_the_operations_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert paths["/api/v1/reports"]["post"]["operationId"] == "carbon_reports_api_request_report"
    assert paths["/api/v1/reports"]["get"]["operationId"] == "carbon_reports_api_list_reports"
    assert set(paths["/api/v1/reports/{report_id}"]) == {"get"}
    assert set(paths["/api/v1/reports/{report_id}/file"]) == {"get"}
    assert "202" in paths["/api/v1/reports"]["post"]["responses"]
