import pytest
from django.test import Client

from portal.models import AuditEvent, Invitation

pytestmark = pytest.mark.django_db


def test_a_forged_form_post_is_refused_and_recorded(admin_a, org_a):
    # given an admin whose browser is tricked into posting without the CSRF token
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_a)
    # when the forged invitation form arrives
    response = client.post(
        f"/o/{org_a.slug}/members/invite/", {"email": "evil@example.com", "role": "admin"}
    )
    # then it is refused with an explanation, nothing is stored, and the attempt is on record
    assert response.status_code == 403
    assert b"Nothing was changed" in response.content
    assert Invitation.objects.count() == 0
    event = AuditEvent.objects.get(action="security.csrf_rejected")
    assert event.actor == admin_a
    assert event.details["path"] == f"/o/{org_a.slug}/members/invite/"
