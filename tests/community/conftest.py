"""Shared community fixtures: spaces open to everyone and private to one organisation, people
(members of two organisations, a vendor engineer, a moderator) and a helper that posts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from community import access, actions
from community.models import Audience, Space, Tag
from portal.staff_roles import StaffRole
from tests.conftest import _staff


@pytest.fixture
def public_space(db):
    return Space.objects.create(name="Solar inverters", slug="inverters")


@pytest.fixture
def private_space(org_a):
    """Visible to Acme (org_a) only; Globex (org_b) must not learn that it exists."""
    space = Space.objects.create(
        name="Acme private board", slug="acme-board", audience=Audience.ORGANISATIONS
    )
    space.organisations.set([org_a])
    return space


@pytest.fixture
def tags(db):
    return {
        slug: Tag.objects.create(name=name, slug=slug)
        for slug, name in [("firmware", "Firmware"), ("scope-2", "Scope 2"), ("储能", "储能")]
    }


@pytest.fixture
def engineer(db, enable_totp):
    """A vendor engineer (Product staff, TOTP on) who answers questions."""
    user = _staff("engineer@greenloop.example", StaffRole.PRODUCT, first_name="Erik")
    enable_totp(user)
    return user


@pytest.fixture
def moderator(db, enable_totp):
    user = _staff("moderator@greenloop.example", StaffRole.MODERATOR, first_name="Mona")
    enable_totp(user)
    return user


def settled(user):
    """Make a person an established member (outside the new-member rate limit)."""
    user.date_joined = timezone.now() - dt.timedelta(days=90)
    user.save(update_fields=["date_joined"])
    member = access.member_for(user)
    member.post_count = 50
    member.save(update_fields=["post_count"])
    return user


@pytest.fixture
def acme(member_a):
    """An established member of Acme."""
    return settled(member_a)


@pytest.fixture
def globex(member_b):
    """An established member of Globex."""
    return settled(member_b)


# The same two people under the names the topic tests give them (one set-up serves both).
@pytest.fixture
def asker(acme):
    """Acme's established member, asking."""
    return acme


@pytest.fixture
def outsider(globex):
    """Globex's established member: Acme's private space does not exist for them."""
    return globex


@pytest.fixture
def ask():
    """ask(user, space, title=..., body=...) -> Topic, through the real action."""

    def _ask(user, space, title="How do I read the Scope 2 figure?", body="Details inside.", **kw):
        return actions.create_topic(user, space, title=title, body=body, **kw)

    return _ask
