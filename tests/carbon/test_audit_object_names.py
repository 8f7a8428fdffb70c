"""The audit trail names a redemption (or an import) with its status in the reader's language,
whoever wrote the row; rows written before keep their text, with an English status translated."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from carbon.models import Redemption, RedemptionStatus, Report
from portal import audit, audit_labels
from portal.models import AuditEvent
from tests.carbon.factories import (
    FactorDatasetFactory,
    GreenPowerDeclarationFactory,
    ServiceFactory,
    fund,
)
from tests.factories import UserFactory


@pytest.fixture
def fulfilled(org_a):
    service = ServiceFactory(name="Maintenance visit")
    return Redemption.objects.create(
        organisation=org_a, service=service, points=500,
        capacity_month=timezone.localdate().replace(day=1),
        status=RedemptionStatus.FULFILLED, decided_at=timezone.now(), decided_by=UserFactory(),
        scheduled_for=timezone.localdate(),
    )  # fmt: skip


def test_a_fulfilled_redemption_is_named_in_each_readers_language(org_a, admin_a, fulfilled):
    # given a Chinese-speaking admin's fulfilment recorded in the trail
    with translation.override("zh-hans"):
        event = audit.record(
            "carbon.redemption.fulfilled", actor=admin_a, organisation=org_a, obj=fulfilled
        )
    stored = AuditEvent.objects.get(pk=event.pk)
    # then the stored text is English, whoever wrote it, with the parts kept beside it
    assert stored.object_repr == "Maintenance visit for Acme Solar (Fulfilled)"
    assert stored.object_label == {
        "text": "%(service)s for %(organisation)s (%(status)s)",
        "args": {"service": "Maintenance visit", "organisation": "Acme Solar"},
        "choices": {"status": "fulfilled"},
    }
    # and each reader reads it in their language
    with translation.override("en"):
        assert stored.object_text == "Maintenance visit for Acme Solar (Fulfilled)"
    with translation.override("zh-hans"):
        assert stored.object_text == "Acme Solar 的Maintenance visit（已确认）"


def test_the_chinese_audit_page_shows_the_status_in_chinese(client, org_a, admin_a, fulfilled):
    # given a fulfilment recorded from an English request
    with translation.override("en"):
        audit.record(
            "carbon.redemption.fulfilled", actor=admin_a, organisation=org_a, obj=fulfilled
        )
    # when the admin reads the trail in Chinese
    client.force_login(admin_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get(reverse("portal:audit_log", args=[org_a.slug])).content.decode()
    # then the object is named in Chinese, status included
    assert "Acme Solar 的Maintenance visit（已确认）" in html
    assert "(Fulfilled)" not in html


def test_an_older_row_keeps_its_text_and_shows_its_status_translated(org_a, fulfilled):
    # given a row written before names had parts: English text only
    old = AuditEvent.objects.create(
        action="carbon.redemption.fulfilled", organisation=org_a,
        object_type="carbon.redemption", object_id=str(fulfilled.pk),
        object_repr="Maintenance visit for Acme Solar (Fulfilled)",
    )  # fmt: skip
    # when a Chinese reader reads it
    with translation.override("zh-hans"):
        shown = AuditEvent.objects.get(pk=old.pk).object_text
    # then its status is in Chinese, the rest as stored, and the row is unchanged
    assert shown == "Maintenance visit for Acme Solar (已确认)"
    assert AuditEvent.objects.get(pk=old.pk).object_repr == (
        "Maintenance visit for Acme Solar (Fulfilled)"
    )


def test_an_older_row_whose_text_is_not_a_status_is_shown_as_stored(org_a):
    # given an older row whose trailing parenthesis is no status label
    old = AuditEvent.objects.create(
        action="carbon.redemption.fulfilled", organisation=org_a,
        object_type="carbon.redemption", object_id="1", object_repr="Visit (Acme)",
    )  # fmt: skip
    # then a Chinese reader reads it as stored
    with translation.override("zh-hans"):
        assert AuditEvent.objects.get(pk=old.pk).object_text == "Visit (Acme)"


# --- datasets, green-power declarations (the certificates behind them), points and reports


def _shown(event: AuditEvent, language: str) -> str:
    with translation.override(language):
        return AuditEvent.objects.get(pk=event.pk).object_text


def test_a_dataset_is_named_with_its_version_in_each_readers_language(org_a, admin_a):
    dataset = FactorDatasetFactory(slug="desnz", version=2, title="DESNZ 2025")
    with translation.override("zh-hans"):
        event = audit.record("carbon.dataset.approved", actor=admin_a, obj=dataset)
    assert AuditEvent.objects.get(pk=event.pk).object_repr == "DESNZ 2025 (v2)"
    assert _shown(event, "en") == "DESNZ 2025 (v2)"
    assert _shown(event, "zh-hans") == "DESNZ 2025（第 2 版）"


def test_a_green_power_declaration_names_its_certified_share_in_chinese(org_a, admin_a):
    declaration = GreenPowerDeclarationFactory(
        organisation=org_a, site__name="Plant 1", green_ratio=Decimal("0.62")
    )
    event = audit.record(
        "carbon.green_power_declaration.verified", actor=admin_a, organisation=org_a,
        obj=declaration,
    )  # fmt: skip
    assert _shown(event, "en") == "Plant 1 (Acme Solar) 2025-01-01–2025-12-31: 62%"
    assert _shown(event, "zh-hans") == "Plant 1 (Acme Solar) 2025-01-01–2025-12-31：绿电占比 62%"


def test_a_points_adjustment_names_its_kind_in_each_readers_language(org_a):
    # given points funded by a staff adjustment, which the ledger records in the trail
    fund(org_a, 500)
    event = AuditEvent.objects.get(action="carbon.points.adjusted", organisation=org_a)
    key = event.object_label["args"]["key"]
    assert event.object_repr == f"Adjusted 500 ({key})"
    assert _shown(event, "zh-hans") == f"已调整 500（{key}）"


def test_a_report_for_all_customers_is_named_in_the_readers_language_not_the_writers():
    year = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    report = Report(
        period_kind="year", period_start=year[0], period_end=year[1], format="pdf", language="en"
    )
    with translation.override("zh-hans"):
        repr_, label = audit_labels.describe(report)
    assert repr_ == "All customers · 2026 · PDF · English"
    with translation.override("zh-hans"):
        assert audit_labels.render("carbon.report", label) == "所有客户 · 2026 · PDF · English"
