"""Which spaces and topics a person or an organisation's token reaches (the querysets every
community page and API read starts from), with literal expectations; part of the mutation module
"scoped-querysets" (scripts/mutation.sh)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from community.models import Audience, Space, Topic
from portal.models import User

pytestmark = pytest.mark.django_db


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


@pytest.fixture
def spaces(org_a, org_b):
    def space(slug, audience=Audience.CUSTOMERS, **kw):
        return Space.objects.create(name=slug, slug=slug, audience=audience, **kw)

    public = space("public")
    space("public-child", parent=public)
    only_a = space("only-a", Audience.ORGANISATIONS)
    only_a.organisations.set([org_a])
    only_b = space("only-b", Audience.ORGANISATIONS)
    only_b.organisations.set([org_b])
    space("child-of-b", parent=only_b)
    archived = space("archived", is_archived=True)
    space("child-of-archived", parent=archived)
    space("tier-a", Audience.TIERS, tiers=[org_a.tier])
    space("other-tier", Audience.TIERS, tiers=["no-such-tier"])
    space("group", Audience.GROUPS)
    return {s.slug: s for s in Space.objects.all()}


def _slugs(queryset) -> list[str]:
    return sorted(queryset.values_list("slug", flat=True))


def test_spaces_an_organisations_token_reads(spaces, org_a, org_b):
    assert _slugs(Space.objects.visible_to_organisation(org_a)) == [
        "only-a",
        "public",
        "public-child",
        "tier-a",
    ]
    assert _slugs(Space.objects.visible_to_organisation(org_b)) == [
        "child-of-b",
        "only-b",
        "public",
        "public-child",
    ] + (["tier-a"] if org_b.tier == org_a.tier else [])
    assert _slugs(Space.objects.visible_to_organisation(None)) == []
    org_a.is_active = False
    org_a.save()
    assert _slugs(Space.objects.visible_to_organisation(org_a)) == []


@pytest.fixture
def topics(spaces):
    def topic(title, space, **kw):
        return Topic.objects.create(title=title, space=spaces[space], **kw)

    topic("open", "public")
    topic("child", "public-child")
    topic("acme", "only-a")
    topic("globex", "only-b")
    topic("hidden", "public", is_hidden=True)
    kept = topic("kept", "public")
    topic("merged", "public", merged_into=kept)
    topic("archived", "archived")


def _titles(queryset) -> list[str]:
    return sorted(queryset.values_list("title", flat=True))


def test_topics_a_person_reads(topics, member_a, member_b):
    assert _titles(Topic.objects.visible_to(_fresh(member_a))) == ["acme", "child", "kept", "open"]
    assert _titles(Topic.objects.visible_to(_fresh(member_b))) == [
        "child",
        "globex",
        "kept",
        "open",
    ]
    assert _titles(Topic.objects.visible_to(AnonymousUser())) == []


def test_topics_an_organisations_token_reads(topics, org_a):
    assert _titles(Topic.objects.visible_to_organisation(org_a)) == [
        "acme",
        "child",
        "kept",
        "open",
    ]
    assert _titles(Topic.objects.visible_to_organisation(None)) == []
