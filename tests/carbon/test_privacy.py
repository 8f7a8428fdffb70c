"""Carbon and privacy: the member's own redemption requests in their personal-data export
(carbon.privacy), and retention of order imports: uploaded files and their error reports are
deleted once older than settings.GREENLOOP_RETENTION["import_file_days"]
(carbon.tasks.purge_old_import_files)."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from carbon.footprint import tasks
from carbon.models import ImportJob, ImportStatus
from carbon.points import actions
from portal import privacy
from tests.carbon.factories import ServiceFactory, fund

pytestmark = pytest.mark.django_db


def _job(organisation, *, created_days_ago: int, finished_days_ago: int | None) -> ImportJob:
    job = ImportJob(organisation=organisation, original_name="orders.csv")
    job.file.save("orders.csv", ContentFile(b"order_id,order_date\nA1,2026-01-01\n"), save=False)
    job.status = ImportStatus.PENDING if finished_days_ago is None else ImportStatus.FAILED
    job.error_report = [{"row": 2, "column": "mass", "value": "12 kg", "reason": "bad"}]
    job.save()
    now = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(
        created_at=now - timedelta(days=created_days_ago),
        finished_at=None if finished_days_ago is None else now - timedelta(days=finished_days_ago),
    )
    return job


def test_old_imports_and_their_files_are_deleted_exactly(org_a, settings):
    # given imports finished 31 and 29 days ago, one started 31 days ago that never finished,
    # and one running since today, with a 30-day period
    settings.GREENLOOP_RETENTION = {**settings.GREENLOOP_RETENTION, "import_file_days": 30}
    old = _job(org_a, created_days_ago=32, finished_days_ago=31)
    lost = _job(org_a, created_days_ago=31, finished_days_ago=None)
    recent = _job(org_a, created_days_ago=30, finished_days_ago=29)
    running = _job(org_a, created_days_ago=0, finished_days_ago=None)
    storage = old.file.storage
    # when the retention task runs twice
    assert tasks.purge_old_import_files() == 2
    assert tasks.purge_old_import_files() == 0
    # then exactly the old and the lost jobs are gone, with their files
    assert set(ImportJob.objects.values_list("pk", flat=True)) == {recent.pk, running.pk}
    assert not storage.exists(old.file.name)
    assert not storage.exists(lost.file.name)
    assert storage.exists(recent.file.name)
    assert storage.exists(running.file.name)
    for job in (recent, running):
        job.file.delete(save=False)


# --- the carbon part of a member's personal data (portal.privacy)


def test_export_lists_the_members_own_redemption_requests_only(org_a, member_a, admin_a):
    # given a redemption requested by the member and one by their admin
    service = ServiceFactory(name="Maintenance visit", slug="maintenance-visit", points_cost=300)
    fund(org_a, 1000)
    today = dt.date(2025, 6, 10)
    mine, _created = actions.request_redemption(
        org_a, service, member_a, key="k1", today=today, note="Call before noon."
    )
    actions.request_redemption(
        org_a, service, admin_a, key="k2", today=today, note="Admin's own note."
    )
    # when the member's data is collected
    data = privacy.personal_data(member_a)["carbon"]
    # then it lists their request only, with their note
    assert [
        (r["id"], r["service"], r["points"], r["note"]) for r in data["redemption_requests"]
    ] == [(mine.pk, "Maintenance visit", 300, "Call before noon.")]
    assert "Admin's own note." not in str(data)


def test_an_erased_requester_is_not_emailed_about_their_request(
    org_a, member_a, admin_a, mailoutbox, django_capture_on_commit_callbacks
):
    # given a request by a member who was erased afterwards
    service = ServiceFactory(name="Maintenance visit", slug="maintenance-visit", points_cost=300)
    fund(org_a, 1000)
    mine, _created = actions.request_redemption(
        org_a, service, member_a, key="k1", today=dt.date(2025, 6, 10)
    )
    privacy.erase_personal_data(member_a)
    mailoutbox.clear()
    # when their admin cancels it
    with django_capture_on_commit_callbacks(execute=True):
        actions.cancel(mine, admin_a)
    # then the request is cancelled for the organisation, and nobody is written to
    mine.refresh_from_db()
    assert mine.status == "cancelled"
    assert mailoutbox == []
