"""Carbon reports (carbon.reports.actions): who may request one, the progress of its generation,
a failure leaving no file, the reproducibility rule (a reissue for a closed period reads the
figures as of the first report), restated reports, the e-mail, audit and event, and expiry."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

import pytest
from celery import current_app
from django.core import mail
from django.utils import timezone

from carbon.footprint.calculation import calculate_order
from carbon.models import FactorDataset, OrderStatus, Report, ReportStatus
from carbon.reports import actions, builder
from carbon.reports.exceptions import ReportError
from carbon.reports.period import ReportingPeriod
from portal.exceptions import PermissionDeniedError
from portal.models import AuditEvent, OutboxEvent
from tests.carbon.factories import TEST_FREIGHT, grid_dataset, order_with_legs, published_dataset
from tests.carbon.report_fakes import use_renderer

pytestmark = pytest.mark.django_db

YEAR_2025 = ReportingPeriod.year(2025)
LEGS = [
    {"category": "road.hgv.average_laden", "data_tier": "primary"},
    {"category": "road.van.diesel", "data_tier": "default"},
]


@pytest.fixture(autouse=True)
def fake_renderer(monkeypatch, django_capture_on_commit_callbacks):
    use_renderer(monkeypatch)
    # The generation is queued after commit: run it (and the e-mail) as a worker would.
    global _after_commit
    _after_commit = django_capture_on_commit_callbacks


@pytest.fixture
def orders(org_a):
    published_dataset()
    grid_dataset()
    made = []
    for day in (dt.date(2025, 3, 4), dt.date(2025, 9, 20)):
        order = order_with_legs(
            org_a,
            LEGS,
            order_date=day - dt.timedelta(days=5),
            status=OrderStatus.DELIVERED,
            delivery_date=day,
        )
        calculate_order(order)
        made.append(order)
    return made


_after_commit = None


def _request(org, user, **kwargs):
    """Request a report and run its generation; the report as stored afterwards."""
    options = {"language": "en", "format": "pdf"} | kwargs
    with _after_commit(execute=True):
        report = actions.request_report(org, options.pop("period", YEAR_2025), by=user, **options)
    report.refresh_from_db()
    return report


def _publish_doubled_factors_and_recalculate(orders):
    FactorDataset.objects.filter(slug="test-freight").update(is_default=False)
    doubled = {
        category: tuple(str(Decimal(v) * 2) if v else None for v in values)
        for category, values in TEST_FREIGHT.items()
    }
    published_dataset(version=2, freight=doubled)
    for order in orders:
        calculate_order(order)


# --- who may


def test_admins_and_members_request_their_own_organisations_reports(
    org_a, admin_a, member_a, orders
):
    assert _request(org_a, admin_a).status == ReportStatus.DONE
    assert _request(org_a, member_a).status == ReportStatus.DONE


def test_viewers_and_other_organisations_may_not_request(org_a, viewer_a, admin_b, orders):
    for user in (viewer_a, admin_b):
        with pytest.raises(PermissionDeniedError):
            _request(org_a, user)
    assert not Report.objects.exists()


def test_only_sustainability_staff_request_a_report_on_every_customer(
    org_a, admin_a, staff_success, sustainability, orders
):
    for user in (admin_a, staff_success):
        with pytest.raises(PermissionDeniedError):
            _request(None, user)
    report = _request(None, sustainability)
    assert report.organisation is None
    assert report.status == ReportStatus.DONE
    assert report.summary["orders"] == 2


def test_staff_request_any_organisations_report(org_a, sustainability, orders):
    report = _request(org_a, sustainability)
    assert report.status == ReportStatus.DONE
    assert report.requested_by == sustainability


def test_an_unknown_language_or_format_is_refused_naming_the_field(org_a, admin_a):
    with pytest.raises(ReportError) as language:
        _request(org_a, admin_a, language="fr")
    with pytest.raises(ReportError) as fmt:
        _request(org_a, admin_a, format="docx")
    assert (language.value.field, language.value.code) == ("language", "invalid_language")
    assert (fmt.value.field, fmt.value.code) == ("format", "invalid_format")


# --- generation


def test_a_generated_report_has_its_file_hashes_summary_audit_event_and_email(
    org_a, admin_a, orders
):
    admin_a.preferred_language = "zh-hans"
    admin_a.save()
    report = _request(org_a, admin_a, language="zh-hans", format="csv")
    report.refresh_from_db()

    assert (report.status, report.progress, report.step) == ("done", 100, "")
    content = report.file.read()
    assert report.size == len(content)
    assert report.sha256 == hashlib.sha256(content).hexdigest()
    rendered = json.loads(content)
    assert rendered["report_id"] == str(report.public_id)
    assert rendered["language"] == "zh-hans"
    assert rendered["organisation"] == "Acme Solar"
    assert rendered["issued_at"] == report.created_at.isoformat()
    assert report.data_hash == rendered["data_hash"]
    assert report.summary["orders"] == 2
    assert report.summary["wtw_kg"] == rendered["wtw_kg"]
    assert report.summary["data_hash"] == report.data_hash
    assert report.file.name.endswith("/greenloop-carbon-report-acme-2025-zh-hans.csv")
    assert report.expires_at == report.finished_at + dt.timedelta(days=30)

    actions_recorded = list(
        AuditEvent.objects.filter(object_id=str(report.pk)).values_list("action", flat=True)
    )
    assert sorted(actions_recorded) == ["carbon.report_generated", "carbon.report_requested"]
    event = OutboxEvent.objects.get(type="greenloop.carbon.report_generated")
    assert event.subject == f"reports/{report.public_id}"
    assert event.data["organisation_id"] == org_a.pk
    assert event.data["requested_by_id"] == admin_a.pk
    assert (event.data["period"], event.data["format"], event.data["language"]) == (
        "2025",
        "csv",
        "zh-hans",
    )
    assert event.data["data_hash"] == report.data_hash
    assert "Acme" not in json.dumps(event.data)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["admin@acme.example"]
    assert mail.outbox[0].subject.startswith("您的碳报告已就绪")
    assert f"/o/acme/reports/{report.public_id}/" in mail.outbox[0].body


def test_progress_moves_through_reading_rendering_and_storing(org_a, admin_a, orders, monkeypatch):
    seen = []
    save = Report.save

    def watch(self, *args, **kwargs):
        save(self, *args, **kwargs)
        seen.append((self.status, self.progress, self.step))

    monkeypatch.setattr(Report, "save", watch)
    _request(org_a, admin_a)
    assert seen == [
        ("queued", 0, ""),
        ("running", 5, "reading"),
        ("running", 40, "rendering"),
        ("running", 85, "storing"),
        ("done", 100, ""),
    ]


def test_a_failing_renderer_leaves_a_failed_report_without_a_file(
    org_a, admin_a, orders, monkeypatch
):
    use_renderer(monkeypatch, "tests.carbon.report_fakes.render_broken")
    report = _request(org_a, admin_a)
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED
    assert not report.file
    assert report.error == "The report could not be generated; nothing was stored. Try again later."
    assert report.data_hash == ""
    assert not OutboxEvent.objects.filter(type="greenloop.carbon.report_generated").exists()
    failed = AuditEvent.objects.filter(action="carbon.report_failed", object_id=str(report.pk))
    assert failed.exists()
    assert "could not be generated" in mail.outbox[0].subject


def test_a_failure_while_storing_deletes_the_written_file(org_a, admin_a, orders, monkeypatch):
    def refuse(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("carbon.reports.actions.events.publish", refuse)
    report = _request(org_a, admin_a)
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED
    assert not report.file
    storage = Report._meta.get_field("file").storage
    _, files = storage.listdir(f"private/reports/{org_a.pk}/{report.public_id}")
    assert files == []


def test_generating_a_finished_report_again_changes_nothing(org_a, admin_a, orders):
    report = _request(org_a, admin_a)
    report.refresh_from_db()
    again = actions.generate_report(report)
    assert again.file.name == report.file.name
    assert AuditEvent.objects.filter(action="carbon.report_generated").count() == 1


def test_the_same_record_builds_the_same_document(org_a, admin_a, orders):
    report = _request(org_a, admin_a)
    first = builder.build_document(report)
    _publish_doubled_factors_and_recalculate(orders)
    second = builder.build_document(report)
    assert first == second


# --- reproducibility


def test_a_reissue_for_a_closed_period_gives_the_same_figures_after_new_factors(
    org_a, admin_a, member_a, orders
):
    first = _request(org_a, admin_a)
    _publish_doubled_factors_and_recalculate(orders)

    reissue = _request(org_a, member_a, language="zh-hans", format="csv")
    assert reissue.figures_as_of == first.figures_as_of
    assert reissue.data_hash == first.data_hash
    assert reissue.summary["wtw_kg"] == first.summary["wtw_kg"]

    restated = _request(org_a, admin_a, restated=True)
    assert restated.basis == "restated"
    assert restated.as_issued_as_of == first.figures_as_of
    assert restated.data_hash != first.data_hash
    assert Decimal(restated.summary["wtw_kg"]) == 2 * Decimal(first.summary["wtw_kg"])
    assert restated.summary["as_issued"]["data_hash"] == first.data_hash
    rendered = json.loads(restated.file.read())
    assert rendered["as_issued"] == first.data_hash
    assert rendered["sources"] == ["test-freight@2", "test-freight@1"]


def test_a_report_issued_before_the_period_ended_is_not_reused(org_a, admin_a, orders):
    this_year = ReportingPeriod.year(timezone.localdate().year)
    open_period = _request(org_a, admin_a, period=this_year)
    later = _request(org_a, admin_a, period=this_year)
    assert later.figures_as_of > open_period.figures_as_of


def test_a_restated_report_needs_an_earlier_as_issued_one(org_a, admin_a, orders):
    with pytest.raises(ReportError) as refused:
        _request(org_a, admin_a, restated=True)
    assert (refused.value.code, refused.value.field) == ("no_issued_report", "restated")


def test_another_organisations_report_is_not_reused(org_a, org_b, admin_a, admin_b, orders):
    first = _request(org_a, admin_a)
    other = _request(org_b, admin_b)
    assert other.figures_as_of > first.figures_as_of


# --- expiry


def test_expired_files_are_deleted_and_the_record_and_hash_kept(org_a, admin_a, orders):
    report = _request(org_a, admin_a)
    report.refresh_from_db()
    storage = report.file.storage
    name = report.file.name
    assert actions.expire_reports(report.expires_at - dt.timedelta(seconds=1)) == 0

    assert actions.expire_reports(report.expires_at) == 1
    report.refresh_from_db()
    assert report.status == ReportStatus.EXPIRED
    assert not report.file
    assert not storage.exists(name)
    assert len(report.data_hash) == 64
    assert report.summary["orders"] == 2
    assert actions.expire_reports(report.expires_at) == 0


def test_the_retention_comes_from_the_setting(org_a, admin_a, orders, settings):
    settings.GREENLOOP_REPORT_RETENTION_DAYS = 2
    report = _request(org_a, admin_a)
    assert report.expires_at == report.finished_at + dt.timedelta(days=2)


def test_the_expiry_runs_every_night(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["carbon-expire-reports"]
    assert entry["task"] == "carbon.tasks.expire_reports"
    assert "carbon.tasks.expire_reports" in current_app.tasks
    assert "carbon.tasks.generate_report" in current_app.tasks


def test_a_report_abandoned_by_its_worker_is_failed_the_next_night(org_a, admin_a):
    # queued, but its task never ran (a lost worker)
    report = actions.request_report(org_a, YEAR_2025, language="en", format="pdf", by=admin_a)
    actions.expire_reports(report.created_at + dt.timedelta(hours=23))
    report.refresh_from_db()
    assert report.status == ReportStatus.QUEUED
    actions.expire_reports(report.created_at + dt.timedelta(hours=25))
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED
    assert report.error == "The report was not generated in time; nothing was stored. Ask again."


def test_a_report_is_named_by_who_which_period_and_which_file(org_a):
    report = Report(
        organisation=org_a,
        period_kind="year",
        period_start=dt.date(2025, 1, 1),
        period_end=dt.date(2025, 12, 31),
        language="zh-hans",
        format="pdf",
    )
    assert str(report) == "Acme Solar · 2025 · PDF · 简体中文"
    report.organisation = None
    report.language = "en"
    assert str(report) == "All customers · 2025 · PDF · English"
