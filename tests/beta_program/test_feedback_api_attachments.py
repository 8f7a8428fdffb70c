"""Attachments of bug reports through the REST API: the reporter adds screenshots or PDFs to
their own report (multipart), sees them in the report's JSON with download URLs and downloads
them; the pages' content checks and limits as JSON errors; the pages' visibility and NDA gating
(404 for anyone else's report, also through the caller's own URL)."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from beta_program.programmes import actions, feedback_actions
from beta_program.programmes.feedback_actions import Report
from beta_program.programmes.feedback_models import FeedbackAttachment
from beta_program.programmes.models import NdaVersion
from portal.models import AuditEvent
from tests.api_client import api_error, token_headers
from tests.beta_program.builds import make_build
from tests.factories import png_bytes

BASE = "/api/v1/organisations"
PNG = png_bytes(4, 3)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _report(build, org, user):
    return feedback_actions.file_feedback(
        build,
        org,
        user,
        Report(kind="bug", title="Crash on export", steps="x", actual="y", severity="high"),
    )


def _png(name="screen.png"):
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def _upload_url(org_slug, report):
    return f"{BASE}/{org_slug}/beta/feedback/{report.pk}/attachments"


def test_the_reporter_uploads_lists_and_downloads_attachments(client, tester, org_a, build):
    # given a report of the tester's
    report = _report(build, org_a, tester)
    client.force_login(tester)
    # when they upload a screenshot and a PDF in one multipart request
    pdf = SimpleUploadedFile("log.pdf", PDF, content_type="application/pdf")
    response = client.post(_upload_url("acme", report), {"files": [_png(), pdf]})
    # then both are stored and answered with their download URLs
    assert response.status_code == 201, response.content
    added = response.json()
    first, second = FeedbackAttachment.objects.order_by("id")
    assert [(a["id"], a["name"], a["content_type"], a["size"]) for a in added] == [
        (first.pk, "screen.png", "image/png", len(PNG)),
        (second.pk, "log.pdf", "application/pdf", len(PDF)),
    ]
    # in private storage, in a random directory of the report's
    assert re.fullmatch(rf"beta/feedback/{report.pk}/[0-9a-f]{{32}}/log\.pdf", second.file.name)
    assert added[0]["download_url"] == (
        f"/api/v1/organisations/acme/beta/feedback/{report.pk}/attachments/{first.pk}"
    )
    assert AuditEvent.objects.filter(action="beta.feedback_attachments_added").count() == 1
    # and the report's JSON lists them
    detail = client.get(f"{BASE}/acme/beta/feedback/{report.pk}").json()
    assert [a["name"] for a in detail["attachments"]] == ["screen.png", "log.pdf"]
    assert set(detail["attachments"][0]) == {
        "id",
        "name",
        "content_type",
        "size",
        "uploaded_at",
        "download_url",
    }
    # and the download answers the bytes as an attachment
    download = client.get(added[0]["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG
    assert download["Content-Type"] == "image/png"
    assert download["Content-Disposition"] == 'attachment; filename="screen.png"'


def test_attachments_filed_from_the_page_are_in_the_json(client, tester, org_a, build):
    # given a report filed with a screenshot (as the page does)
    report = feedback_actions.file_feedback(
        build,
        org_a,
        tester,
        Report(kind="bug", title="Crash", steps="x", actual="y", severity="low"),
        files=[_png("page.png")],
    )
    client.force_login(tester)
    # when the reporter reads it through the API / then the attachment is there
    detail = client.get(f"{BASE}/acme/beta/feedback/{report.pk}").json()
    assert [a["name"] for a in detail["attachments"]] == ["page.png"]


@pytest.mark.parametrize(
    ("upload", "code"),
    [
        (SimpleUploadedFile("run.png", b"#!/bin/sh\nrm -rf /\n"), "attachment_type"),
        (SimpleUploadedFile("screen.pdf", PNG), "attachment_disguised"),
        (SimpleUploadedFile("cut.pdf", b"%PDF-1.4\n1 0 obj"), "attachment_corrupt"),
        (SimpleUploadedFile("empty.png", b""), "attachment_empty"),
    ],
    ids=["script", "spoofed", "truncated-pdf", "empty"],
)
def test_bad_files_are_json_errors_and_nothing_is_stored(
    client, tester, org_a, build, upload, code
):
    report = _report(build, org_a, tester)
    client.force_login(tester)
    response = client.post(_upload_url("acme", report), {"files": [_png("good.png"), upload]})
    api_error(response, 422, code, "files")
    assert FeedbackAttachment.objects.count() == 0


@override_settings(BETA_ATTACHMENT_MAX_BYTES=1024 * 1024)
def test_a_file_over_the_size_limit_is_refused(client, tester, org_a, build):
    report = _report(build, org_a, tester)
    client.force_login(tester)
    big = SimpleUploadedFile("huge.png", PNG + b"\x00" * (1024 * 1024))
    message = api_error(
        client.post(_upload_url("acme", report), {"files": [big]}),
        422,
        "attachment_too_large",
        "files",
    )
    assert message == "huge.png is 1.0 MB; attachments may be at most 1 MB."
    assert FeedbackAttachment.objects.count() == 0


def test_a_report_holds_at_most_five_files(client, tester, org_a, build):
    # given a report with three screenshots
    report = _report(build, org_a, tester)
    client.force_login(tester)
    response = client.post(_upload_url("acme", report), {"files": [_png() for _ in range(3)]})
    assert response.status_code == 201
    # when three more are sent / then they are refused and the report keeps three
    message = api_error(
        client.post(_upload_url("acme", report), {"files": [_png() for _ in range(3)]}),
        422,
        "too_many_attachments",
        "files",
    )
    assert message == "A report holds at most 5 files; this one has 3."
    # and six at once are refused before anything is read
    api_error(
        client.post(_upload_url("acme", report), {"files": [_png() for _ in range(6)]}),
        422,
        "too_many_attachments",
        "files",
    )
    assert FeedbackAttachment.objects.filter(feedback=report).count() == 3


def test_no_file_is_a_validation_error(client, tester, org_a, build):
    report = _report(build, org_a, tester)
    client.force_login(tester)
    api_error(client.post(_upload_url("acme", report), {}), 422, "validation_error", "files")
    assert FeedbackAttachment.objects.count() == 0


def test_tokens_are_refused_before_the_body_is_read(client, tester, org_a, build):
    report = _report(build, org_a, tester)
    headers = token_headers(org_a, ["beta:read", "beta:write"])
    api_error(
        client.post(_upload_url("acme", report), {"files": [_png()]}, headers=headers),
        403,
        "person_required",
    )
    assert FeedbackAttachment.objects.count() == 0


def test_other_people_and_organisations_get_404(
    client, tester, org_a, admin_a, admin_b, build, recruiting
):
    # given a report of the tester's with a screenshot
    report = _report(build, org_a, tester)
    attachment = feedback_actions.add_attachments(report, tester, [_png()])[0]
    download = f"{_upload_url('acme', report)}/{attachment.pk}"
    # another organisation through its own slug and through the reporter's
    client.force_login(admin_b)
    for slug in ("globex", "acme"):
        api_error(client.get(f"{_upload_url(slug, report)}/{attachment.pk}"), 404, "not_found")
        api_error(client.post(_upload_url(slug, report), {"files": [_png()]}), 404, "not_found")
    # a colleague who takes part too
    actions.submit_application(recruiting, org_a, admin_a, {})
    client.force_login(admin_a)
    api_error(client.get(download), 404, "not_found")
    api_error(client.post(_upload_url("acme", report), {"files": [_png()]}), 404, "not_found")
    # an attachment of another report through the reporter's own report
    other = _report(build, org_a, admin_a)
    foreign = feedback_actions.add_attachments(other, admin_a, [_png("theirs.png")])[0]
    client.force_login(tester)
    api_error(client.get(f"{_upload_url('acme', report)}/{foreign.pk}"), 404, "not_found")
    assert FeedbackAttachment.objects.count() == 2


def test_a_new_nda_version_hides_the_attachments_until_accepted(
    client, confidential, org_a, member_a, product
):
    # given a participant's report with a screenshot under an accepted NDA
    actions.submit_application(confidential, org_a, member_a, {})
    build = make_build(confidential, "4.0.0-beta.3")
    actions.publish_nda(
        NdaVersion.objects.create(programme=confidential, title="NDA", body="Quiet."), product
    )
    actions.accept_nda(confidential, org_a, member_a, version=1)
    report = _report(build, org_a, member_a)
    attachment = feedback_actions.add_attachments(report, member_a, [_png()])[0]
    url = f"{_upload_url('acme', report)}/{attachment.pk}"
    client.force_login(member_a)
    assert client.get(url).status_code == 200
    # when a new NDA version is published
    actions.publish_nda(
        NdaVersion.objects.create(programme=confidential, title="NDA 2", body="Quieter."), product
    )
    # then the download and the upload are 404 until it is accepted
    api_error(client.get(url), 404, "not_found")
    api_error(client.post(_upload_url("acme", report), {"files": [_png()]}), 404, "not_found")
    actions.accept_nda(confidential, org_a, member_a, version=2)
    assert client.get(url).status_code == 200


def test_the_report_with_attachments_runs_a_bounded_number_of_queries(
    client, tester, org_a, build, django_assert_max_num_queries
):
    report = _report(build, org_a, tester)
    feedback_actions.add_attachments(report, tester, [_png() for _ in range(5)])
    client.force_login(tester)
    with django_assert_max_num_queries(16):
        response = client.get(f"{BASE}/acme/beta/feedback/{report.pk}")
    assert len(response.json()["attachments"]) == 5


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/organisations/{slug}/beta/feedback/{feedback_id}/attachments"),
        (
            "get",
            "/api/v1/organisations/{slug}/beta/feedback/{feedback_id}/attachments/{attachment_id}",
        ),
    ],
)
def test_the_operations_are_documented(client, db, method, path):
    operation = client.get("/api/v1/openapi.json").json()["paths"][path][method]
    assert operation["tags"] == ["Beta programmes"]
    assert {"403", "404"} <= set(operation["responses"])
    if method == "post":
        body = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
        assert "files" in body["properties"] or "$ref" in str(body)


def test_the_limit_is_explained_in_chinese(client, tester, org_a, build):
    report = _report(build, org_a, tester)
    feedback_actions.add_attachments(report, tester, [_png() for _ in range(5)])
    client.force_login(tester)
    message = api_error(
        client.post(
            _upload_url("acme", report), {"files": [_png()]}, HTTP_ACCEPT_LANGUAGE="zh-hans"
        ),
        422,
        "too_many_attachments",
        "files",
    )
    assert message == "每份报告最多可有 5 个文件；这份报告已有 5 个。"
