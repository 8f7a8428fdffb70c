"""Fixtures the carbon tests share."""

import pytest
from django.contrib.auth.models import Group

from carbon.models import FactorDataset
from portal.staff_roles import StaffRole, ensure_staff_groups
from tests.carbon.factories import reference_dataset
from tests.factories import UserFactory


@pytest.fixture
def sustainability(db, enable_totp):
    ensure_staff_groups()
    user = UserFactory(email="sus@greenloop.example", is_staff=True)
    user.groups.add(Group.objects.get(name=StaffRole.SUSTAINABILITY))
    enable_totp(user)
    return user


@pytest.fixture
def desnz(db) -> FactorDataset:
    """DESNZ 2025 as published (fixtures/desnz-2025-freight.csv), with the other reference data."""
    return reference_dataset("desnz-2025")


@pytest.fixture
def desnz_2026(db) -> FactorDataset:
    """DESNZ 2026, the 2026 vintage of the same series, with the other reference data."""
    return reference_dataset("desnz-2026")
