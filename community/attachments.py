"""Attachment checks for posts: portal's shared content checks (`portal.attachments`) with the
community's size limit and error."""

from __future__ import annotations

from django.core.files import File

from community import app_settings
from community.exceptions import CommunityError
from portal.attachments import CheckedFile, is_route_path
from portal.attachments import check as check_content


def check(upload: File) -> CheckedFile:
    """The file's real kind, or CommunityError naming the file and what was expected."""
    return check_content(
        upload, max_bytes=app_settings.attachment_max_bytes(), error=CommunityError
    )


ATTACHMENT_ROUTE = "community:attachment"


def is_attachment_src(value: str) -> bool:
    """An image in a post loads only from one community attachment's canonical path."""
    return is_route_path(value, ATTACHMENT_ROUTE)
