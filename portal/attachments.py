"""Attachment checks every plugin shares: images and PDFs only, by their content, within a size
limit.

The content decides the type: a file's first bytes must be a PNG, JPEG, GIF, WebP or PDF
signature that agrees with its name, images must open (Pillow) within the pixel cap
(`portal.images`), and PDFs must end like PDFs.
A script renamed to .png, or a PNG renamed to .pdf, is refused. An attachment shown as an image
in Markdown must be named by its canonical path (`is_route_path`).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

from django.core.files import File
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _

from portal import images
from portal.exceptions import PortalError

# Content signature -> (kind, content type).
SIGNATURES = (
    (b"%PDF-", "pdf", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
    (b"GIF87a", "gif", "image/gif"),
    (b"GIF89a", "gif", "image/gif"),
)
EXTENSIONS = {
    "pdf": "pdf",
    "png": "png",
    "jpg": "jpg",
    "jpeg": "jpg",
    "gif": "gif",
    "webp": "webp",
}


@dataclass(frozen=True)
class CheckedFile:
    kind: str
    content_type: str
    size: int


def check(
    upload: File,
    *,
    max_bytes: int,
    error: type[PortalError],
    field: str = "attachments",
) -> CheckedFile:
    """The file's real kind, or `error` (naming `field`, the file and what was expected).
    Each plugin passes its own error class and size limit."""
    name = getattr(upload, "name", "") or "file"
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
    if size > max_bytes:
        raise error(
            _("%(name)s is %(size).1f MB; attachments may be at most %(limit)d MB.")
            % {"name": name, "size": size / 1024 / 1024, "limit": max_bytes // 1024 // 1024},
            field=field,
            code="attachment_too_large",
        )
    if size == 0:
        raise error(_("%(name)s is empty.") % {"name": name}, field=field, code="attachment_empty")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    detected = next(
        ((kind, ctype) for magic, kind, ctype in SIGNATURES if head.startswith(magic)), None
    )
    if detected is None and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        detected = ("webp", "image/webp")
    if detected is None:
        raise error(
            _("%(name)s is not an image (PNG, JPEG, GIF, WebP) or a PDF.") % {"name": name},
            field=field,
            code="attachment_type",
        )
    kind, content_type = detected
    claimed = EXTENSIONS.get(name.rsplit(".", 1)[-1].lower()) if "." in name else None
    if claimed != kind:
        raise error(
            _("%(name)s is named as another kind of file than it contains (%(kind)s).")
            % {"name": name, "kind": kind.upper()},
            field=field,
            code="attachment_disguised",
        )
    if kind == "pdf":
        _check_pdf(upload, name, field, error)
    else:
        # portal's check reads the size from the header and refuses decompression bombs before
        # anything decodes them.
        images.check_image(upload, name=name, field=field, error=error)
    return CheckedFile(kind=kind, content_type=content_type, size=size)


def _check_pdf(upload, name: str, field: str, error: type[PortalError]) -> None:
    upload.seek(0, 2)
    size = upload.tell()
    upload.seek(max(0, size - 1024))
    tail = upload.read()
    upload.seek(0)
    if b"%%EOF" not in tail:
        raise error(
            _("%(name)s is not a complete PDF file.") % {"name": name},
            field=field,
            code="attachment_corrupt",
        )


# A stand-in origin for resolving URLs the way a reader's browser would; it never leaves here.
_ORIGIN = "https://greenloop.invalid"


def is_route_path(value: str, route: str) -> bool:
    """True only for the canonical path of one object of the URL pattern named `route` (an
    app's attachment view, e.g. `/community/attachments/<id>/`), as an <img src> in Markdown.

    A prefix check is not enough: `/community/attachments/../../switch/` starts with the prefix,
    and the reader's browser fetches `/switch/` with their cookies. So the URL is first resolved
    as a browser would (backslashes read as slashes, `//host`, scheme in any case, dot segments),
    then percent-decoded as the server would and resolved against the URL patterns; only the
    named route passes, and only when the value is already that route's canonical spelling
    (any other spelling is a place where browser and server might disagree).
    """
    if not value or any(ch.isspace() or not ch.isprintable() for ch in value):
        # Browsers drop tabs and newlines inside URLs, which would reassemble a hidden path.
        return False
    resolved = urlsplit(urljoin(f"{_ORIGIN}/", value.replace("\\", "/")))
    if f"{resolved.scheme}://{resolved.netloc}" != _ORIGIN or resolved.query or resolved.fragment:
        return False
    # Decoding can reveal more dot segments or slashes (%2e%2e, %2f): normalise once more.
    path = unquote(resolved.path)
    normalised = posixpath.normpath(path) + ("/" if path.endswith("/") else "")
    try:
        match = resolve(normalised)
    except Resolver404:
        return False
    if match.view_name != route:
        return False
    return value == reverse(route, kwargs=match.kwargs)
