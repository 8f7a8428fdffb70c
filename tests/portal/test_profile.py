"""The profile page (/accounts/profile/): name, language, time zone and notification e-mails;
the header's language switch storing the choice so it survives the next sign-in; pages in the
person's own time zone."""

from __future__ import annotations

import re

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone

from portal.middleware import TimeZoneMiddleware
from portal.models import User
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

PROFILE = "/accounts/profile/"
VALID = {
    "first_name": "Wei",
    "last_name": "Li",
    "preferred_language": "en",
    "time_zone": "Asia/Shanghai",
    "notification_email": "daily",
}


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(PROFILE)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/profile/"


def test_the_user_menu_links_the_profile(client, member_a):
    client.force_login(member_a)
    html = client.get("/notifications/").content.decode()
    assert '<a href="/accounts/profile/">Profile</a>' in html


def test_the_profile_shows_the_current_choices(client, member_a):
    # given a new account: notification e-mails immediately, the settings' time zone
    assert (member_a.notification_email, member_a.time_zone) == ("immediately", "UTC")
    client.force_login(member_a)
    html = client.get(PROFILE).content.decode()
    assert '<option value="UTC" selected>UTC (coordinated universal time)</option>' in html
    assert '<option value="Asia/Shanghai">China (Shanghai)</option>' in html
    assert re.search(r'name="notification_email" value="immediately"[^>]* checked>', html)
    # English readers see the given name first
    assert html.index('id="id_first_name"') < html.index('id="id_last_name"')


def test_chinese_readers_see_the_family_name_first(client, member_a):
    User.objects.filter(pk=member_a.pk).update(preferred_language="zh-hans")
    client.force_login(member_a)
    client.cookies["django_language"] = "zh-hans"
    html = client.get(PROFILE).content.decode()
    assert '<label for="id_last_name">姓' in html
    # and the time zones by the names of their countries and cities
    assert '<option value="Asia/Shanghai">中国（上海）</option>' in html
    assert html.index('id="id_last_name"') < html.index('id="id_first_name"')
    assert "通知邮件" in html


def test_saving_the_profile_stores_every_choice_and_applies_the_language(client, member_a):
    client.force_login(member_a)
    response = client.post(PROFILE, VALID | {"preferred_language": "zh-hans"})
    assert response.status_code == 302
    assert response["Location"] == PROFILE
    assert response.cookies["django_language"].value == "zh-hans"
    member_a.refresh_from_db()
    assert (
        member_a.first_name,
        member_a.last_name,
        member_a.preferred_language,
        member_a.time_zone,
        member_a.notification_email,
    ) == ("Wei", "Li", "zh-hans", "Asia/Shanghai", "daily")
    # the next page is in Chinese and confirms the change
    assert "您的个人资料已保存。" in client.get(PROFILE).content.decode()


def test_a_zone_outside_the_common_list_is_accepted(client, member_a):
    client.force_login(member_a)
    response = client.post(PROFILE, VALID | {"time_zone": "Pacific/Chatham"})
    assert response.status_code == 302
    member_a.refresh_from_db()
    assert member_a.time_zone == "Pacific/Chatham"
    # and offered in the select from then on
    assert '<option value="Pacific/Chatham" selected>' in client.get(PROFILE).content.decode()


@pytest.mark.parametrize(
    ("change", "field", "error"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "“Mars/Olympus_Mons” is not a time zone"),
        ({"time_zone": "localtime"}, "time_zone", "“localtime” is not a time zone"),
        ({"time_zone": ""}, "time_zone", "This field is required."),
        ({"preferred_language": "fr"}, "preferred_language", "Select a valid choice."),
        ({"notification_email": "hourly"}, "notification_email", "Select a valid choice."),
        ({"first_name": "x" * 151}, "first_name", "at most 150 characters"),
    ],
)
def test_invalid_choices_are_refused_per_field(client, member_a, change, field, error):
    client.force_login(member_a)
    response = client.post(PROFILE, VALID | change)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert error in errors[field][0]
    member_a.refresh_from_db()
    assert (member_a.time_zone, member_a.notification_email) == ("UTC", "immediately")


def test_chinese_error_for_a_bad_time_zone(client, member_a):
    client.force_login(member_a)
    client.cookies["django_language"] = "zh-hans"
    response = client.post(
        PROFILE, VALID | {"preferred_language": "zh-hans", "time_zone": "Nowhere"}
    )
    assert response.status_code == 400
    assert "“Nowhere”不是有效的时区。请从列表中选择。" in response.content.decode()


def _sign_in(client: Client, email: str):
    return client.post("/accounts/login/", {"login": email, "password": TEST_PASSWORD})


def test_the_language_switch_sticks_across_sign_in(member_a):
    # given a person whose stored language is English, signed in
    User.objects.filter(pk=member_a.pk).update(preferred_language="en")
    client = Client()
    assert _sign_in(client, "member@acme.example").status_code == 302
    # when they switch to Chinese in the header
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/notifications/"})
    assert response.status_code == 302
    assert response["Location"] == "/notifications/"
    # then the choice is stored
    assert User.objects.get(pk=member_a.pk).preferred_language == "zh-hans"
    # and after signing out and in again (a fresh browser, no language cookie) it is still Chinese
    client.post("/accounts/logout/")
    fresh = Client()
    signed_in = _sign_in(fresh, "member@acme.example")
    assert signed_in.cookies["django_language"].value == "zh-hans"
    assert '<html lang="zh-hans"' in fresh.get("/notifications/").content.decode()


def test_an_anonymous_language_switch_stores_nothing(client, member_a):
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "zh-hans"
    assert User.objects.get(pk=member_a.pk).preferred_language == ""


def test_an_unknown_language_is_not_stored(client, member_a):
    client.force_login(member_a)
    client.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    assert User.objects.get(pk=member_a.pk).preferred_language == ""


def _zone_seen(user) -> str:
    request = RequestFactory().get("/")
    request.user = user
    middleware = TimeZoneMiddleware(lambda r: HttpResponse(timezone.get_current_timezone_name()))
    return middleware(request).content.decode()


def test_pages_use_the_persons_time_zone(member_a):
    from django.contrib.auth.models import AnonymousUser

    member_a.time_zone = "Asia/Shanghai"
    assert _zone_seen(member_a) == "Asia/Shanghai"
    # a zone the system no longer knows, and anonymous visitors, get the settings' zone
    member_a.time_zone = "Gone/Away"
    assert _zone_seen(member_a) == "UTC"
    assert _zone_seen(AnonymousUser()) == "UTC"
    # and the zone is not left active for whatever runs next on this thread
    assert timezone.get_current_timezone_name() == "UTC"
