"""Shared by the CRM bridge's tests: a local receiver that verifies signatures, an endpoint
pointing at it, and a helper that publishes events in one transaction."""

from __future__ import annotations

import base64

import pytest
from django.db import transaction

from portal.crm.receiver import Receiver
from portal.events import publish
from portal.models import CrmEndpoint

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


@pytest.fixture
def receiver():
    with Receiver(SECRET) as r:
        yield r


@pytest.fixture
def endpoint(receiver):
    return CrmEndpoint.objects.create(name="CRM", url=receiver.url, secret=SECRET)


def emit(org, n: int, type_: str = "greenloop.test.happened", start: int = 0) -> list[str]:
    """Publish `n` events for `org` in one transaction; returns their ids in order."""
    with transaction.atomic():
        return [
            str(publish(type_, org, f"thing/{i}", {"n": i}).id) for i in range(start, start + n)
        ]
