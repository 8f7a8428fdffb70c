"""The triage queue in the Wagtail admin: filters, overdue highlighting, the detail with internal
notes, the triage and comment screens, staff-only attachments and the CSV export."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from beta_program.programmes import feedback_actions
from beta_program.programmes.feedback_actions import Report
from beta_program.programmes.feedback_models import Feedback
from portal.staff_roles import StaffRole
from tests.beta_program.builds import make_build
from tests.conftest import _staff
from tests.factories import png_bytes


def _file(build, org, user, title="Export freezes", severity="high", **extra) -> Feedback:
    report = Report(
        kind="bug", title=title, steps="Press", actual="Freeze", severity=severity, **extra
    )
    return feedback_actions.file_feedback(build, org, user, report)


def test_the_queue_filters_and_highlights_overdue_reports(
    client, product, tester, org_a, build, django_assert_max_num_queries
):
    late = _file(build, org_a, tester, "Old crash", "critical")
    Feedback.objects.filter(pk=late.pk).update(triage_due_at=timezone.now() - dt.timedelta(hours=2))
    for n in range(6):
        _file(build, org_a, tester, f"Glitch {n}", "low")
    client.force_login(product)
    url = reverse("beta_feedback:index")
    with django_assert_max_num_queries(40):
        response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Overdue since" in body
    assert body.count("Glitch") == 6
    overdue = client.get(url, {"overdue": "1"}).content.decode()
    assert "Old crash" in overdue
    assert "Glitch" not in overdue
    low = client.get(url, {"severity": "low"}).content.decode()
    assert "Old crash" not in low
    assert "Glitch 0" in low


def test_triage_screen_transitions_assigns_and_the_detail_shows_internal_notes(
    client, product, tester, org_a, build, recruiting, django_capture_on_commit_callbacks
):
    report = _file(build, org_a, tester)
    client.force_login(product)
    url = reverse("beta_feedback:triage", args=(report.pk,))
    choices = [value for value, _label in client.get(url).context["form"].fields["status"].choices]
    assert choices == ["", "needs_info", "confirmed", "wont_fix", "duplicate"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"status": "confirmed", "assignee": product.pk})
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.status, report.assignee) == ("confirmed", product)
    # "Fixed" without a build is refused on the form.
    response = client.post(url, {"status": "fixed", "assignee": product.pk})
    assert response.status_code == 200
    assert response.context["form"].errors["fixed_in_build"]
    fix = make_build(recruiting, "3.0.0-beta.2")
    client.post(url, {"status": "fixed", "fixed_in_build": fix.pk, "assignee": product.pk})
    report.refresh_from_db()
    assert report.status_label() == "Fixed in build 3.0.0-beta.2"
    comment_url = reverse("beta_feedback:comment", args=(report.pk,))
    client.post(comment_url, {"body": "Lock contention in exporter", "internal": "on"})
    detail = client.get(reverse("beta_feedback:inspect", args=(report.pk,))).content.decode()
    assert "Lock contention in exporter" in detail
    assert "Internal note:" in detail
    assert report.comments.get().internal is True


def test_staff_without_the_product_role_cannot_triage(
    client, db, enable_totp, tester, org_a, build
):
    report = _file(build, org_a, tester)
    moderator = _staff("mod@greenloop.example", StaffRole.MODERATOR)
    enable_totp(moderator)
    client.force_login(moderator)
    assert client.get(reverse("beta_feedback:triage", args=(report.pk,))).status_code in (302, 403)
    assert Feedback.objects.get(pk=report.pk).status == "new"


def test_attachments_for_staff_and_not_for_customers(client, product, tester, org_a, build):
    report = feedback_actions.file_feedback(
        build,
        org_a,
        tester,
        Report(kind="bug", title="Crash", steps="x", actual="y", severity="low"),
        files=[SimpleUploadedFile("shot.png", png_bytes(4, 4))],
    )
    attachment = report.attachments.get()
    url = reverse("beta_feedback:attachment", args=(report.pk, attachment.pk))
    client.force_login(product)
    response = client.get(url)
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    client.force_login(tester)
    assert client.get(url).status_code in (302, 403, 404)


def test_the_csv_export_has_a_bom_and_neutralised_formulas(client, product, tester, org_a, build):
    _file(build, org_a, tester, title='=HYPERLINK("https://evil.example")')
    _file(build, org_a, tester, title="导出时崩溃", severity="low")
    client.force_login(product)
    response = client.get(reverse("beta_feedback:index"), {"export": "csv", "severity": "high"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    assert "'=HYPERLINK" in text
    assert "导出时崩溃" not in text
    chinese = client.get(reverse("beta_feedback:index"), {"export": "csv", "severity": "low"})
    assert "导出时崩溃" in b"".join(chinese.streaming_content).decode("utf-8")
