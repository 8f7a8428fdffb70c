"""Headless Chromium against pytest-django's live server.

The system Chromium is used (no browser downloads). Without it the journeys are skipped with the
reason, except in CI, where a missing browser is a failure.
"""

import io
import os
import re
from importlib import import_module
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.ci import in_ci

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make around
# it are ordinary synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path(os.environ.get("GREENLOOP_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
IN_CI = in_ci()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        reason = f"Chromium not found at {CHROMIUM} (install Debian's chromium package)"
        if IN_CI:
            pytest.fail(f"CI requires the end-to-end browser: {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait as long as actions do (the context's 30 s below): their own default is 5 s,
    # and under CI's load a debounced fetch (the similar ideas under a title being typed) took
    # longer than that once. A broken page still fails, only later.
    expect.set_options(timeout=30_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    # Generous: CI runs these beside the rest of the suite on two shared cores, where a Wagtail
    # editor page can take more than 10 s to settle; a journey that hangs still fails.
    context.set_default_timeout(30_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def snap(request, page):
    """snap("step") saves a full-page screenshot as test-artifacts/e2e/<test>--NN-step.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    test_name = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name)
    for old in ARTIFACTS.glob(f"{test_name}--*.png"):
        old.unlink()
    counter = iter(range(1, 100))

    def save(step: str) -> None:
        page.screenshot(
            path=str(ARTIFACTS / f"{test_name}--{next(counter):02d}-{step}.png"), full_page=True
        )

    return save


def _restore_wagtail_rows() -> None:
    """Recreate what Wagtail's and portal.home's migrations insert (root collection, root page,
    home page and site): an earlier transactional test's flush removed them, and seed_demo
    builds on them."""
    from django.apps import apps
    from wagtail.models import Collection, Locale, Page

    if not Collection.objects.exists():
        Collection.add_root(name="Root")
    if not Page.objects.exists():
        if not Locale.objects.exists():
            Locale.objects.create(language_code="en")
        Page.add_root(title="Root", slug="root")
        import_module("portal.home.migrations.0002_create_homepage").create_homepage(apps, None)


@pytest.fixture
def wagtail_rows() -> None:
    """The admin home's site summary needs Wagtail's root page (see _restore_wagtail_rows)."""
    _restore_wagtail_rows()


@pytest.fixture
def demo(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    _restore_wagtail_rows()
    call_command("seed_demo", stdout=io.StringIO())
