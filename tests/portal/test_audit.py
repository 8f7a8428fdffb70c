"""The audit trail: append-only, written for sign-in and sign-out, readable by customer admins for
their own organisation and by staff in the Wagtail admin, never editable by anyone."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.urls import reverse

from portal import audit
from portal.models import AuditEvent
from portal.models.audit import AppendOnlyError
from portal.views import AUDIT_CSV_COLUMNS
from portal.wagtail_hooks import AuditEventViewSet
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) GreenLoopTest/1.0"
VIEWSET = AuditEventViewSet()


def _admin_url(view: str, *args) -> str:
    return reverse(VIEWSET.get_url_name(view), args=args)


def _csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


# --- append-only


def test_saving_an_existing_event_is_refused(org_a, admin_a):
    # given a recorded event
    event = audit.record("invitation.sent", actor=admin_a, organisation=org_a)
    # when someone edits and saves it
    event.action = "nothing.happened"
    with pytest.raises(AppendOnlyError):
        event.save()
    # then the stored event is unchanged
    assert AuditEvent.objects.get(pk=event.pk).action == "invitation.sent"


def test_deleting_an_event_is_refused(org_a, admin_a):
    event = audit.record("invitation.sent", actor=admin_a, organisation=org_a)
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).count() == 1


def test_queryset_update_and_delete_are_refused(org_a, admin_a):
    audit.record("invitation.sent", actor=admin_a, organisation=org_a)
    audit.record("invitation.revoked", actor=admin_a, organisation=org_a)
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().update(action="nothing.happened")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(organisation=org_a).delete()
    assert sorted(AuditEvent.objects.values_list("action", flat=True)) == [
        "invitation.revoked",
        "invitation.sent",
    ]


def _record_from_a_browser(rf, organisation, user, **options):
    """An action recorded with a browser's request by `user`, about `organisation`."""
    request = rf.post("/", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT=BROWSER)
    request.user = user
    return audit.record(
        "organisation.mfa_requirement_changed",
        organisation=organisation,
        obj=organisation,
        request=request,
        details={"require_mfa": True},
        **options,
    )


def test_record_keeps_who_what_which_and_where(rf, org_a, admin_a):
    # given a request from a browser / when an action is recorded with it
    event = _record_from_a_browser(rf, org_a, admin_a)
    # then the actor comes from the request and the event names the object and origin
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor == admin_a
    assert stored.actor_label == "admin@acme.example"
    assert stored.object_type == "portal.organisation"
    assert stored.object_id == str(org_a.pk)
    assert stored.object_repr == "Acme Solar"
    assert stored.ip_address == "203.0.113.9"
    assert stored.user_agent == BROWSER
    assert stored.details == {"require_mfa": True}


def test_record_without_saving_returns_the_event_unwritten(rf, org_a, admin_a):
    # given a request from a browser / when an action is recorded with it for a statement of
    # the caller's own to write
    event = _record_from_a_browser(rf, org_a, admin_a, save=False)
    # then nothing is written, and the event holds what record() would have stored
    assert event.pk is None
    assert AuditEvent.objects.count() == 0
    assert (event.actor, event.actor_label, event.object_id, event.object_repr) == (
        admin_a,
        "admin@acme.example",
        str(org_a.pk),
        "Acme Solar",
    )
    assert (event.ip_address, event.user_agent, event.details) == (
        "203.0.113.9",
        BROWSER,
        {"require_mfa": True},
    )


def test_forwarded_for_is_ignored_unless_trusted(rf, settings, db):
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7, 10.0.0.1")
    settings.GREENLOOP_TRUST_X_FORWARDED_FOR = False
    assert audit.record("test.untrusted", request=request).ip_address == "10.0.0.1"
    settings.GREENLOOP_TRUST_X_FORWARDED_FOR = True
    assert audit.record("test.trusted", request=request).ip_address == "198.51.100.7"


# --- sign-in and sign-out


def test_sign_in_is_recorded_with_ip_and_user_agent(client, member_a):
    # when a member signs in with the form
    response = client.post(
        reverse("account_login"),
        {"login": "member@acme.example", "password": TEST_PASSWORD},
        REMOTE_ADDR="192.0.2.10",
        HTTP_USER_AGENT=BROWSER,
    )
    # then they are in, and the sign-in is on the trail with where it came from
    assert response.status_code == 302
    event = AuditEvent.objects.get()
    assert event.action == "auth.signed_in"
    assert event.actor == member_a
    assert event.actor_label == "member@acme.example"
    assert event.ip_address == "192.0.2.10"
    assert event.user_agent == BROWSER


def test_wrong_password_is_recorded_without_the_password(client, member_a):
    # when someone tries a wrong password
    wrong = "Tr0ub4dor&3-not-it"
    response = client.post(
        reverse("account_login"),
        {"login": "member@acme.example", "password": wrong},
        REMOTE_ADDR="192.0.2.11",
        HTTP_USER_AGENT=BROWSER,
    )
    # then they are not signed in, and the attempt is recorded, naming the address only
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get()
    assert event.action == "auth.sign_in_failed"
    assert event.actor is None
    assert event.details == {"email": "member@acme.example"}
    assert event.ip_address == "192.0.2.11"
    assert event.user_agent == BROWSER
    stored = str(list(AuditEvent.objects.values()))
    assert wrong not in stored
    assert "*****" not in stored


def test_sign_out_is_recorded(client, member_a):
    client.force_login(member_a)
    response = client.post(reverse("account_logout"), HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get()
    assert event.action == "auth.signed_out"
    assert event.actor == member_a
    assert event.user_agent == BROWSER


# --- the customer admin's audit page


@pytest.fixture
def two_trails(org_a, admin_a, org_b, admin_b):
    """Three events in Acme's trail, one in Globex's and one without an organisation."""
    audit.record("invitation.sent", actor=admin_a, organisation=org_a, details={"email": "a@x"})
    audit.record("membership.role_changed", actor=admin_a, organisation=org_a)
    audit.record("api_token.issued", actor=admin_a, organisation=org_a)
    audit.record("invitation.sent", actor=admin_b, organisation=org_b)
    audit.record("auth.signed_in", actor=admin_a)


def test_admin_sees_the_own_organisations_trail(client, org_a, admin_a, two_trails):
    client.force_login(admin_a)
    response = client.get(reverse("portal:audit_log", kwargs={"org_slug": "acme"}))
    assert response.status_code == 200
    events = list(response.context["page"].object_list)
    assert [e.action for e in events] == [
        "api_token.issued",
        "membership.role_changed",
        "invitation.sent",
    ]
    assert {e.organisation_id for e in events} == {org_a.pk}
    assert "admin@globex.example" not in response.content.decode()


def test_admin_filters_the_trail_by_action(client, admin_a, two_trails):
    client.force_login(admin_a)
    response = client.get(
        reverse("portal:audit_log", kwargs={"org_slug": "acme"}), {"action": "invitation."}
    )
    assert [e.action for e in response.context["page"].object_list] == ["invitation.sent"]


def test_admin_exports_the_trail_as_csv(client, org_a, admin_a, two_trails):
    # when Acme's admin downloads the trail
    client.force_login(admin_a)
    response = client.get(
        reverse("portal:audit_log", kwargs={"org_slug": "acme"}), {"format": "csv"}
    )
    # then it is a CSV file of Acme's events only, with a header row
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="audit-acme.csv"'
    rows = _csv_rows(response)
    assert rows[0] == AUDIT_CSV_COLUMNS
    assert [row[2] for row in rows[1:]] == [
        "api_token.issued",
        "membership.role_changed",
        "invitation.sent",
    ]
    assert {row[1] for row in rows[1:]} == {"admin@acme.example"}
    assert len(rows) == 4
    # details are JSON, so a spreadsheet or script can read them back
    details = [json.loads(row[-1]) for row in rows[1:]]
    assert all(isinstance(d, dict) for d in details)


@pytest.mark.parametrize("who", ["member_a", "viewer_a", "admin_b"])
def test_others_cannot_read_acmes_trail(request, client, org_a, two_trails, who):
    client.force_login(request.getfixturevalue(who))
    url = reverse("portal:audit_log", kwargs={"org_slug": "acme"})
    page = client.get(url)
    export = client.get(url, {"format": "csv"})
    expected = 404 if who == "admin_b" else 403
    assert page.status_code == expected
    assert export.status_code == expected
    assert "text/csv" not in export["Content-Type"]


def test_for_user_scopes_the_trail(org_a, admin_a, member_a, admin_b, staff_success, two_trails):
    assert AuditEvent.objects.for_user(admin_a).count() == 3
    assert AuditEvent.objects.for_user(member_a).count() == 0
    assert set(AuditEvent.objects.for_user(admin_b).values_list("action", flat=True)) == {
        "invitation.sent"
    }
    assert AuditEvent.objects.for_user(staff_success).count() == AuditEvent.objects.count()


# --- staff in the Wagtail admin


def test_staff_lists_the_trail_in_the_admin(client, staff_success, two_trails):
    client.force_login(staff_success)
    response = client.get(_admin_url("index"))
    assert response.status_code == 200
    html = response.content.decode()
    # each event by its action's name (the code stays in the filter and the export)
    assert "Member role changed" in html
    assert "admin@globex.example" in html
    # the list offers no way to add
    assert _admin_url("add") not in html


def test_the_admin_listing_costs_the_same_queries_for_many_events(
    client, staff_success, org_a, org_b, django_assert_max_num_queries
):
    # given a trail of a few events, the query count of one listing
    client.force_login(staff_success)
    for org in (org_a, org_b):
        audit.record("membership.role_changed", organisation=org)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(_admin_url("index")).status_code == 200
    # when the trail grows to a full page across many organisations
    for n in range(40):
        audit.record("api_token.issued", organisation=org_a if n % 2 else org_b)
    # then the listing runs no query per row (organisation names come in the same query)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(_admin_url("index")).status_code == 200


def test_staff_exports_the_trail_as_csv(client, staff_success, two_trails):
    client.force_login(staff_success)
    response = client.get(_admin_url("index"), {"export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = _csv_rows(response)
    assert len(rows) == 1 + AuditEvent.objects.count()
    assert "Action" in rows[0]
    assert sorted(r[rows[0].index("Action")] for r in rows[1:]) == sorted(
        AuditEvent.objects.values_list("action", flat=True)
    )


def test_staff_inspects_an_event(client, staff_success, two_trails):
    event = AuditEvent.objects.filter(action="api_token.issued").get()
    client.force_login(staff_success)
    response = client.get(_admin_url("inspect", event.pk))
    assert response.status_code == 200
    assert "api_token.issued" in response.content.decode()


@pytest.mark.parametrize("who", ["staff_success", "superuser"])
def test_nobody_adds_edits_or_deletes_events_in_the_admin(request, client, two_trails, who):
    # given a staff member and a superuser, both with two-factor on
    client.force_login(request.getfixturevalue(who))
    event = AuditEvent.objects.filter(action="api_token.issued").get()
    before = list(AuditEvent.objects.values())
    # when they open or post the add, edit and delete views
    responses = [
        client.get(_admin_url("add")),
        client.post(_admin_url("add"), {"action": "forged.event"}),
        client.get(_admin_url("edit", event.pk)),
        client.post(_admin_url("edit", event.pk), {"action": "forged.event"}),
        client.get(_admin_url("delete", event.pk)),
        client.post(_admin_url("delete", event.pk)),
    ]
    # then every one is refused (Wagtail sends them back to the admin home) and nothing changed
    for response in responses:
        assert response.status_code == 302
        assert response["Location"] == reverse("wagtailadmin_home")
    assert list(AuditEvent.objects.values()) == before
    # and the list offers no edit or delete links
    html = client.get(_admin_url("index")).content.decode()
    assert _admin_url("edit", event.pk) not in html
    assert _admin_url("delete", event.pk) not in html


def test_staff_without_audit_permission_cannot_list_events(client, enable_totp, db):
    from django.contrib.auth.models import Group

    from portal.staff_roles import StaffRole, ensure_staff_groups
    from tests.factories import UserFactory

    ensure_staff_groups()
    product = UserFactory(email="product@greenloop.example", is_staff=True)
    product.groups.add(Group.objects.get(name=StaffRole.PRODUCT))
    enable_totp(product)
    client.force_login(product)
    response = client.get(_admin_url("index"))
    assert response.status_code == 302
    assert response["Location"] == reverse("wagtailadmin_home")
