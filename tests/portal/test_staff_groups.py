"""`ensure_staff_groups` puts back whatever is missing, even when it answers from one query that
everything is in place."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.staff_roles import ensure_staff_groups

pytestmark = pytest.mark.django_db


def _held(name: str) -> set[str]:
    return {
        f"{app_label}.{codename}"
        for app_label, codename in Group.objects.get(name=name).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_groups_in_place_are_confirmed_by_one_query():
    # given the groups as migrate left them
    ensure_staff_groups()
    # when they are ensured again / then one query confirms them
    with CaptureQueriesContext(connection) as queries:
        ensure_staff_groups()
    assert len(queries.captured_queries) == 1


def test_a_missing_group_is_created_with_its_permissions():
    # given the Integration admin group was deleted
    ensure_staff_groups()
    Group.objects.filter(name="Integration admin").delete()
    # when the groups are ensured / then it is back with admin access and the CRM permissions
    ensure_staff_groups()
    held = _held("Integration admin")
    assert {
        "wagtailadmin.access_admin",
        "portal.view_crmendpoint",
        "portal.change_crmendpoint",
        "portal.view_inboundwebhook",
    } <= held


def test_a_permission_taken_from_a_group_is_given_back():
    # given Customer success lost the right to recalculate account health
    ensure_staff_groups()
    group = Group.objects.get(name="Customer success")
    group.permissions.remove(
        Permission.objects.get(content_type__app_label="portal", codename="add_accounthealth")
    )
    assert "portal.add_accounthealth" not in _held("Customer success")
    # when the groups are ensured / then it holds it again
    ensure_staff_groups()
    assert "portal.add_accounthealth" in _held("Customer success")


def test_a_deleted_permission_is_created_and_granted():
    # given the permission to read the CRM contacts no longer exists at all
    ensure_staff_groups()
    Permission.objects.filter(content_type__app_label="portal", codename="view_crmcontact").delete()
    # when the groups are ensured / then it exists again and Integration admin holds it
    ensure_staff_groups()
    assert "portal.view_crmcontact" in _held("Integration admin")
