import datetime as dt
import functools
import io
import os
import socket
import uuid
from urllib.parse import urlparse

# Imported here, before any test starts a thread: imported lazily (by st.from_regex) while
# another thread also parses source, CPython 3.11.7's ast.parse fails with "SystemError: AST
# constructor recursion depth mismatch" (python/cpython#106905), as one whole-suite run did.
import hypothesis.strategies._internal.regex  # noqa: F401
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections, transaction
from django.db.backends.postgresql.operations import DatabaseOperations
from django.db.backends.signals import connection_created
from django.utils import translation

from portal.models import Role
from tests import db_template
from tests.ci import in_ci
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.properties import load_profile

# In CI every skip or xfail outside tests/ci.py ALLOWED_CI_SKIPS fails the run.
pytest_plugins = ["tests.ci_plugin"]

IN_CI = in_ci()
# Before any test module is imported, so every @settings inherits the profile.
HYPOTHESIS_PROFILE = load_profile()


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")


@functools.cache
def _redis_unreachable() -> str:
    parsed = urlparse(REDIS_URL)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=1):
            return ""
    except OSError:
        return f"no Redis reachable at {REDIS_URL}"


@functools.cache
def _rabbitmq_unreachable() -> str:
    parsed = urlparse(RABBITMQ_URL)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 5672), timeout=1):
            return ""
    except OSError:
        return f"no RabbitMQ reachable at {parsed.hostname}:{parsed.port or 5672}"


def pytest_generate_tests(metafunc):
    # A race that happened to interleave harmlessly once may not the next time: tests marked
    # `race` run once per repeat, each with fresh fixtures and database (the parameter only
    # names the round in the test id).
    repeats = settings.GREENLOOP_RACE_REPEATS
    if repeats > 1 and metafunc.definition.get_closest_marker("race"):
        metafunc.fixturenames.append("race_round")
        metafunc.parametrize("race_round", range(1, repeats + 1), ids=lambda n: f"round{n}")


def pytest_runtest_setup(item):
    # Ahead of the test's fixtures: the shared demo seed is there for a test that asks for it
    # and gone for any other (_DemoSeed).
    _DEMO_SEED.before(item)
    missing = {
        "postgres": getattr(settings, "GREENLOOP_TEST_POSTGRES_REASON", ""),
        "redis": _redis_unreachable() if item.get_closest_marker("redis") else "",
        "rabbitmq": _rabbitmq_unreachable() if item.get_closest_marker("rabbitmq") else "",
    }
    for marker, reason in missing.items():
        if reason and item.get_closest_marker(marker):
            if IN_CI:
                # In CI a service-backed test that cannot run is a failure, never a quiet skip.
                pytest.fail(f"CI requires {marker} for this test: {reason}", pytrace=False)
            pytest.skip(f"needs {marker}: {reason}")


def clear_cache() -> None:
    """Delete this run's cache entries: only its own keys on a shared Redis (other runs on the
    machine keep theirs), everything in process memory."""
    from django.core.cache import cache

    prefix = getattr(settings, "GREENLOOP_TEST_CACHE_PREFIX", None)
    if prefix is None:
        cache.clear()
        return
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def frozen_minute(monkeypatch):
    """Pin the audit counters' clock to 2026-03-02 10:10:05 UTC; `move(seconds)` moves it."""
    from portal import audit

    moment = {"now": dt.datetime(2026, 3, 2, 10, 10, 5, tzinfo=dt.UTC)}
    monkeypatch.setattr(audit, "_now", lambda: moment["now"])

    def move(seconds: int) -> None:
        moment["now"] = moment["now"] + dt.timedelta(seconds=seconds)

    return move


@pytest.fixture(autouse=True)
def _default_language():
    # A request in another language (LocaleMiddleware) or translation.activate() leaves that
    # language on the thread; without this the next test's messages depend on which test ran
    # before it, which differs under pytest-xdist.
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate-limit and audit counters outlive a test's rolled-back transaction: without this, one
    # test's failed sign-ins would lock the next test out.
    clear_cache()
    yield
    clear_cache()


@pytest.fixture(autouse=True)
def _events_keep_their_contract(request):
    """Every outbox row any test writes must match tests/event_contracts.py.

    Checked on the row itself (post_save), whichever module published it; a violation is raised
    where the event is written and also failed at teardown, in case a caller swallowed it. Tests of
    the event bus itself publish made-up types and are marked `synthetic_events`: for them
    publish() does not check the data against the catalogue's schemas either."""
    if request.node.get_closest_marker("synthetic_events"):
        from django.test import override_settings

        with override_settings(GREENLOOP_VALIDATE_EVENTS=False):
            yield
        return
    from django.db.models.signals import post_save

    from portal.models import OutboxEvent
    from tests.event_contracts import contract_violation

    violations: list[str] = []
    # A test of the check itself clears this after asserting the refusal.
    request.node.event_contract_violations = violations

    def check(sender, instance, created, **kwargs):
        if created:
            problem = contract_violation(instance.type, instance.subject, instance.data)
            if problem:
                violations.append(problem)
                raise AssertionError(f"Event contract: {problem}")

    post_save.connect(check, sender=OutboxEvent, weak=False, dispatch_uid="event-contract")
    try:
        yield
    finally:
        post_save.disconnect(sender=OutboxEvent, dispatch_uid="event-contract")
    if violations:
        pytest.fail("Event contract: " + "; ".join(violations), pytrace=False)


def _django_db_group(item) -> int:
    """pytest-django's ordering group of a test: 0 in a rolled-back transaction, 1 transactional
    (flushes the tables), 2 without the database (pytest_django.plugin's get_order_number)."""
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", [])
    if (
        marker is not None
        and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences"))
    ) or {"transactional_db", "live_server"} & set(fixtures):
        return 1
    if marker is not None or "db" in fixtures:
        return 0
    return 2


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    # The demo seed below is shared by every test that asks for it (`demo_seed`) and stays in
    # the database while such tests follow one another; so those tests run together, last of the
    # tests in a rolled-back transaction (pytest-django's first group), before any transactional
    # test flushes the tables (and Wagtail's root page, which seed_demo builds on). The other
    # tests keep their order and start from an empty database. Under xdist each worker then
    # seeds once or twice a run, not once per module (six modules: ~16 s of CPU each).
    seeded = [item for item in items if "demo_seed" in item.fixturenames]
    if not seeded:
        return
    rest = [item for item in items if "demo_seed" not in item.fixturenames]
    at = next((i for i, item in enumerate(rest) if _django_db_group(item) > 0), len(rest))
    items[:] = rest[:at] + seeded + rest[at:]


class _DemoSeed:
    """The worker's seeded demo: `seed_demo` run inside a transaction that stays open, so each
    test's own transaction nests in it (a savepoint, rolled back after the test). Before each
    test (pytest_runtest_setup, ahead of its fixtures) it is made present for a test that asks
    for it and rolled back for any other, so that one starts from an empty database."""

    def __init__(self) -> None:
        self.blocker = None
        self.outer: transaction.Atomic | None = None
        self.output = ""

    def ensure(self) -> None:
        if self.outer is not None:
            return
        with self.blocker.unblock():
            outer = transaction.atomic()
            outer.__enter__()
            out = io.StringIO()
            try:
                call_command("seed_demo", stdout=out)
            except BaseException:
                transaction.set_rollback(True)
                outer.__exit__(None, None, None)
                raise
        self.outer, self.output = outer, out.getvalue()

    def discard(self) -> None:
        if self.outer is not None:
            outer, self.outer = self.outer, None
            with self.blocker.unblock():
                transaction.set_rollback(True)
                outer.__exit__(None, None, None)

    def before(self, item) -> None:
        if self.blocker is None:
            return  # nothing seeded yet; the first seeded test seeds in _demo_seed_kept
        if "demo_seed" in item.fixturenames:
            self.ensure()
        else:
            self.discard()


_DEMO_SEED = _DemoSeed()


@pytest.fixture(scope="session")
def _demo_seed_kept(django_db_setup, django_db_blocker):
    # Session-scoped, so the first seed is made before that test's own transaction (`db`) opens;
    # torn down before django_db_setup, which closes the connections and drops the database.
    _DEMO_SEED.blocker = django_db_blocker
    _DEMO_SEED.ensure()
    yield _DEMO_SEED
    _DEMO_SEED.discard()
    _DEMO_SEED.blocker = None


@pytest.fixture
def demo_seed(_demo_seed_kept, db) -> str:
    """The whole demo (`seed_demo`) is in the database; the value is the command's output.

    The seed takes seconds, so it is made once for a run of seeded tests, not once per test:
    every test starts from the freshly seeded data whatever earlier tests changed (each test's
    own transaction is rolled back)."""
    assert _demo_seed_kept.outer is not None, "the demo seed was rolled back before this test"
    return _demo_seed_kept.output


def _xdist_controller(config) -> bool:
    return bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")


def pytest_configure(config):
    # The xdist controller names the run before it starts workers, so that it knows which
    # template database the workers clone (tests/db_template.py) and can drop it at the end;
    # it starts migrating the template now, while the workers start and collect.
    if _xdist_controller(config):
        if not config.option.testrunuid:
            config.option.testrunuid = uuid.uuid4().hex
        if not config.option.reuse_db or config.option.create_db:
            config.stash[_TEMPLATE_BUILD] = db_template.start_build(config.option.testrunuid)


_TEMPLATE_BUILD = pytest.StashKey["subprocess.Popen[bytes] | None"]()


def pytest_unconfigure(config):
    if _xdist_controller(config):
        db_template.stop_build(config.stash.get(_TEMPLATE_BUILD, None))
        db_template.drop_template(config.option.testrunuid)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Under pytest-xdist on PostgreSQL, workers clone one migrated template database instead
    of each migrating its own (tests/db_template.py)."""
    with db_template.clone_for_workers(os.environ.get("PYTEST_XDIST_TESTRUNUID")):
        yield


# The user the suite signs in as (TEST_DATABASE_URL), noted before any test changes settings.
_SUPERUSER: list[str | None] = [None]


def _as_app_role(sender, connection, **kwargs):
    # Only the superuser's connections switch; a test signing in as another role keeps it.
    if connection.vendor == "postgresql" and connection.settings_dict["USER"] == _SUPERUSER[0]:
        with connection.cursor() as cursor:
            cursor.execute(f"SET ROLE {settings.GREENLOOP_TEST_DB_ROLES['app']}")
            # Test code outside a request arranges and inspects every organisation's rows, as a
            # task or command does; requests narrow it (TenantScopeMiddleware) and restore it.
            cursor.execute("SELECT set_config('greenloop.org_ids', 'all', false)")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """On PostgreSQL, after migrating as the superuser, create the owner and application roles
    (handing the tables to the owner) and run every test as the application role: the product
    must work with row privileges only, and the append-only triggers must hold against it.

    Only emptying the tables between transactional tests (TRUNCATE, which the application role
    may not do) runs as the session's superuser, like any maintenance."""
    roles = getattr(settings, "GREENLOOP_TEST_DB_ROLES", None)
    if roles is None:
        yield
        return
    with django_db_blocker.unblock():
        call_command("create_db_roles", owner=roles["owner"], app=roles["app"], verbosity=0)
    _SUPERUSER[0] = connections["default"].settings_dict["USER"]
    flush = DatabaseOperations.execute_sql_flush

    def flush_as_superuser(self, sql_list):
        with self.connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
        try:
            flush(self, sql_list)
        finally:
            _as_app_role(None, self.connection)

    DatabaseOperations.execute_sql_flush = flush_as_superuser
    connections.close_all()
    connection_created.connect(_as_app_role)
    yield
    # Dropping the test database is the superuser's job again.
    connection_created.disconnect(_as_app_role)
    DatabaseOperations.execute_sql_flush = flush
    connections.close_all()


@pytest.fixture
def org_a(db):
    return OrganisationFactory(slug="acme", name="Acme Solar", country="DE")


@pytest.fixture
def org_b(db):
    return OrganisationFactory(slug="globex", name="Globex Power", country="CN")


def _member(org, role, email):
    user = UserFactory(email=email)
    MembershipFactory(user=user, organisation=org, role=role)
    return user


@pytest.fixture
def admin_a(org_a):
    return _member(org_a, Role.ADMIN, "admin@acme.example")


@pytest.fixture
def member_a(org_a):
    return _member(org_a, Role.MEMBER, "member@acme.example")


@pytest.fixture
def viewer_a(org_a):
    return _member(org_a, Role.VIEWER, "viewer@acme.example")


@pytest.fixture
def admin_b(org_b):
    return _member(org_b, Role.ADMIN, "admin@globex.example")


@pytest.fixture
def member_b(org_b):
    return _member(org_b, Role.MEMBER, "member@globex.example")


@pytest.fixture
def consultant(org_a, org_b):
    """A member of both Acme and Globex (like the demo's consultant): the switcher is theirs."""
    user = UserFactory(email="consultant@audit.example")
    MembershipFactory(user=user, organisation=org_a, role=Role.MEMBER)
    MembershipFactory(user=user, organisation=org_b, role=Role.MEMBER)
    return user


# --- Shared by the portal foundation tests (invitations, API, audit, MFA, events).


@pytest.fixture
def enable_totp():
    """Turn on TOTP two-factor sign-in for a user, as allauth does when they finish the setup."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    def enable(user):
        from allauth.mfa.models import Authenticator

        existing = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
        instance = existing or TOTP.activate(user, generate_totp_secret()).instance
        user._greenloop_mfa = True  # what the next request would find
        return instance

    return enable


def _staff(email, role, **extra):
    from django.contrib.auth.models import Group

    from portal.staff_roles import ensure_staff_groups

    ensure_staff_groups()
    user = UserFactory(email=email, is_staff=True, **extra)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def staff_success(db, enable_totp):
    """A customer-success staff member with TOTP on, so the admin lets them in."""
    from portal.staff_roles import StaffRole

    user = _staff("success@greenloop.example", StaffRole.CUSTOMER_SUCCESS)
    enable_totp(user)
    return user


@pytest.fixture
def superuser(db, enable_totp):
    """A vendor superuser with TOTP on."""
    user = _staff("root@greenloop.example", None, is_superuser=True)
    enable_totp(user)
    return user


@pytest.fixture
def staff_without_2fa(db):
    """One account per vendor staff role plus a superuser, none with a second factor yet."""
    from portal.staff_roles import StaffRole

    accounts = [_staff(f"{role.name.lower()}.no2fa@greenloop.example", role) for role in StaffRole]
    accounts.append(_staff("root.no2fa@greenloop.example", None, is_superuser=True))
    return accounts


@pytest.fixture
def received_events():
    """Every domain event dispatched (after commit) while the test runs, in order."""
    from portal import events

    received = []
    handler = received.append
    events.subscribe("greenloop.*", handler)
    yield received
    events.unsubscribe("greenloop.*", handler)
