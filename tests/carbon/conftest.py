"""Fixtures the carbon tests share."""

import pytest
from django.contrib.auth.models import Group

from portal.staff_roles import StaffRole, ensure_staff_groups
from tests.factories import UserFactory


@pytest.fixture
def sustainability(db, enable_totp):
    ensure_staff_groups()
    user = UserFactory(email="sus@greenloop.example", is_staff=True)
    user.groups.add(Group.objects.get(name=StaffRole.SUSTAINABILITY))
    enable_totp(user)
    return user
