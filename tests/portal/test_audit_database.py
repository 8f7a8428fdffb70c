"""The database, not only the model, keeps the audit trail append-only on PostgreSQL."""

import pytest
from django.db import DatabaseError, connection, transaction

from portal import audit
from portal.models import AuditEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_raw_update_of_an_audit_event_is_refused(admin_a, org_a):
    # given a recorded event
    event = audit.record("membership.role_changed", actor=admin_a, organisation=org_a)
    # when someone edits it with raw SQL, bypassing the model
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE portal_auditevent SET action = 'nothing.happened' WHERE id = %s", [event.pk]
        )
    # then the event is unchanged
    assert AuditEvent.objects.get(pk=event.pk).action == "membership.role_changed"


def test_raw_delete_of_an_audit_event_is_refused(admin_a, org_a):
    event = audit.record("api_token.issued", actor=admin_a, organisation=org_a)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM portal_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).count() == 1


def test_deleting_the_actor_keeps_the_event_and_its_label(admin_a, org_a):
    # given an event by a user who is later deleted
    event = audit.record("invitation.sent", actor=admin_a, organisation=org_a)
    # when the account is deleted
    admin_a.delete()
    # then the event remains, naming the actor by e-mail
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor_id is None
    assert stored.actor_label == "admin@acme.example"
