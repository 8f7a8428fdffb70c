"""A cohort's private discussion space: the beta plugin asks for it through its
`cohort_created` event (ids and a flag only) and the community, reacting by the event's name,
creates a space only the cohort's group sees, once, under a neutral name, in the audit trail."""

from __future__ import annotations

import re

from django.urls import reverse

from beta_program.programmes import actions
from community import subscribers
from community.models import Audience, Space, WhoCanPost
from community.tasks import create_cohort_space
from portal.models import AuditEvent, OutboxEvent


def _create(recruiting, product, capture, **options):
    with capture(execute=True):
        return actions.create_cohort(recruiting, "Wave 1", product, **options)


def test_creating_a_cohort_creates_its_private_space_once(
    recruiting, product, django_capture_on_commit_callbacks
):
    # when product staff create a cohort with the default option
    cohort = _create(recruiting, product, django_capture_on_commit_callbacks)
    # then the event asks for a space (its whole payload: tests/beta_program/test_builds.py)
    event = OutboxEvent.objects.get(type="greenloop.beta.cohort_created")
    assert (event.data["group_id"], event.data["create_space"]) == (cohort.group.pk, True)
    # and the community created one space restricted to the cohort's group, named neutrally
    space = Space.objects.get()
    assert (space.name, space.slug) == (f"Beta cohort {cohort.pk}", f"beta-cohort-{cohort.pk}")
    assert (space.audience, space.who_can_post) == (Audience.GROUPS, WhoCanPost.MEMBERS)
    assert list(space.groups.all()) == [cohort.group]
    assert space.created_by == product
    assert "Wave 1" not in space.name + space.description
    audit = AuditEvent.objects.get(action="community.space_created")
    assert audit.actor == product
    assert audit.details["groups"] == [cohort.group.pk]
    assert audit.details["cohort_id"] == cohort.pk
    assert audit.details["reason"] == "greenloop.beta.cohort_created"


def test_replaying_the_event_creates_nothing_new(
    recruiting, product, django_capture_on_commit_callbacks
):
    # given a cohort whose space exists, renamed by staff
    cohort = _create(recruiting, product, django_capture_on_commit_callbacks)
    Space.objects.update(name="Firmware wave 1", slug="firmware-wave-1")
    event = OutboxEvent.objects.get(type="greenloop.beta.cohort_created")
    # when the event is handled again, and the task runs again
    subscribers.on_cohort_created(event)
    assert create_cohort_space(cohort.group.pk, cohort.pk, product.pk) is None
    # then there is still one space and one audit record
    assert Space.objects.count() == 1
    assert AuditEvent.objects.filter(action="community.space_created").count() == 1


def test_without_the_option_no_space_is_created(
    recruiting, product, django_capture_on_commit_callbacks
):
    cohort = _create(recruiting, product, django_capture_on_commit_callbacks, create_space=False)
    event = OutboxEvent.objects.get(type="greenloop.beta.cohort_created")
    assert event.data["create_space"] is False
    assert Space.objects.count() == 0
    assert not AuditEvent.objects.filter(action="community.space_created").exists()
    # a version 1 event (no flag) asks for nothing either
    subscribers.on_cohort_created(
        OutboxEvent(
            type="greenloop.beta.cohort_created",
            data={"cohort_id": cohort.pk, "programme_id": recruiting.pk, "group_id": 1},
        )
    )
    assert Space.objects.count() == 0


def test_a_slug_in_use_gets_a_suffix(product):
    # given staff spaces that took the slug cohort 7's space would have
    from django.contrib.auth.models import Group

    Space.objects.create(name="Other", slug="beta-cohort-7")
    Space.objects.create(name="Other 2", slug="beta-cohort-7-2")
    group = Group.objects.create(name="Beta x: Wave 7")
    # when the community creates cohort 7's space / then it takes the next free slug
    space_id = create_cohort_space(group.pk, 7, product.pk)
    assert Space.objects.get(pk=space_id).slug == "beta-cohort-7-3"
    # and a group that is gone, or a customer named as creator, are handled
    assert create_cohort_space(group.pk + 1000, 8, product.pk) is None


def test_only_the_cohort_sees_the_space(
    client,
    recruiting,
    product,
    org_a,
    member_a,
    admin_a,
    member_b,
    django_capture_on_commit_callbacks,
):
    # given a cohort of one participant, and a colleague with a place but outside the cohort
    actions.submit_application(recruiting, org_a, member_a, {})
    actions.submit_application(recruiting, org_a, admin_a, {})
    cohort = _create(recruiting, product, django_capture_on_commit_callbacks)
    actions.set_cohort_members(cohort, [member_a], product)
    space = Space.objects.get()
    url = reverse("community:space", args=[space.slug])
    # then the member sees it, among the spaces too
    client.force_login(member_a)
    assert client.get(url).status_code == 200
    assert space in Space.objects.visible_to(member_a)
    # and outsiders, of the same organisation and of another, get 404
    for outsider in (admin_a, member_b):
        client.force_login(outsider)
        assert client.get(url).status_code == 404
        assert space not in Space.objects.visible_to(outsider)
        assert client.get(reverse("community:new_topic", args=[space.slug])).status_code == 404


def test_the_admin_offers_the_space_when_creating_a_cohort_only(
    client, product, recruiting, django_capture_on_commit_callbacks
):
    # given product staff on the cohort form: the option is there, ticked
    client.force_login(product)
    form = client.get(reverse("beta_cohorts:add")).content.decode()
    assert "Create a private discussion space" in form
    assert re.search(r'<input type="checkbox" name="create_space"[^>]*\bchecked>', form)
    # when they create a cohort with it ticked
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("beta_cohorts:add"),
            {"programme": recruiting.pk, "name": "Wave 2", "name_zh": "", "create_space": "on"},
        )
    assert response.status_code == 302
    # then the event asked for a space and the community created it
    event = OutboxEvent.objects.get(type="greenloop.beta.cohort_created")
    assert event.data["create_space"] is True
    space = Space.objects.get()
    assert space.name == f"Beta cohort {event.data['cohort_id']}"
    # and editing the cohort offers it no more
    edit = client.get(reverse("beta_cohorts:edit", args=[event.data["cohort_id"]])).content
    assert b'name="create_space"' not in edit
