"""Uploaded images: a pixel cap checked before anything decodes them, and thumbnails for display.

A PNG of 100 KB can declare 30000 x 30000 pixels: 3.6 GB once decoded, in the server that
checks it and in every browser that shows it. Pillow reads the dimensions from the header
without decoding, so every image upload (community attachments, green-power evidence) goes
through `check_image` first, and Wagtail's image uploads use the same limit
(WAGTAILIMAGES_MAX_IMAGE_PIXELS). `GREENLOOP_MAX_IMAGE_PIXELS` is the one setting.

Images shown inline are served as a thumbnail (at most THUMBNAIL_MAX_SIDE pixels on the long
side, made once at upload), with the original available as a download.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from portal.exceptions import PortalError

DEFAULT_MAX_IMAGE_PIXELS = 40_000_000
THUMBNAIL_MAX_SIDE = 1600
THUMBNAIL_CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg"}


class ImageRefused(PortalError):
    code = "image_refused"
    status = 400


@dataclass(frozen=True)
class CheckedImage:
    width: int
    height: int


def max_image_pixels() -> int:
    return getattr(settings, "GREENLOOP_MAX_IMAGE_PIXELS", DEFAULT_MAX_IMAGE_PIXELS)


def limit_pillow() -> None:
    """Make Pillow itself refuse to open anything far over the cap (it raises at twice
    MAX_IMAGE_PIXELS), so no code path in the process decodes a bomb, even one that skipped
    `check_image`. Called once at start-up (portal.apps)."""
    Image.MAX_IMAGE_PIXELS = max_image_pixels()


def check_image(
    upload, *, name: str, field: str, error: type[PortalError] = ImageRefused
) -> CheckedImage:
    """The image's size, read from its header; raises `error` (naming `field` and the limit)
    for an image over the pixel cap, before any pixel is decoded, or for a file Pillow cannot
    read. The upload is left at its start."""
    limit = max_image_pixels()
    too_large = error(
        _("%(name)s is too large: images may have at most %(limit)s megapixels.")
        % {"name": name, "limit": f"{limit / 1_000_000:g}"},
        field=field,
        code="image_too_large",
    )
    upload.seek(0)
    try:
        # Image.open reads the header only; Pillow refuses far larger images by itself.
        with Image.open(upload) as image:
            width, height = image.size
            if width * height > limit:
                raise too_large
            image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise too_large from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise error(
            _("%(name)s could not be read as an image.") % {"name": name},
            field=field,
            code="image_corrupt",
        ) from exc
    finally:
        upload.seek(0)
    return CheckedImage(width=width, height=height)


def thumbnail(upload, *, max_side: int = THUMBNAIL_MAX_SIDE) -> ContentFile | None:
    """A copy at most `max_side` pixels on its long side (JPEG for JPEG photos, PNG for the
    rest, turned upright, without metadata), or None when the image is small enough to show as
    it is. Only for images that passed `check_image`. The upload is left at its start."""
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            if max(image.size) <= max_side:
                return None
            kind = "jpg" if image.format == "JPEG" else "png"
            # thumbnail() lets the JPEG decoder downscale while decoding (draft mode).
            image.thumbnail((max_side, max_side))
            small = ImageOps.exif_transpose(image)
            if kind == "jpg" and small.mode not in ("RGB", "L"):
                small = small.convert("RGB")
            elif kind == "png" and small.mode not in ("RGB", "RGBA", "L", "LA", "P"):
                small = small.convert("RGBA")
            buffer = io.BytesIO()
            if kind == "jpg":
                small.save(buffer, "JPEG", quality=85, optimize=True)
            else:
                small.save(buffer, "PNG", optimize=True)
    finally:
        upload.seek(0)
    return ContentFile(buffer.getvalue(), name=f"thumbnail.{kind}")
