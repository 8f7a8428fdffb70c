"""Carbon reports in the portal (the organisation's reports, the form, a report's page and its
download) and in the Wagtail admin (the list and the bulk "Generate reports" form)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from carbon.models import Report, ReportStatus
from carbon.reports import actions
from carbon.reports import forms as report_forms
from carbon.reports.forms import ReportForm
from carbon.reports.period import ReportingPeriod
from portal.models import AuditEvent, Tier
from tests.carbon.report_fakes import delivered_order, use_renderer
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

REPORTS = "/o/acme/reports/"
YEAR_FORM = {"period_kind": "year", "year": "2025", "language": "zh-hans", "format": "pdf"}


@pytest.fixture(autouse=True)
def fake_renderer(monkeypatch):
    use_renderer(monkeypatch)


@pytest.fixture
def orders(org_a):
    return [delivered_order(org_a)]


def _detail(report) -> str:
    return f"{REPORTS}{report.public_id}/"


def test_a_member_generates_a_report_and_downloads_it(
    client, member_a, orders, django_capture_on_commit_callbacks
):
    client.force_login(member_a)
    page = client.get(REPORTS)
    assert page.status_code == 200
    assert 'name="period_kind"' in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(REPORTS, YEAR_FORM)
    report = Report.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _detail(report)
    assert (report.period_kind, str(report.period), report.language) == ("year", "2025", "zh-hans")

    html = client.get(_detail(report)).content.decode()
    assert "The report is ready." in html
    assert 'http-equiv="refresh"' not in html
    assert f"{_detail(report)}download/" in html
    assert report.data_hash in html

    download = client.get(f"{_detail(report)}download/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == (
        'attachment; filename="greenloop-carbon-report-acme-2025-zh-hans.pdf"'
    )
    assert "no-store" in download["Cache-Control"]
    assert download["X-Content-Type-Options"] == "nosniff"
    assert AuditEvent.objects.filter(
        action="carbon.report_downloaded", actor=member_a, object_id=str(report.pk)
    ).exists()


@pytest.mark.parametrize(
    ("fields", "period"),
    [
        ({"period_kind": "quarter", "year": "2025", "quarter": "2"}, "2025-Q2"),
        ({"period_kind": "month", "year": "2025", "month": "5"}, "2025-05"),
        (
            {"period_kind": "custom", "start": "2025-05-01", "end": "2025-05-20"},
            "2025-05-01..2025-05-20",
        ),
    ],
)
def test_the_period_picker(client, member_a, orders, fields, period):
    client.force_login(member_a)
    response = client.post(REPORTS, {"language": "en", "format": "csv", **fields})
    assert response.status_code == 302
    assert str(Report.objects.get().period) == period


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"period_kind": "custom", "start": "2025-05-20", "end": "2025-05-01"},
            "The last day must be on or after the first",
        ),
        ({"period_kind": "custom", "start": "2025-05-20"}, "Give the first and the last day."),
        ({"period_kind": "year", "year": ""}, "Give the year."),
        (
            {"period_kind": "year", "year": "2025", "restated": "on"},
            "A restated report compares with the report first issued",
        ),
    ],
)
def test_form_errors_are_shown_and_nothing_is_requested(client, member_a, fields, message):
    client.force_login(member_a)
    response = client.post(REPORTS, {"language": "en", "format": "pdf", **fields})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Report.objects.exists()


def test_viewers_see_and_download_reports_but_may_not_request(
    client, org_a, viewer_a, admin_a, orders, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = actions.request_report(
            org_a, ReportingPeriod.year(2025), language="en", format="csv", by=admin_a
        )
    client.force_login(viewer_a)
    page = client.get(REPORTS).content.decode()
    assert 'name="period_kind"' not in page
    assert f"{_detail(report)}download/" in page
    assert client.get(f"{_detail(report)}download/").status_code == 200
    assert client.post(REPORTS, YEAR_FORM).status_code == 403
    assert Report.objects.count() == 1


def test_a_running_report_shows_its_progress_and_refreshes(client, org_a, admin_a):
    report = actions.request_report(
        org_a, ReportingPeriod.year(2025), language="en", format="pdf", by=admin_a
    )
    Report.objects.filter(pk=report.pk).update(
        status=ReportStatus.RUNNING, progress=40, step="rendering"
    )
    client.force_login(admin_a)
    html = client.get(_detail(report)).content.decode()
    assert "Rendering: 40 %" in html
    assert '<meta http-equiv="refresh" content="2">' in html
    assert client.get(f"{_detail(report)}download/").status_code == 404


def test_the_figures_are_rounded_as_in_the_pdf(client, org_a, admin_a):
    """The stored summary keeps every decimal (API); the page prints them as the PDF does."""
    report = actions.request_report(
        org_a, ReportingPeriod.year(2025), language="en", format="pdf", by=admin_a
    )
    summary = {
        "orders": 1234,
        "tkm": "90204.216000",
        "wtw_kg": "4433.774499",
        "ttw_kg": "3598.788007",
        "wtt_kg": "834.986492",
        "intensity_g_per_tkm": "49.153",
        "radiative_forcing_kg": "0.000000",
        "scope2_location_kg": "99936.384000",
        "scope2_market_kg": "20979.705600",
    }
    Report.objects.filter(pk=report.pk).update(status=ReportStatus.DONE, summary=summary)
    client.force_login(admin_a)
    html = client.get(_detail(report)).content.decode()
    for shown in ("1,234", "90,204.2", "4,433.8", "3,598.8", "835.0", "49.2", "99,936.4"):
        assert shown in html
    assert "4433.774499" not in html
    zh = client.get(_detail(report), headers={"accept-language": "zh-hans"}).content.decode()
    # Chinese pages group thousands too (portal/formats/zh_Hans)
    assert "<dd>4,433.8 (" in zh
    assert "<dd>20,979.7</dd>" in zh


def test_another_organisations_report_is_404_through_my_own_urls(
    client, org_b, admin_a, admin_b, orders, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        theirs = actions.request_report(
            org_b, ReportingPeriod.year(2025), language="en", format="csv", by=admin_b
        )
    client.force_login(admin_a)
    assert client.get(f"{REPORTS}{theirs.public_id}/").status_code == 404
    assert client.get(f"{REPORTS}{theirs.public_id}/download/").status_code == 404
    assert str(theirs.public_id) not in client.get(REPORTS).content.decode()


def test_the_list_is_bounded_in_queries(
    client, org_a, admin_a, orders, django_assert_max_num_queries
):
    def add(count):
        for _ in range(count):
            actions.request_report(
                org_a, ReportingPeriod.year(2025), language="en", format="pdf", by=admin_a
            )

    client.force_login(admin_a)
    add(2)
    client.get(REPORTS)  # warm the per-session caches
    with django_assert_max_num_queries(30) as few:
        client.get(REPORTS)
    add(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(REPORTS).status_code == 200


def test_a_failed_report_says_so_in_the_readers_language(client, org_a, admin_a, monkeypatch):
    use_renderer(monkeypatch, "tests.carbon.report_fakes.render_broken")
    report = actions.request_report(
        org_a, ReportingPeriod.year(2025), language="en", format="pdf", by=admin_a
    )
    actions.generate_report(report)
    client.force_login(admin_a)
    html = client.get(_detail(report), headers={"accept-language": "zh-hans"}).content.decode()
    assert "报告未能生成，未保存任何内容。请稍后重试。" in html


def test_the_page_is_in_chinese(client, member_a):
    client.force_login(member_a)
    html = client.get(REPORTS, headers={"accept-language": "zh-hans"}).content.decode()
    assert "碳报告" in html
    assert "生成报告" in html


def test_the_nav_links_the_reports(client, member_a):
    client.force_login(member_a)
    assert f'href="{REPORTS}"' in client.get("/o/acme/").content.decode()


def test_the_reports_and_the_trends_page_link_each_other(client, member_a):
    client.force_login(member_a)
    # the top bar links both pages too: look for the links in the pages' own text
    reports = client.get(REPORTS).content.decode()
    assert (
        '<a href="/o/acme/trends/">Reports and trends: the figures of a period on screen</a>'
        in reports
    )
    trends = client.get("/o/acme/trends/").content.decode()
    assert (
        f'<a href="{REPORTS}">Carbon reports with these figures (PDF, CSV, XLSX, iLEAP JSON)</a>'
        in trends
    )


# --- admin


def test_staff_generate_reports_for_picked_customers_a_tier_and_every_customer(
    client, sustainability, org_a, org_b, orders, django_capture_on_commit_callbacks
):
    gold = OrganisationFactory(slug="gold-co", name="Gold Co", tier=Tier.choices[-1][0])
    client.force_login(sustainability)
    index = client.get(reverse("carbon_reports:index"))
    assert index.status_code == 200
    assert reverse("carbon_reports:generate") in index.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("carbon_reports:generate"),
            {
                "organisations": [org_a.pk, org_b.pk],
                "tier": gold.tier,
                "all_customers": "on",
                "period_kind": "year",
                "year": "2025",
                "language": "en",
                "format": "pdf",
            },
        )
    assert response.status_code == 302
    made = {
        (r.organisation.slug if r.organisation else None, r.status)
        for r in Report.objects.select_related("organisation")
    }
    assert {("acme", "done"), ("globex", "done"), ("gold-co", "done"), (None, "done")} <= made
    assert all(r.requested_by == sustainability for r in Report.objects.all())

    every = Report.objects.get(organisation=None)
    listed = client.get(reverse("carbon_reports:index")).content.decode()
    assert reverse("carbon_reports:inspect", args=(every.pk,)) in listed
    inspect = client.get(reverse("carbon_reports:inspect", args=(every.pk,)))
    assert "All customers" in inspect.content.decode()
    download = client.get(reverse("carbon_reports:download", args=(every.pk,)))
    assert download.status_code == 200
    assert download["X-Content-Type-Options"] == "nosniff"
    assert AuditEvent.objects.filter(
        action="carbon.report_downloaded", object_id=str(every.pk)
    ).exists()


def test_the_generate_form_needs_a_target(client, sustainability):
    client.force_login(sustainability)
    response = client.post(
        reverse("carbon_reports:generate"),
        {"period_kind": "year", "year": "2025", "language": "en", "format": "pdf"},
    )
    assert response.status_code == 200
    assert "Pick customers, a tier, or every customer." in response.content.decode()
    assert not Report.objects.exists()


def test_other_staff_may_not_generate_or_download(client, staff_success, org_a, admin_a):
    report = actions.request_report(
        org_a, ReportingPeriod.year(2025), language="en", format="pdf", by=admin_a
    )
    client.force_login(staff_success)
    assert client.get(reverse("carbon_reports:generate")).status_code in (302, 403)
    assert client.get(reverse("carbon_reports:download", args=(report.pk,))).status_code in (
        302,
        403,
    )


@pytest.mark.parametrize(
    ("today", "year"),
    [(dt.date(2026, 12, 4), 2026), (dt.date(2026, 4, 1), 2026), (dt.date(2026, 3, 31), 2025)],
)
def test_the_form_proposes_the_year_with_the_bulk_of_the_deliveries(monkeypatch, today, year):
    monkeypatch.setattr(report_forms.timezone, "localdate", lambda: today)
    assert ReportForm().fields["year"].initial == year
