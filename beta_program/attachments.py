"""What the two wings' attachments share (the boards' `IdeaAttachment`, the programmes'
`FeedbackAttachment`): a screenshot or PDF in private storage, checked by content
(portal.attachments) before it is saved, with its name, type, size and uploader."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.conf import settings
from django.db import models
from django.utils import timezone

from portal.storage import private_storage


def private_upload_path(directory: str, owner_id: int | None, filename: str) -> str:
    """`directory/<owner id>/<random hex>/<filename>`: the random directory keeps the stored
    name from revealing, or colliding with, another owner's file of the same name."""
    return f"{directory}/{owner_id}/{uuid.uuid4().hex}/{filename}"


def private_file_field(upload_to: Callable[[models.Model, str], str]) -> models.FileField:
    """An attachment's file, in private storage. Each concrete model declares it with its own
    `upload_to` function (the migrations name those functions, so they stay where they are)."""
    return models.FileField(upload_to=upload_to, storage=private_storage, max_length=300)


class Attachment(models.Model):
    """An attached file's record. A concrete attachment adds the foreign key to what it is
    attached to (related name `attachments`) and `file = private_file_field(...)`."""

    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name
