"""The event catalogue (portal.event_catalogue): every type registered with a JSON Schema that
agrees with the literal contract, served at /api/v1/events/schema, written into the README, and
enforced by publish() in the tests."""

from __future__ import annotations

import logging
from pathlib import Path

import jsonschema_rs
import pytest
from django.db import transaction

from portal import actions, event_catalogue
from portal.events import EventError, publish
from portal.models import OutboxEvent, Role
from tests.api_client import api_error, token_headers
from tests.event_contracts import EVENT_SHAPES
from tests.factories import MembershipFactory

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_URL = "/api/v1/events/schema"


def test_every_type_of_the_literal_contract_is_registered_and_no_other():
    assert sorted(t.type for t in event_catalogue.all_types()) == sorted(EVENT_SHAPES)


@pytest.mark.parametrize("type_", sorted(EVENT_SHAPES))
def test_each_schema_has_the_literal_contracts_keys_and_subject(type_):
    # The literal table in tests/event_contracts.py is the test-side contract; the registry is
    # the code's. They must say the same thing.
    registered = event_catalogue.get(type_)
    shape = EVENT_SHAPES[type_]
    assert set(registered.schema["required"]) == shape.keys
    assert set(registered.schema["properties"]) - shape.keys == shape.optional
    assert registered.subject == shape.subject


@pytest.mark.parametrize("type_", sorted(EVENT_SHAPES))
def test_each_schema_is_valid_draft_2020_12_with_its_id(type_):
    schema = event_catalogue.get(type_).schema
    assert jsonschema_rs.meta.is_valid(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"urn:greenloop:event-schema:{type_}:" + str(
        event_catalogue.get(type_).version
    )
    assert schema["additionalProperties"] is False


def test_the_types_that_may_carry_free_text_are_these():
    # Data minimisation: everything else is ids, numbers, dates and codes.
    declared = {(t.type, key) for t in event_catalogue.all_types() for key in t.free_text}
    assert declared == {
        ("greenloop.carbon.dataset_published", "title"),
        ("greenloop.carbon.dataset_published", "publisher"),
        ("greenloop.carbon.green_power_submitted", "site"),
        ("greenloop.carbon.green_power_verified", "site"),
        ("greenloop.carbon.green_power_verified", "note"),
        ("greenloop.carbon.green_power_rejected", "site"),
        ("greenloop.carbon.green_power_revoked", "site"),
        ("greenloop.carbon.green_power_rejected", "note"),
        ("greenloop.community.topic_created", "title"),
        ("greenloop.community.reply_posted", "title"),
        ("greenloop.community.post_flagged", "title"),
        ("greenloop.community.answer_accepted", "title"),
        ("greenloop.crm.endpoint_tested", "endpoint"),
    }


def test_no_type_carries_an_email_address_property():
    for event_type in event_catalogue.all_types():
        assert not {k for k in event_type.properties if "email" in k}, event_type.type


def test_the_readme_table_is_the_registry():
    readme = (ROOT / "README.md").read_text()
    assert event_catalogue.replace_readme_table(readme) == readme, (
        "README's event table is out of date: run `python manage.py event_catalogue --readme`"
    )
    assert "| `greenloop.carbon.points_expired` | 1 | `points-accounts/\\d+` |" in readme


def test_registering_a_type_twice_differently_is_refused():
    existing = event_catalogue.get("greenloop.account.member_role_changed")
    with pytest.raises(event_catalogue.CatalogueError, match="already registered by portal"):
        event_catalogue.register(
            existing.type,
            version=9,
            subject=existing.subject,
            description=existing.description,
            owner="beta_program",
            properties=existing.properties,
        )
    with pytest.raises(event_catalogue.CatalogueError, match=r"\['nope'\] are not properties"):
        event_catalogue.register(
            "greenloop.test.thing",
            version=1,
            subject="x",
            description="",
            owner="tests",
            properties={},
            optional=["nope"],
        )


# --- publish() in the tests (GREENLOOP_VALIDATE_EVENTS is on in the test settings)


@pytest.mark.django_db
def test_a_published_event_names_its_schema(org_a, admin_a):
    member = MembershipFactory(organisation=org_a, role=Role.VIEWER)
    actions.change_role(member, Role.MEMBER, by=admin_a)
    event = OutboxEvent.objects.get(type="greenloop.account.member_role_changed")
    assert event.dataschema == "urn:greenloop:event-schema:greenloop.account.member_role_changed:1"
    assert event.subject == f"users/{member.user_id}"
    assert event.as_cloudevent()["dataschema"] == event.dataschema


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("subject", "data", "problem"),
    [
        ("users/7", {"user_id": 7, "from": "viewer"}, '"to" is a required property'),
        ("users/7", {"user_id": "7", "from": "viewer", "to": "admin"}, 'is not of type "integer"'),
        ("users/7", {"user_id": 7, "from": "viewer", "to": "owner"}, "is not one of"),
        ("users/7", {"user_id": 7, "from": "viewer", "to": "admin", "x": 1}, "'x' was unexpected"),
        ("user/7", {"user_id": 7, "from": "viewer", "to": "admin"}, "does not match"),
    ],
)
def test_publish_refuses_data_that_does_not_match_the_schema(org_a, subject, data, problem):
    with (
        pytest.raises(EventError, match="does not match its schema") as refused,
        transaction.atomic(),
    ):
        publish("greenloop.account.member_role_changed", org_a, subject, data)
    assert problem in str(refused.value)
    assert not OutboxEvent.objects.exists()


def _reply_data(**changes):
    return {
        "topic_id": 1,
        "space_id": 2,
        "post_id": 3,
        "author_id": 4,
        "number": 2,
        "title": "Inverter keeps rebooting",
        "kind": "question",
        "space": "q-and-a",
        "url": "/community/t/1/",
        **changes,
    }


@pytest.mark.django_db
def test_publish_refuses_an_email_address_outside_declared_free_text(org_a):
    data = _reply_data(url="/community/t/1/?by=li.wei@huadong.example")
    with (
        pytest.raises(EventError, match="url: looks like an e-mail address"),
        transaction.atomic(),
    ):
        publish("greenloop.community.reply_posted", org_a, "community/topics/1", data)


@pytest.mark.django_db
def test_declared_free_text_is_what_a_person_typed_and_is_not_refused(org_a):
    # a customer may type an address into a topic title; refusing the event would fail their post
    data = _reply_data(title="Ask li.wei@huadong.example")
    with transaction.atomic():
        publish("greenloop.community.reply_posted", org_a, "community/topics/1", data)
    assert OutboxEvent.objects.get().data["title"] == "Ask li.wei@huadong.example"


@pytest.mark.django_db
def test_publish_refuses_half_of_a_together_group(org_a):
    data = {"topic_id": 1, "space_id": 2, "post_id": 3, "author_id": 4, "title": "Torque?"}
    with pytest.raises(EventError, match="kind"), transaction.atomic():
        publish("greenloop.community.topic_created", org_a, "community/topics/1", data)


@pytest.mark.django_db
def test_publish_refuses_an_unregistered_type_in_the_tests(org_a):
    with pytest.raises(EventError, match="not registered"), transaction.atomic():
        publish("greenloop.account.member_left", org_a, "users/1", {})


@pytest.mark.django_db
@pytest.mark.synthetic_events
def test_without_validation_an_unregistered_type_is_logged_and_kept(org_a, settings, caplog):
    # Production: a missing registration must not lose the business change; it is logged.
    settings.GREENLOOP_VALIDATE_EVENTS = False
    with caplog.at_level(logging.ERROR, logger="portal.events"), transaction.atomic():
        event = publish("greenloop.account.member_left", org_a, "users/1", {"user_id": 1})
    assert OutboxEvent.objects.get().dataschema == ""
    assert "dataschema" not in event.as_cloudevent()
    assert "greenloop.account.member_left is not registered" in caplog.text


# --- GET /api/v1/events/schema


@pytest.mark.django_db
def test_the_catalogue_is_served_to_any_token(client, org_a):
    # a token whose one scope has nothing to do with events
    response = client.get(SCHEMA_URL, headers=token_headers(org_a, ["account:read"]))
    assert response.status_code == 200
    body = response.json()
    assert body["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert len(body["types"]) == 47
    by_type = {t["type"]: t for t in body["types"]}
    joined = by_type["greenloop.account.member_joined"]
    assert joined["version"] == 2
    assert joined["dataschema"] == "urn:greenloop:event-schema:greenloop.account.member_joined:2"
    assert joined["subject"] == r"users/\d+"
    assert joined["owner"] == "portal"
    assert joined["free_text"] == []
    assert joined["schema"]["required"] == ["role", "user_id"]
    assert joined["schema"]["properties"]["role"]["enum"] == ["admin", "member", "viewer"]
    assert by_type["greenloop.community.reply_posted"]["schema"]["dependentRequired"]["title"] == [
        "kind",
        "space",
        "url",
    ]


@pytest.mark.django_db
def test_the_catalogue_is_served_to_a_signed_in_member(client, member_a):
    client.force_login(member_a)
    assert client.get(SCHEMA_URL).status_code == 200


@pytest.mark.django_db
def test_the_catalogue_is_not_served_anonymously(client):
    api_error(client.get(SCHEMA_URL), 401, "not_authenticated")
