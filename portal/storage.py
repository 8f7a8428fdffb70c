"""Private file storage: evidence, imports and community attachments are never reachable by URL.

They live outside MEDIA_ROOT (so neither `static()` in development nor a web server's /media/
alias serves them) and are handed out only by permission-checked views. In production a
`private` entry in STORAGES (e.g. a separate S3 bucket) takes over.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages
from whitenoise.storage import CompressedManifestStaticFilesStorage


class PrivateFileSystemStorage(FileSystemStorage):
    def url(self, name):  # pragma: no cover - guard against accidental use in templates
        raise ValueError("Private files have no public URL; serve them through a view.")


def private_storage() -> Storage:
    if "private" in settings.STORAGES:
        return storages["private"]
    root = getattr(settings, "GREENLOOP_PRIVATE_ROOT", None)
    if root is None:
        media = Path(settings.MEDIA_ROOT)
        root = media.with_name(f"{media.name}-private")
    return PrivateFileSystemStorage(location=root, base_url=None)


class KeptUrlsManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Whitenoise's compressed manifest storage whose URLs are kept once worked out: the
    manifest is read when the process starts and never changes under it, and every page asks
    for the same few files (each lookup parses, looks up and quotes the name again)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._urls: dict[tuple[str, bool], str] = {}

    def url(self, name, force=False):
        key = (name, bool(force) or not settings.DEBUG)
        found = self._urls.get(key)
        if found is None:
            found = self._urls[key] = super().url(name, force)
        return found

    def post_process(self, *args, **kwargs):
        # collectstatic rewrites the manifest: URLs kept until then name old files.
        try:
            yield from super().post_process(*args, **kwargs)
        finally:
            self._urls.clear()
