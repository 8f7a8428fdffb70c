"""The demo's CRM endpoint and the `crm_receiver` command a newcomer watches events with."""

from __future__ import annotations

import io
import threading
import time

import pytest
from django.core.management import call_command

from portal.crm import delivery
from portal.models import CrmEndpoint
from tests.crm.conftest import emit
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_a_disabled_endpoint_once(demo_seed):
    endpoint = CrmEndpoint.objects.get()
    assert endpoint.name == "Demo CRM receiver"
    assert endpoint.url == "http://127.0.0.1:9000/hook"
    assert endpoint.is_active is False
    secret = endpoint.secret
    call_command("seed_demo", stdout=io.StringIO())
    assert list(CrmEndpoint.objects.values_list("secret", flat=True)) == [secret]


@pytest.mark.synthetic_events
def test_crm_receiver_prints_what_arrives(monkeypatch):
    from portal.crm import receiver as receiver_module
    from portal.management.commands import crm_receiver

    endpoint = CrmEndpoint.objects.create(name="Demo CRM receiver", url="http://127.0.0.1:1/hook")
    started = {}
    real_receiver = receiver_module.Receiver

    def spy(*args, **kwargs):
        started["r"] = real_receiver(*args, **{**kwargs, "port": 0})
        return started["r"]

    monkeypatch.setattr(crm_receiver, "Receiver", spy)
    out = io.StringIO()
    stop = threading.Event()

    def until_stopped():
        stop.wait(10)
        raise KeyboardInterrupt

    monkeypatch.setattr(crm_receiver, "wait_until_interrupted", until_stopped)
    # The secret is passed: the command's own thread has its own database connection, which
    # does not see this test's uncommitted endpoint.
    thread = threading.Thread(
        target=call_command,
        args=("crm_receiver",),
        kwargs={"stdout": out, "secret": endpoint.secret},
    )
    thread.start()
    deadline = time.monotonic() + 10
    while "r" not in started or started["r"].server is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    endpoint.url = started["r"].url
    endpoint.save()
    org = OrganisationFactory()
    [event_id] = emit(org, 1)
    delivery.run_pass()
    started["r"].wait_for(1)
    stop.set()
    thread.join(10)
    text = out.getvalue()
    assert "Listening on http://127.0.0.1:" in text
    assert f'"id": "{event_id}", "type": "greenloop.test.happened"' in text
    assert "1 events, 0 duplicates, 0 bad signatures." in text


def test_crm_receiver_without_an_endpoint_says_what_to_do():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="No CRM endpoint named 'Nope'"):
        call_command("crm_receiver", endpoint="Nope")
