"""Private file storage: evidence, imports and community attachments are never reachable by URL.

They live outside MEDIA_ROOT (so neither `static()` in development nor a web server's /media/
alias serves them) and are handed out only by permission-checked views. In production a
`private` entry in STORAGES (e.g. a separate S3 bucket) takes over.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages


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
