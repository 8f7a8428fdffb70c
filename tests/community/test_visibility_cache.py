"""The cached visible space ids (community/visibility.py) follow every change that decides who
sees a space: memberships, an organisation's tier and activity, a person's groups and a space's
audience, archive mark and lists. Each test first has the answer cached, then changes one thing
and asks again, with the same user object and with a freshly loaded one."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from community import actions, notifications, visibility
from community.models import Audience, Space, Topic
from portal.models import Membership, Tier, User
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _sees(user) -> set[str]:
    """The slugs of the spaces `user` may see, through the cached ids, for the object given and
    for the same person loaded again (a later request)."""
    again = User.objects.get(pk=user.pk)
    first = set(
        Space.objects.filter(pk__in=visibility.visible_space_ids(user)).values_list(
            "slug", flat=True
        )
    )
    second = set(
        Space.objects.filter(pk__in=visibility.visible_space_ids(again)).values_list(
            "slug", flat=True
        )
    )
    assert first == second
    return first


def test_a_new_membership_shows_the_spaces_and_its_removal_hides_them(org_a):
    # given a person without an organisation, whose (empty) answer is cached
    Space.objects.create(name="Inverters", slug="inverters")
    person = UserFactory()
    assert _sees(person) == set()
    # when they join an organisation / then the space for customers shows
    membership = MembershipFactory(user=person, organisation=org_a)
    assert _sees(person) == {"inverters"}
    # when they leave it / then it is hidden again
    Membership.objects.get(pk=membership.pk).delete()
    assert _sees(person) == set()


def test_an_organisation_moving_tier_changes_its_people_s_spaces(member_a, org_a):
    # given a space for gold customers, and a standard customer's cached answer
    Space.objects.create(name="Gold", slug="gold", audience=Audience.TIERS, tiers=[Tier.GOLD])
    org_a.tier = Tier.STANDARD
    org_a.save()
    assert _sees(member_a) == set()
    # when the organisation moves to gold / then the space shows
    org_a.tier = Tier.GOLD
    org_a.save()
    assert _sees(member_a) == {"gold"}
    # when it is deactivated / then nothing shows
    org_a.is_active = False
    org_a.save()
    assert _sees(member_a) == set()


def test_joining_and_leaving_a_group_changes_the_group_s_spaces(member_a):
    # given a space for a beta cohort, and a member's cached answer
    cohort = Group.objects.create(name="Beta cohort")
    space = Space.objects.create(name="Beta", slug="beta", audience=Audience.GROUPS)
    space.groups.set([cohort])
    assert _sees(member_a) == set()
    # when the person is added to the group (from the person's side) / then it shows
    member_a.groups.add(cohort)
    assert _sees(member_a) == {"beta"}
    # when the group drops them (from the group's side) / then it is hidden
    cohort.user_set.remove(member_a)
    assert _sees(member_a) == set()


def test_a_space_s_audience_lists_and_archive_mark_take_effect(member_a, org_a):
    # given a space for all customers, cached as visible
    space = Space.objects.create(name="Inverters", slug="inverters")
    other = OrganisationFactory()
    assert _sees(member_a) == {"inverters"}
    # when it is narrowed to another organisation / then it is hidden
    space.audience = Audience.ORGANISATIONS
    space.save()
    space.organisations.set([other])
    assert _sees(member_a) == set()
    # when the person's organisation is added to its list / then it shows
    space.organisations.add(org_a)
    assert _sees(member_a) == {"inverters"}
    # when it is archived with a bulk update / then it is hidden
    Space.objects.filter(pk=space.pk).update(is_archived=True)
    assert _sees(member_a) == set()


def test_lists_follow_the_cached_answer(member_a, org_a, ask):
    # given a topic in a space narrowed to the member's organisation, listed once
    space = Space.objects.create(name="Acme", slug="acme", audience=Audience.ORGANISATIONS)
    space.organisations.set([org_a])
    topic = ask(member_a, space)
    assert list(Topic.objects.visible_to(member_a)) == [topic]
    # when the organisation is taken off the list / then the topic leaves the list
    space.organisations.remove(org_a)
    assert list(Topic.objects.visible_to(User.objects.get(pk=member_a.pk))) == []


def test_the_unread_count_follows_notify_and_mark_read(member_a, org_a, ask, engineer):
    # given a topic by the member and their cached unread count
    space = Space.objects.create(name="Inverters", slug="inverters")
    topic = ask(member_a, space)
    assert notifications.unread_count(member_a) == 0
    # when an engineer's reply mentioning them is delivered (what the task runs after commit)
    reply = actions.reply(engineer, topic, body="@member, try the 3.2.1 firmware.")
    assert notifications.post_created(reply.pk, [member_a.pk]) == 1
    # then it counts one
    assert notifications.unread_count(User.objects.get(pk=member_a.pk)) == 1
    # when the member marks everything read / then it counts none
    notifications.mark_read(member_a)
    assert notifications.unread_count(User.objects.get(pk=member_a.pk)) == 0
