"""A real Celery worker against Redis picks up work enqueued after commit."""

import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from celery.result import EagerResult
from django.core import mail

from portal import actions
from portal.celery import app
from portal.models import Invitation
from tests.conftest import REDIS_URL

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _forget_broker_and_backend() -> None:
    # Celery caches the result backend and broker pool on first use; an eager task run by an
    # earlier test in this process would otherwise keep the memory broker and no result backend.
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)
    app._pool = None
    if "amqp" in app.__dict__:
        app.amqp._producer_pool = None
        # The default queue and the router are cached too; a test may have changed the queue.
        for cached in ("default_queue", "queues", "router"):
            app.amqp.__dict__.pop(cached, None)


@pytest.fixture
def redis_worker():
    # A queue of this test's own: other test processes and runs on the machine share the Redis
    # database, and a worker of theirs must not take these tasks (nor this one theirs).
    queue = f"greenloop-test-{uuid.uuid4().hex[:12]}"
    keys = ("broker_url", "result_backend", "task_always_eager", "task_default_queue")
    saved = {k: app.conf[k] for k in keys}
    app.conf.update(
        broker_url=REDIS_URL,
        result_backend=REDIS_URL,
        task_always_eager=False,
        task_default_queue=queue,
    )
    _forget_broker_and_backend()
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, shutdown_timeout=10, queues=[queue]
        ):
            yield
    finally:
        app.conf.update(saved)
        _forget_broker_and_backend()


def test_invitation_email_is_sent_by_a_worker(redis_worker, admin_a, org_a):
    # given a running worker / when an admin invites someone (task enqueued on commit)
    invitation = actions.invite_member(org_a, "new.colleague@acme.example", "member", by=admin_a)
    # then the worker sends the e-mail with the invitation link
    deadline = time.monotonic() + 15
    while not mail.outbox and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.colleague@acme.example"]
    assert f"/invitations/{invitation.key}/" in mail.outbox[0].body
    assert Invitation.objects.get(pk=invitation.pk).status == "pending"


def test_the_task_skips_an_invitation_that_was_withdrawn(redis_worker, admin_a, org_a):
    # given an invitation withdrawn before its e-mail went out
    invitation = actions.invite_member(org_a, "late@acme.example", "member", by=admin_a)
    deadline = time.monotonic() + 15
    while not mail.outbox and time.monotonic() < deadline:
        time.sleep(0.05)
    mail.outbox.clear()
    actions.revoke_invitation(invitation, by=admin_a)
    # when the task runs again (a redelivery)
    from portal.tasks import send_invitation_email

    async_result = send_invitation_email.delay(invitation.pk, "http://x/", "en")
    # then the worker (not an eager in-process call) reports that nothing was sent
    assert not isinstance(async_result, EagerResult)
    assert async_result.get(timeout=15) is False
    assert mail.outbox == []
