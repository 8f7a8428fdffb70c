"""Smoke test of a production build: serve a few pages with production settings and the
collected, hashed static files (WhiteNoise's manifest storage), DEBUG off.

The test settings use plain static storage, so a template that names a file collectstatic did
not collect, or a stylesheet whose url() points nowhere, only shows up here. Run it after
`collectstatic` into the same STATIC_ROOT, with the environment of the deploy check (.ci/run):

    DJANGO_SETTINGS_MODULE=portal.settings.production DATABASE_URL=sqlite:///... \\
    STATIC_ROOT=... [other production variables] .venv/bin/python scripts/smoke.py

It migrates the database DATABASE_URL names (use a fresh, throwaway one), creates one customer
and requests the pages through Django's test client over HTTPS. Exit status 1 on any failure.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

# Run as a file: the project root is the import root, as for manage.py.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HOST = os.environ.get("SMOKE_HOST", "portal.example.com")
# A collected file name carries a 12-hex-digit content hash before its extension.
HASHED_STATIC = re.compile(r"""(?:href|src)="(/static/[^"?#]+\.[0-9a-f]{12}\.[a-z0-9]+)\"""")
ANY_STATIC = re.compile(r"""(?:href|src)="(/static/[^"?#]+)\"""")


def main() -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from portal.models import Membership, Organisation, Role, User

    failures: list[str] = []

    def check(condition: bool, message: str) -> None:
        print(("ok   " if condition else "FAIL ") + message)
        if not condition:
            failures.append(message)

    check(not settings.DEBUG, "DEBUG is off")
    check(
        settings.STORAGES["staticfiles"]["BACKEND"].endswith("ManifestStaticFilesStorage"),
        f"static files use the manifest storage ({settings.STORAGES['staticfiles']['BACKEND']})",
    )
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    check(manifest.is_file(), f"collectstatic wrote {manifest}")

    call_command("migrate", interactive=False, verbosity=0)
    org = Organisation.objects.create(slug="smoke", name="Smoke Test Solar", country="DE")
    user = User.objects.create_user(email="smoke@smoke.example", password=None)
    Membership.objects.create(user=user, organisation=org, role=Role.ADMIN)

    # Production redirects plain HTTP to HTTPS, so every request says it came over TLS.
    client = Client(HTTP_HOST=HOST)

    def get(path: str):
        return client.get(path, secure=True)

    pages = {"home": "/", "sign-in": "/accounts/login/"}
    static_urls: set[str] = set()
    for name, path in pages.items():
        response = get(path)
        check(response.status_code == 200, f"{name} {path}: {response.status_code}")
        html = response.content.decode()
        static_urls.update(HASHED_STATIC.findall(html))
        unhashed = set(ANY_STATIC.findall(html)) - set(HASHED_STATIC.findall(html))
        check(not unhashed, f"{name} names only hashed static files (unhashed: {sorted(unhashed)})")

    check(bool(static_urls), "the pages reference hashed static files")
    for url in sorted(static_urls):
        response = get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        served = response.status_code == 200 and len(body) > 0
        check(served, f"static {url}: {response.status_code}, {len(body)} bytes")
        response.close()

    client.force_login(user)
    path = f"/o/{org.slug}/"
    response = get(path)
    check(response.status_code == 200, f"signed-in dashboard {path}: {response.status_code}")
    check(org.name in response.content.decode(), f"the dashboard names {org.name}")

    print(f"smoke: {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
