from __future__ import annotations

from django.db import models


class IdempotencyRecord(models.Model):
    """The first response to an API request sent with an `Idempotency-Key`, kept so a repeat
    gets it back unchanged. Written in the same transaction as the work it describes
    (portal.idempotency). The table keeps the name it had in carbon, where the model began."""

    scope = models.CharField(max_length=100)
    key = models.CharField(max_length=200)
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "carbon_idempotencyrecord"
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_once_per_scope")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
