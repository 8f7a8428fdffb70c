"""What collectstatic does to a running process's static files storage, for tests of what is
kept per process by the static files' names: a new manifest (the manifest storage's
`hashed_files`, replaced), from which `url` answers a new hashed name for one file."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage


def rename_static_file(monkeypatch: pytest.MonkeyPatch, name: str, hashed: str) -> None:
    original = staticfiles_storage.url
    manifest = {**getattr(staticfiles_storage, "hashed_files", {}), name: hashed}
    monkeypatch.setattr(staticfiles_storage, "hashed_files", manifest, raising=False)
    monkeypatch.setattr(
        staticfiles_storage,
        "url",
        lambda asked: f"/static/{hashed}" if asked == name else original(asked),
    )
