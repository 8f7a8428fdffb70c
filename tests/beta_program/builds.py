"""Builds made for tests: a small file in private storage (or an external link), expiring
`days_left` days from today."""

from __future__ import annotations

import datetime as dt

from django.core.files.base import ContentFile
from django.utils import timezone

from beta_program.programmes.models import Build


def make_build(programme, version="1.0-beta", days_left=90, **fields) -> Build:
    build = Build(
        programme=programme,
        version=version,
        expires_on=timezone.localdate() + dt.timedelta(days=days_left),
        **fields,
    )
    if not build.external_url:
        build.file.save(f"{version}.bin", ContentFile(b"firmware-bytes"), save=False)
    build.save()
    return build
