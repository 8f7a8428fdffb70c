"""The inbound side of the CRM bridge in the Wagtail admin: the contacts the CRM pushed (each
with the invitation it became) and the inbound webhook ids accepted; read-only, integration
admins only (the walk by role is in tests/portal/test_authorization_walk.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from portal import actions
from portal.crm import inbound
from portal.models import CrmContact, InboundWebhook, Invitation
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def integration_admin(db, enable_totp):
    from tests.conftest import _staff

    user = _staff("integration@greenloop.example", "Integration admin")
    enable_totp(user)
    return user


@pytest.fixture
def contacts(org_a):
    """C-1 invited (pending), C-2 joined (accepted), C-3 a member already (no invitation)."""
    org_a.crm_external_id = "ACC-1"
    org_a.save(update_fields=["crm_external_id"])
    MembershipFactory(organisation=org_a, user=UserFactory(email="kai@acme.example"))
    for key, email, role in [
        ("C-1", "li.wei@acme.example", "member"),
        ("C-2", "jonas@acme.example", "admin"),
        ("C-3", "kai@acme.example", "viewer"),
    ]:
        data = {"organisation_external_id": "ACC-1", "email": email, "role": role}
        inbound.upsert("contact", (key,), data)
    joined = Invitation.objects.get(email="jonas@acme.example")
    actions.accept_invitation(joined.key, UserFactory(email="jonas@acme.example"))
    return {c.external_id: c for c in CrmContact.objects.all()}


def _rows(response) -> list[str]:
    return [str(contact) for contact in response.context["object_list"]]


def test_the_contact_list_searches_and_filters(client, integration_admin, contacts, org_a, org_b):
    client.force_login(integration_admin)
    index = reverse("crm_contacts:index")
    page = client.get(index)
    assert page.status_code == 200
    assert sorted(_rows(page)) == ["C-1", "C-2", "C-3"]
    html = page.content.decode()
    for shown in (
        "li.wei@acme.example",
        "Pending",
        "Accepted",
        "None (already a member)",
        "Viewer",
    ):
        assert shown in html, shown
    # search by CRM id, address or organisation name
    assert _rows(client.get(index, {"q": "C-2"})) == ["C-2"]
    assert _rows(client.get(index, {"q": "li.wei"})) == ["C-1"]
    assert sorted(_rows(client.get(index, {"q": "Acme Solar"}))) == ["C-1", "C-2", "C-3"]
    # filter by the invitation's state, the role, the organisation
    assert _rows(client.get(index, {"invitation": "pending"})) == ["C-1"]
    assert _rows(client.get(index, {"invitation": "accepted"})) == ["C-2"]
    assert _rows(client.get(index, {"invitation": "none"})) == ["C-3"]
    assert _rows(client.get(index, {"invitation": "expired"})) == []
    assert _rows(client.get(index, {"role": "admin"})) == ["C-2"]
    assert sorted(_rows(client.get(index, {"organisation": org_a.pk}))) == ["C-1", "C-2", "C-3"]
    assert _rows(client.get(index, {"organisation": org_b.pk})) == []


def test_the_contact_list_runs_a_bounded_number_of_queries(
    client, integration_admin, contacts, org_a, django_assert_max_num_queries
):
    for n in range(20):
        data = {"organisation_external_id": "ACC-1", "email": f"p{n}@acme.example"}
        inbound.upsert("contact", (f"X-{n}",), data)
    client.force_login(integration_admin)
    with django_assert_max_num_queries(25):
        response = client.get(reverse("crm_contacts:index"))
    assert len(response.context["object_list"]) == 23


def test_a_contact_s_page_shows_the_invitation_it_became(client, integration_admin, contacts):
    client.force_login(integration_admin)
    pending = contacts["C-1"]
    page = client.get(reverse("crm_contacts:inspect", args=[pending.pk])).content.decode()
    assert "li.wei@acme.example" in page
    assert f"<dd>{pending.invitation_id}</dd>" in page
    assert "<dt>Status</dt><dd>Pending</dd>" in page
    assert "<dt>Role</dt><dd>Member</dd>" in page
    joined = contacts["C-2"]
    page = client.get(reverse("crm_contacts:inspect", args=[joined.pk])).content.decode()
    assert "<dt>Status</dt><dd>Accepted</dd>" in page
    assert "<dt>Accepted by</dt><dd>Test " in page
    member = contacts["C-3"]
    page = client.get(reverse("crm_contacts:inspect", args=[member.pk])).content.decode()
    assert "the address was already a member of the organisation" in page
    # read-only: no edit or delete button for anyone
    assert reverse("crm_contacts:edit", args=[member.pk]) not in page
    assert reverse("crm_contacts:delete", args=[member.pk]) not in page


def test_the_inbound_webhook_list_shows_accepted_ids(client, integration_admin):
    InboundWebhook.objects.create(webhook_id="msg_account_1", event_type="crm.account.upserted")
    InboundWebhook.objects.create(webhook_id="msg_contact_1", event_type="crm.contact.upserted")
    client.force_login(integration_admin)
    index = reverse("crm_inbound_webhooks:index")
    page = client.get(index)
    assert page.status_code == 200
    assert [str(w) for w in page.context["object_list"]] == ["msg_contact_1", "msg_account_1"]
    filtered = client.get(index, {"event_type": "crm.account.upserted"})
    assert [str(w) for w in filtered.context["object_list"]] == ["msg_account_1"]
    assert [str(w) for w in client.get(index, {"q": "contact"}).context["object_list"]] == [
        "msg_contact_1"
    ]


def test_the_menu_offers_the_inbound_screens_to_integration_admins_only(
    client, integration_admin, staff_success
):
    home = reverse("wagtailadmin_home")
    client.force_login(integration_admin)
    menu = client.get(home).content.decode()
    assert reverse("crm_contacts:index") in menu
    assert reverse("crm_inbound_webhooks:index") in menu
    client.force_login(staff_success)
    menu = client.get(home).content.decode()
    assert reverse("crm_contacts:index") not in menu
    assert reverse("crm_inbound_webhooks:index") not in menu
