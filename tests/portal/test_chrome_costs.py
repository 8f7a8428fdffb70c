"""The page chrome's shortcuts: its links reversed once per process, static file URLs looked
up once per storage, and a list's relative times translated once per distinct phrase. Each
must give exactly what the long way gives, and notice what would change it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.http import HttpResponse
from django.test import override_settings
from django.urls import clear_script_prefix, path, reverse, set_script_prefix
from django.utils import translation

from portal.row_links import fixed_reverse
from portal.templatetags.portal_time import ages, ago

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)


def _view(request):
    return HttpResponse("")


# This module is also a URLconf in which "set_language" lives somewhere else.
urlpatterns = [path("elsewhere/setlang/", _view, name="set_language")]


def test_a_fixed_link_is_the_reversed_url():
    # given a route without arguments and one with an organisation's slug
    # then the kept paths are what reverse() gives, asked once or many times
    for _ in range(3):
        assert fixed_reverse("portal:profile") == reverse("portal:profile")
        assert fixed_reverse("portal:members", org_slug="acme") == reverse(
            "portal:members", kwargs={"org_slug": "acme"}
        )
    assert fixed_reverse("portal:members", org_slug="globex") == "/o/globex/members/"


def test_a_fixed_link_follows_the_urlconf_and_the_script_prefix():
    # given the link kept under the project's URLconf
    assert fixed_reverse("set_language") == "/i18n/setlang/"
    # when another URLconf serves, or the site is mounted under a prefix
    with override_settings(ROOT_URLCONF=__name__):
        # then each gets its own path, not the one kept before
        assert fixed_reverse("set_language") == "/elsewhere/setlang/"
    set_script_prefix("/portal/")
    try:
        assert fixed_reverse("set_language") == "/portal/i18n/setlang/"
    finally:
        clear_script_prefix()
    assert fixed_reverse("set_language") == "/i18n/setlang/"


def test_relative_times_of_a_list_read_as_each_alone():
    # given a list's times: repeats, a missing one, just now, and other units
    times = [
        NOW - dt.timedelta(days=800),
        None,
        NOW - dt.timedelta(seconds=10),
        NOW - dt.timedelta(days=790),
        NOW - dt.timedelta(minutes=5),
        NOW - dt.timedelta(days=1),
        NOW - dt.timedelta(minutes=5, seconds=20),
        NOW - dt.timedelta(seconds=30),
    ]
    for language in ("en", "zh-hans"):
        with translation.override(language):
            # then every phrase is the one `ago` gives alone, in the active language
            assert ages(times, NOW) == [ago(value, NOW) for value in times]
    with translation.override("zh-hans"):
        assert ages(times[:3], NOW) == ["2年前", "", "刚刚"]


@pytest.fixture
def manifest_static(tmp_path, settings):
    source = tmp_path / "source"
    source.mkdir()
    settings.STATICFILES_DIRS = [source]
    # Only this directory: the apps' own files (Wagtail's admin ...) made each collectstatic
    # here take half a minute, compressing thousands of files the test never asks about.
    settings.STATICFILES_FINDERS = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "portal.storage.KeptUrlsManifestStaticFilesStorage"},
    }
    return source


def test_static_urls_are_kept_until_collectstatic_writes_a_new_manifest(manifest_static):
    # given a collected stylesheet whose URL was asked for
    (manifest_static / "site.css").write_text("body { color: green; }")
    call_command("collectstatic", interactive=False, verbosity=0)
    first = staticfiles_storage.url("site.css")
    assert first.startswith("/static/site.")
    assert first != "/static/site.css"
    assert staticfiles_storage.url("site.css") == first
    # when the file changes and is collected again by this process
    (manifest_static / "site.css").write_text("body { color: blue; }")
    call_command("collectstatic", interactive=False, verbosity=0)
    # then the URL names the new file, as the manifest does
    second = staticfiles_storage.url("site.css")
    assert second != first
    assert second == f"/static/{staticfiles_storage.stored_name('site.css')}"
