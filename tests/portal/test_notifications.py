"""The portal's in-app notifications: `notify` once per person and key, the inbox and its API
scoped to the person, marking read, the header's one number, bounded queries."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation
from wagtail import hooks

from portal import notifications
from portal.models import Notification
from tests.api_client import api_error, token_headers

pytestmark = pytest.mark.django_db

KIND = "test.parcel"


def _parcel(params):
    return translation.gettext("Your parcel %(id)s arrived") % {"id": params["parcel_id"]}


@pytest.fixture(autouse=True)
def parcel_kind():
    with hooks.register_temporarily(notifications.KINDS_HOOK, lambda: {KIND: _parcel}):
        yield


def _notify(people, parcel_id=1, link="/o/acme/"):
    return notifications.notify(
        people, KIND, dedupe_key=f"parcel:{parcel_id}", params={"parcel_id": parcel_id}, link=link
    )


def test_notify_is_idempotent_per_person_and_key(member_a, admin_a, member_b):
    # given three people notified about parcel 1
    assert _notify([member_a, admin_a.pk, member_b]) == 3
    # when the same notification is sent again, with one more person
    again = _notify([member_a, admin_a, member_b, member_a])
    # then nobody gets it twice
    assert again == 0
    assert Notification.objects.filter(dedupe_key="parcel:1").count() == 3
    # and another key is another notification
    assert _notify([member_a], parcel_id=2) == 1
    assert Notification.objects.filter(recipient=member_a).count() == 2


def test_inactive_people_are_not_notified(member_a, admin_a):
    admin_a.is_active = False
    admin_a.save(update_fields=["is_active"])
    assert _notify([member_a, admin_a]) == 1
    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [member_a.pk]


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"kind": "unknown.kind"}, "is not registered"),
        ({"params": {"text": "x" * 201}}, "longer than a name"),
        ({"params": {"doc": {"nested": 1}}}, "must be an id, flag or name"),
        ({"link": "https://evil.example/"}, "path of the portal"),
        ({"link": "//evil.example/"}, "path of the portal"),
        ({"dedupe_key": ""}, "deduplication key"),
    ],
)
def test_notify_refuses_what_a_plugin_must_not_send(member_a, kwargs, problem):
    arguments = {"kind": KIND, "dedupe_key": "k", "params": {}, "link": "/"} | kwargs
    with pytest.raises(ValueError, match=problem):
        notifications.notify([member_a], **arguments)
    assert Notification.objects.count() == 0


def test_the_message_is_worded_in_the_readers_language_when_shown(member_a):
    # given a stored notification (no text stored, only its params)
    _notify([member_a], parcel_id=7)
    stored = Notification.objects.get()
    assert stored.params == {"parcel_id": 7}
    # then its wording follows the active language, and an unknown kind reads neutrally
    assert notifications.message(stored) == "Your parcel 7 arrived"
    stored.kind = "gone.plugin"
    with translation.override("zh-hans"):
        assert notifications.message(stored) == "您有一条新通知。"


def test_the_inbox_lists_only_the_persons_own(client, member_a, member_b):
    # given a notification for each of two people
    _notify([member_a], parcel_id=1)
    _notify([member_b], parcel_id=2)
    client.force_login(member_a)
    # when member_a opens their inbox
    html = client.get(reverse("portal:notifications")).text
    # then they see theirs only
    assert "Your parcel 1 arrived" in html
    assert "Your parcel 2 arrived" not in html
    assert html.count('class="notification notification--unread"') == 1


def test_someone_elses_notification_through_my_url_is_404_and_unchanged(client, member_a, member_b):
    # given member_b's unread notification
    _notify([member_b], parcel_id=2)
    theirs = Notification.objects.get(recipient=member_b)
    client.force_login(member_a)
    # when member_a marks it read through their own inbox's URL (page and API)
    page = client.post(reverse("portal:notification_read", args=[theirs.pk]), {"open": "1"})
    api = client.post(f"/api/v1/notifications/{theirs.pk}/read")
    # then it does not exist for them, and it stays unread
    assert page.status_code == 404
    api_error(api, 404, "not_found")
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_opening_a_notification_marks_it_read_and_follows_its_link(client, member_a):
    _notify([member_a], link="/o/acme/beta/")
    mine = Notification.objects.get()
    client.force_login(member_a)
    response = client.post(reverse("portal:notification_read", args=[mine.pk]), {"open": "1"})
    assert response.status_code == 302
    assert response["Location"] == "/o/acme/beta/"
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_mark_all_read_touches_only_mine(client, member_a, member_b):
    _notify([member_a, member_b], parcel_id=1)
    _notify([member_a], parcel_id=2)
    client.force_login(member_a)
    response = client.post(reverse("portal:notifications_read_all"))
    assert response.status_code == 302
    assert Notification.objects.filter(recipient=member_a, read_at__isnull=True).count() == 0
    assert Notification.objects.filter(recipient=member_b, read_at__isnull=True).count() == 1


def test_the_unread_number_counts_mine(client, member_a, member_b):
    _notify([member_a, member_b], parcel_id=1)
    _notify([member_a], parcel_id=2)
    client.force_login(member_a)
    body = client.get(reverse("portal:notifications_unread")).json()
    assert body["unread"] == 2
    assert body["portal"] == 2


def test_the_header_has_one_notifications_link_on_every_page(client, member_a, org_a):
    client.force_login(member_a)
    html = client.get(reverse("portal:org_dashboard", args=[org_a.slug])).text
    assert html.count('class="notifylink"') == 1
    assert 'data-unread-url="/notifications/unread/"' in html


@pytest.mark.parametrize("count", [3, 40])
def test_inbox_queries_do_not_grow(client, member_a, django_assert_max_num_queries, count):
    # given a few or many notifications (40: two pages)
    for parcel in range(count):
        _notify([member_a], parcel_id=parcel)
    client.force_login(member_a)
    client.get(reverse("portal:notifications"))
    # when the inbox and its API are read / then the query count is the same whatever the number
    with django_assert_max_num_queries(9):
        page = client.get(reverse("portal:notifications"), {"page": 2 if count > 25 else 1})
    with django_assert_max_num_queries(9):
        api = client.get("/api/v1/notifications")
    assert page.status_code == 200
    assert len(api.json()["items"]) == min(count, 25)


def test_api_lists_the_callers_own_and_marks_them_read(client, member_a, member_b):
    _notify([member_a, member_b], parcel_id=1, link="/o/acme/")
    _notify([member_a], parcel_id=2, link="")
    client.force_login(member_a)
    body = client.get("/api/v1/notifications", HTTP_ACCEPT_LANGUAGE="en").json()
    assert set(body) == {"unread", "elsewhere", "page", "pages", "items"}
    assert (body["unread"], body["page"], body["pages"]) == (2, 1, 1)
    assert [item["message"] for item in body["items"]] == [
        "Your parcel 2 arrived",
        "Your parcel 1 arrived",
    ]
    assert set(body["items"][0]) == {"id", "kind", "message", "link", "created_at", "read_at"}
    first = body["items"][1]["id"]
    marked = client.post(
        "/api/v1/notifications/read", {"ids": [first]}, content_type="application/json"
    )
    assert marked.json() == {"marked": 1}
    rest = client.post("/api/v1/notifications/read", {}, content_type="application/json")
    assert rest.json() == {"marked": 1}
    assert Notification.objects.filter(recipient=member_b, read_at__isnull=True).count() == 1


def test_api_refuses_an_organisation_token(client, org_a):
    response = client.get("/api/v1/notifications", headers=token_headers(org_a, ["account:read"]))
    api_error(response, 403, "person_required")


def test_api_is_documented(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert set(paths["/api/v1/notifications"]) == {"get"}
    assert set(paths["/api/v1/notifications/read"]) == {"post"}
    assert set(paths["/api/v1/notifications/{notification_id}/read"]) == {"post"}


def test_the_persons_notifications_are_in_their_export_and_go_with_erasure(member_a, member_b):
    from portal import privacy

    # given a notification for each of two people
    _notify([member_a], parcel_id=1, link="/o/acme/")
    _notify([member_b], parcel_id=2)
    # when member_a's data is exported / then it holds theirs only, as stored (no text)
    [exported] = privacy.personal_data(member_a)["portal"]["notifications"]
    assert (exported["kind"], exported["params"], exported["link"]) == (
        KIND,
        {"parcel_id": 1},
        "/o/acme/",
    )
    # and erasure deletes theirs, and nobody else's
    summary = privacy.erase_personal_data(member_a)
    assert summary["notifications_deleted"] == 1
    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [member_b.pk]
