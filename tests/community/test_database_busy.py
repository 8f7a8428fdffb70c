"""A reply that meets a busy database (SQLite's "database is locked" after the busy timeout) is a
503 "try again" that keeps what the person typed, on the page and on the API; nothing is saved."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.urls import reverse

from community import actions
from community.models import Post
from tests.community.conftest import settled

pytestmark = pytest.mark.django_db

TYPED = "Same here: the inverter drops off the grid at noon.\nFirmware 3.2.1, site Nanjing."


@pytest.fixture
def topic(member_a, public_space):
    settled(member_a)
    return actions.create_topic(member_a, public_space, title="Noon grid drop", body="Any idea?")


@pytest.fixture
def locked(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(actions, "reply", refuse)


def test_busy_database_keeps_the_reply_for_sending_again(client, topic, member_b, locked):
    # given a member whose reply meets a locked database
    settled(member_b)
    client.force_login(member_b)
    # when they send it
    response = client.post(
        reverse("community:reply", kwargs={"topic_id": topic.pk}),
        {"body": TYPED, "reply_to": ""},
        headers={"accept-language": "en"},
    )
    # then they get a 503 "try again" page with their text in a form that posts it again
    page = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "<h1>Please try again</h1>" in page
    assert f'action="/community/t/{topic.pk}/reply/"' in page
    assert (
        '<textarea id="kept-1" name="body" rows="8">Same here: the inverter drops off the grid '
        "at noon.\nFirmware 3.2.1, site Nanjing.</textarea>"
    ) in page
    assert '<input type="hidden" name="reply_to" value="">' in page
    assert Post.objects.filter(topic=topic).count() == 1


def test_busy_page_never_writes_a_secret_back_into_the_page(client, topic, member_b, locked):
    # given a post that carries a password and a one-time code beside the text
    settled(member_b)
    client.force_login(member_b)
    response = client.post(
        reverse("community:reply", kwargs={"topic_id": topic.pk}),
        {"body": TYPED, "password": "hunter2-secret", "otp_code": "123456"},
        headers={"accept-language": "en"},
    )
    # then the text is kept and the secrets are not in the page
    page = response.content.decode()
    assert response.status_code == 503
    assert "Firmware 3.2.1" in page
    assert "hunter2-secret" not in page
    assert "123456" not in page


def test_busy_page_in_chinese(client, topic, member_b, locked):
    settled(member_b)
    client.force_login(member_b)
    response = client.post(
        reverse("community:reply", kwargs={"topic_id": topic.pk}),
        {"body": TYPED},
        headers={"accept-language": "zh-hans"},
    )
    assert response.status_code == 503
    assert "<h1>请重试</h1>" in response.content.decode()


@pytest.mark.parametrize("debug", [False, True])
def test_busy_database_on_the_api_is_a_json_503(client, topic, member_b, locked, settings, debug):
    # given a person on the API (with DEBUG on, as in the demo, and off)
    settings.DEBUG = debug
    settled(member_b)
    client.force_login(member_b)
    # when its reply meets a locked database
    response = client.post(
        f"/api/v1/community/topics/{topic.pk}/replies",
        {"body": TYPED},
        content_type="application/json",
    )
    # then it is told to send it again
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "code": "database_busy",
        "message": "The database was busy and nothing was saved. Send the request again.",
        "field": None,
    }
    assert Post.objects.filter(topic=topic).count() == 1


def test_other_database_errors_stay_server_errors(client, topic, member_b, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("no such table: community_post")

    monkeypatch.setattr(actions, "reply", broken)
    settled(member_b)
    client.raise_request_exception = False
    client.force_login(member_b)
    response = client.post(
        reverse("community:reply", kwargs={"topic_id": topic.pk}), {"body": TYPED}
    )
    assert response.status_code == 500
