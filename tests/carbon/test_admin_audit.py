"""Products edited in the Wagtail admin go to the audit trail, through the shared audited add and
edit views (portal.admin_common), like community's spaces and the points catalogue's services
(tests/carbon/test_points_admin.py): who created or changed what, with the new values."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from carbon.models import Product
from portal.models import AuditEvent
from portal.staff_roles import StaffRole, ensure_staff_groups
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_in(enable_totp):
    def make(role):
        ensure_staff_groups()
        user = UserFactory(email=f"{role.lower().replace(' ', '-')}@greenloop.example")
        user.is_staff = True
        user.save()
        user.groups.add(Group.objects.get(name=role))
        enable_totp(user)
        return user

    return make


def _trail(prefix: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action__startswith=prefix).order_by("pk"))


def test_creating_and_changing_a_product_goes_to_the_audit_trail(client, staff_in):
    user = staff_in(StaffRole.SUSTAINABILITY)
    client.force_login(user)
    # when sustainability staff add a product
    data = {"sku": "HP-200", "name": "Heat pump 200", "electricity_kwh_per_unit": "12.5"}
    response = client.post(reverse("carbon_products:add"), data)
    assert response.status_code == 302
    product = Product.objects.get(sku="HP-200")
    # and then correct its electricity per unit
    response = client.post(
        reverse("carbon_products:edit", args=(product.pk,)),
        {**data, "electricity_kwh_per_unit": "14"},
    )
    assert response.status_code == 302
    # then both steps are on the audit trail, by whom and with what changed
    created, changed = _trail("carbon.product_")
    assert (created.action, created.actor, created.object_id) == (
        "carbon.product_created",
        user,
        str(product.pk),
    )
    assert created.details == {
        "sku": "HP-200",
        "name": "Heat pump 200",
        "electricity_kwh_per_unit": "12.5",
    }
    assert (changed.action, changed.actor, changed.object_id) == (
        "carbon.product_changed",
        user,
        str(product.pk),
    )
    assert changed.details == {
        "changed": ["electricity_kwh_per_unit"],
        "electricity_kwh_per_unit": "14",
    }
