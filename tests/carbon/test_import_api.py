"""Order import through the API: POST /organisations/{slug}/order-imports answers 202 with the
job, GET /organisations/{slug}/order-imports/{job_id} reports status, progress and every error;
401 without credentials, 403 without scope or role, 404 for another organisation."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from carbon.footprint import api as carbon_api  # noqa: F401 - registers the carbon scopes
from carbon.models import CalculationSnapshot, ImportJob, ImportStatus, Leg, Order
from portal import actions
from portal.models import Role
from tests.factories import MembershipFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db

DEMO_CSV = Path(settings.BASE_DIR) / "fixtures" / "demo-orders.csv"


def _import_url(slug="acme"):
    return f"/api/v1/organisations/{slug}/order-imports"


def _job_url(job_id, slug="acme"):
    return f"/api/v1/organisations/{slug}/order-imports/{job_id}"


def _token(org, scopes=("carbon:read", "carbon:write")):
    _, plaintext = actions.issue_api_token(org, "ERP", list(scopes), by=None)
    return {"Authorization": f"Bearer {plaintext}"}


def _csv(content: bytes | None = None, name="orders.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content or DEMO_CSV.read_bytes(), content_type="text/csv")


def _bad_csv() -> bytes:
    # the demo file with a negative mass on its third data row (line 4 of the file)
    lines = DEMO_CSV.read_text().splitlines(keepends=True)
    lines[3] = lines[3].replace(",25 km,3.2 t,", ",25 km,-3.2 t,")
    assert "-3.2 t" in lines[3]
    return "".join(lines).encode()


def _error(response, status, code, field=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "field"}
    assert (body["code"], body["field"]) == (code, field)


@pytest.fixture
def demo_setup(org_a):
    """The cited reference data, the demo products and the site the demo file names."""
    from carbon.demo import ensure_products

    call_command("load_reference_data")
    ensure_products()
    SiteFactory(organisation=org_a, name="Werk Hamburg", country="DE", region="DE")
    return org_a


def test_a_token_imports_the_demo_file(client, demo_setup):
    org = demo_setup
    # when the ERP posts the demo file
    response = client.post(_import_url(), {"file": _csv()}, headers=_token(org))
    # then the job is accepted, finished (small file) and points at its status URL
    assert response.status_code == 202, response.content
    job = response.json()
    assert response["Location"] == job["url"] == _job_url(job["id"])
    assert (job["status"], job["finished"], job["progress"]) == ("succeeded", True, 100)
    assert (job["rows_done"], job["rows_total"], job["errors"]) == (21, 21, [])
    assert job["summary"]["orders"] == 7
    assert job["file_name"] == "orders.csv"
    assert Order.objects.filter(organisation=org).count() == 7
    assert CalculationSnapshot.objects.filter(order__organisation=org, is_current=True).count() == 7
    stored = ImportJob.objects.get(pk=job["id"])
    assert (stored.organisation, stored.created_by) == (org, None)
    # and polling the job answers the same
    polled = client.get(job["url"], headers=_token(org, ["carbon:read"]))
    assert polled.status_code == 200
    assert polled.json() | {"url": None} == job | {"url": None}


def test_a_file_with_errors_is_reported_and_nothing_is_stored(client, demo_setup):
    org = demo_setup
    # when a file with one bad row is posted
    response = client.post(_import_url(), {"file": _csv(_bad_csv())}, headers=_token(org))
    # then the job is accepted but rejected, with the error report and nothing stored
    assert response.status_code == 202, response.content
    job = response.json()
    assert job["status"] == ImportStatus.FAILED
    assert job["finished"] is True
    assert len(job["errors"]) >= 1
    error = job["errors"][0]
    assert (error["row"], error["column"], error["value"]) == (4, "mass", "-3.2 t")
    assert error["reason"]
    assert (Order.objects.count(), Leg.objects.count()) == (0, 0)
    # and the status URL reports the same errors
    polled = client.get(_job_url(job["id"]), headers=_token(org)).json()
    assert polled["errors"] == job["errors"]
    assert polled["status"] == "failed"


def test_a_member_imports_through_the_session(client, demo_setup, member_a):
    client.force_login(member_a)
    response = client.post(_import_url(), {"file": _csv()})
    assert response.status_code == 202, response.content
    assert ImportJob.objects.get(pk=response.json()["id"]).created_by == member_a
    assert client.get(response["Location"]).status_code == 200


def test_anonymous_callers_get_401(client, org_a):
    job = ImportJob.objects.create(organisation=org_a, file="private/imports/x.csv")
    _error(client.post(_import_url(), {"file": _csv()}), 401, "not_authenticated")
    _error(client.get(_job_url(job.pk)), 401, "not_authenticated")


def test_a_token_without_the_write_scope_gets_403(client, org_a):
    response = client.post(_import_url(), {"file": _csv()}, headers=_token(org_a, ["carbon:read"]))
    _error(response, 403, "insufficient_scope")
    assert ImportJob.objects.count() == 0


def test_a_token_without_the_read_scope_cannot_poll(client, org_a):
    job = ImportJob.objects.create(organisation=org_a, file="private/imports/x.csv")
    response = client.get(_job_url(job.pk), headers=_token(org_a, ["carbon:write"]))
    _error(response, 403, "insufficient_scope")


def test_viewers_may_not_import_or_read_imports(client, org_a, viewer_a):
    job = ImportJob.objects.create(organisation=org_a, file="private/imports/x.csv")
    client.force_login(viewer_a)
    _error(client.post(_import_url(), {"file": _csv()}), 403, "permission_denied")
    _error(client.get(_job_url(job.pk)), 403, "permission_denied")
    assert ImportJob.objects.count() == 1


def test_another_organisations_slug_and_jobs_are_404(client, org_a, org_b, member_b):
    foreign = ImportJob.objects.create(organisation=org_b, file="private/imports/x.csv")
    headers = _token(org_a)
    # their slug: not found, and the file is never read
    _error(client.post(_import_url("globex"), {"file": _csv()}, headers=headers), 404, "not_found")
    _error(client.get(_job_url(foreign.pk, "globex"), headers=headers), 404, "not_found")
    # their job under our slug: not found either
    _error(client.get(_job_url(foreign.pk), headers=headers), 404, "not_found")
    # the same for a person of another organisation
    client.force_login(member_b)
    _error(client.post(_import_url("acme"), {"file": _csv()}), 404, "not_found")
    assert ImportJob.objects.count() == 1


def test_the_file_is_required(client, org_a):
    response = client.post(_import_url(), {}, headers=_token(org_a))
    _error(response, 422, "validation_error", "file")


def test_a_member_of_two_organisations_imports_into_the_one_named(client, demo_setup, org_b):
    user = UserFactory(email="both@example.com")
    MembershipFactory(user=user, organisation=demo_setup, role=Role.MEMBER)
    MembershipFactory(user=user, organisation=org_b, role=Role.VIEWER)
    client.force_login(user)
    # a viewer in Globex cannot import there
    _error(client.post(_import_url("globex"), {"file": _csv()}), 403, "permission_denied")
    # but imports into Acme
    response = client.post(_import_url("acme"), {"file": _csv()})
    assert response.status_code == 202
    assert ImportJob.objects.get().organisation == demo_setup


def test_the_endpoints_are_documented(client):
    schema = client.get("/api/v1/openapi.json").json()
    post = schema["paths"]["/api/v1/organisations/{slug}/order-imports"]["post"]
    assert "order-imports" in post["summary"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert "202" in post["responses"]
    assert "/api/v1/organisations/{slug}/order-imports/{job_id}" in schema["paths"]
