"""Schemathesis fuzzes the whole REST API from its own OpenAPI schema, in process.

For each kind of caller (a token with the read scopes, one with the write scopes, one with every
scope, and a signed-in browser session sending its CSRF token) every operation of
`/api/v1/openapi.json` gets generated valid and invalid requests. Every answer must be free of
5xx and match what the schema documents for the operation (status code, content type, body);
invalid data must be refused with a 4xx, and an authenticated success must turn into 401/403
without the credentials or with invalid ones ("ignored auth").

The data is demo-like (datasets, orders with footprints, points, a redemption, community spaces
and posts, in the caller's organisation and in a foreign one), and the path parameters draw from
the real ids, so operations answer with real objects, not only 404s. Examples are bounded and
derandomised, so CI runs the same requests every time within the suite's time budget.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
import schemathesis
from django.core import signals
from django.core.files.base import ContentFile
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.utils import timezone
from schemathesis.specs.openapi.checks import ignored_auth

import portal.urls  # noqa: F401 - builds the API: every app's routers and token scopes
from beta_program.boards import actions as board_actions
from beta_program.boards.models import Board, Visibility
from beta_program.boards.models import Comment as BoardComment
from carbon.footprint.calculation import calculate_order
from carbon.models import ImportJob, Report, ReportStatus
from carbon.points import ledger
from carbon.points.actions import request_redemption
from community import actions as community_actions
from community.models import Audience, Space, Tag
from portal import actions
from portal.models import Organisation, Role, User
from tests.carbon.factories import (
    TEST_FREIGHT,
    LegFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    ServiceFactory,
    ShipmentFactory,
    fund,
    grid_dataset,
    published_dataset,
)
from tests.community.conftest import settled
from tests.factories import MembershipFactory, OrganisationFactory, SiteFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

SCHEMA_PATH = "/api/v1/openapi.json"
READ_SCOPES = ["account:read", "carbon:read", "points:read", "community:read", "ideas:read"]
WRITE_SCOPES = ["carbon:write", "points:write", "community:write", "ideas:write"]
CALLERS = ["read-token", "write-token", "all-scopes-token", "session"]
# Bounded so that the four callers together stay within ~90 s on two cores.
MAX_EXAMPLES = 15
# A token refused an operation (outside its scopes, or a person's) meets that refusal whatever it
# sends, so the coverage phase's boundary and invalid values (most of the fuzz's requests) would
# only repeat it. There a token sends the schema's examples and this many fuzzed requests, valid
# and invalid; the session, which may call every operation any token may, still sends every
# phase to every operation, so each operation gets every boundary and invalid value.
REFUSED_MAX_EXAMPLES = 5
SEED = 20_251_203
SESSION_USER = "admin@acme.example"
# Strings that broke the API before (issue #10, item 4): a NUL byte (PostgreSQL text refuses
# it), quantities beyond Decimal's context or a numeric column, NaN, long digit runs, and a
# superscript digit that str.isdigit() accepts.
HOSTILE_STRINGS = [
    "a\x00b",
    "1e400 t",
    "1e20 km",
    "NaN",
    "1" * 40 + " t",
    "desnz-2025@²",
]


# Any authenticated caller, whatever its scopes: who it is, and the event catalogue.
ANY_CALLER = {"GET /api/v1/me", "GET /api/v1/events/schema"}
READS = ANY_CALLER | {
    "GET /api/v1/organisations/{slug}",
    "POST /api/v1/carbon/estimate",
    "GET /api/v1/carbon/factors",
    "GET /api/v1/carbon/method",
    "GET /api/v1/orders",
    "GET /api/v1/orders/{order_id}",
    "GET /api/v1/orders/{order_id}/footprint",
    "GET /api/v1/organisations/{slug}/orders/{external_id}",
    "GET /api/v1/organisations/{slug}/order-imports/{job_id}",
    "GET /api/v1/points/balance",
    "GET /api/v1/points/ledger",
    "GET /api/v1/catalogue",
    "GET /api/v1/redemptions",
    "GET /api/v1/redemptions/{redemption_id}",
    "GET /api/v1/reports",
    "GET /api/v1/reports/{report_id}",
    "GET /api/v1/reports/{report_id}/file",
    "GET /api/v1/community/spaces",
    "GET /api/v1/community/topics",
    "GET /api/v1/community/topics/{topic_id}",
    "GET /api/v1/community/search",
    "GET /api/v1/organisations/{slug}/ideas/boards",
    "GET /api/v1/organisations/{slug}/ideas",
    "GET /api/v1/organisations/{slug}/ideas/{idea_id}",
    "GET /api/v1/organisations/{slug}/ideas/{idea_id}/comments",
}
TOKEN_WRITES = {
    "PUT /api/v1/organisations/{slug}/orders/{external_id}",
    "POST /api/v1/redemptions",
    "POST /api/v1/redemptions/{redemption_id}/cancel",
    "POST /api/v1/reports",
}
PERSON_WRITES = {
    "POST /api/v1/community/topics",
    "POST /api/v1/community/topics/{topic_id}/replies",
    "POST /api/v1/community/posts/{post_id}/reactions",
    "POST /api/v1/community/posts/{post_id}/accept",
    "DELETE /api/v1/community/topics/{topic_id}/accepted-answer",
    # the person's own portal notifications, all marked read (a token: 403 person_required)
    "POST /api/v1/notifications/read",
    # R&D boards: proposing, voting and following are a person's (a token: person_required)
    "POST /api/v1/organisations/{slug}/ideas",
    "PUT /api/v1/organisations/{slug}/ideas/{idea_id}/vote",
    "DELETE /api/v1/organisations/{slug}/ideas/{idea_id}/vote",
    "PUT /api/v1/organisations/{slug}/ideas/{idea_id}/subscription",
    "POST /api/v1/organisations/{slug}/ideas/{idea_id}/comments",
}
# Beta programmes a person reads (the fuzz data has no programme, so the lists answer empty;
# the read tokens here carry no beta scope).
PERSON_READS = {
    "GET /api/v1/organisations/{slug}/beta/programmes",
    "GET /api/v1/organisations/{slug}/beta/applications",
    # the person's own reports (none, an empty list); a token gets 403 person_required
    "GET /api/v1/organisations/{slug}/beta/feedback",
    # the person's own portal notifications (a token: 403 person_required)
    "GET /api/v1/notifications",
}
# The operations each caller must see succeed (2xx) at least once, and no others: the data
# reaches real objects, and no scope lets a token past what it grants.
SUCCEEDS = {
    "read-token": READS,
    "write-token": ANY_CALLER | TOKEN_WRITES,
    "all-scopes-token": READS | TOKEN_WRITES,
    "session": READS | TOKEN_WRITES | PERSON_WRITES | PERSON_READS,
}


@dataclass
class Demo:
    org_slugs: list[str]
    order_ids: list[int]
    external_ids: list[str]
    job_ids: list[int]
    redemption_ids: list[int]
    report_ids: list[str]
    topic_ids: list[int]
    post_ids: list[int]
    space_slugs: list[str]
    tag_slugs: list[str]
    service_slugs: list[str]
    site_names: list[str]
    idea_ids: list[int]
    board_slugs: list[str]


def _order(organisation, external_id, site=None, **fields):
    order = OrderFactory(
        organisation=organisation, external_id=external_id, delivery_site=site, **fields
    )
    OrderLineFactory(order=order, product=ProductFactory(sku="INV-50K"))
    shipment = ShipmentFactory(order=order, reference=f"SHP-{external_id}")
    LegFactory(shipment=shipment, sequence=1, category="road.hgv.average_laden")
    LegFactory(shipment=shipment, sequence=2, category="sea.container.average")
    calculate_order(order)
    return order


def _report(organisation) -> Report:
    """A finished carbon report with its file (the renderers have their own tests)."""
    report = Report.objects.create(
        organisation=organisation,
        period_kind="year",
        period_start=dt.date(2025, 1, 1),
        period_end=dt.date(2025, 12, 31),
        language="en",
        format="csv",
        figures_as_of=timezone.now(),
        status=ReportStatus.DONE,
        progress=100,
    )
    report.file.save("fuzz-report.csv", ContentFile(b"report"), save=True)
    return report


def _idea_boards(own, foreign, asker, outsider):
    """A public R&D board and each organisation's private one, with an idea on each (the public
    one with a vote and a comment)."""
    public = Board.objects.create(name="Product ideas", slug="product-ideas")
    boards = [public]
    for organisation in (own, foreign):
        board = Board.objects.create(
            name=f"{organisation.name} co-development",
            slug=f"{organisation.slug}-codev",
            visibility=Visibility.PRIVATE,
        )
        board.organisations.set([organisation])
        board.save()
        boards.append(board)
    proposal = board_actions.Proposal(title="Export as CSV", problem="We copy by hand.")
    ideas = [
        board_actions.propose(public, own, asker, proposal),
        board_actions.propose(boards[1], own, asker, proposal),
        board_actions.propose(boards[2], foreign, outsider, proposal),
    ]
    board_actions.vote(ideas[0], foreign, outsider, 3)
    BoardComment.objects.create(idea=ideas[0], author=outsider, body="**Yes**")
    return boards, ideas


@pytest.fixture
def demo(db) -> Demo:
    """Two organisations with what the demo has: orders with footprints, an import, points with
    a redemption, community spaces (open, private to each) with topics and replies."""
    # Named and stocked like the examples in the schema, so those examples succeed.
    published_dataset(
        "desnz-2025",
        freight={**TEST_FREIGHT, "road.hgv.articulated": TEST_FREIGHT["road.hgv.average_laden"]},
    )
    grid_dataset()
    own = OrganisationFactory(slug="acme", name="Acme Solar", country="CN")
    foreign = OrganisationFactory(slug="globex", name="Globex Power", country="DE")
    own_site = SiteFactory(organisation=own, name="苏州工厂", country="CN", region="CN-East")
    SiteFactory(organisation=foreign, name="Werk Hamburg", country="DE", region="DE")
    orders = [
        _order(own, "PO-1001", own_site, status="delivered", delivery_date=dt.date(2025, 4, 2)),
        _order(own, "PO-1002"),
        _order(foreign, "PO-2001"),
    ]
    jobs = [
        ImportJob.objects.create(organisation=own, file="private/imports/own.csv"),
        ImportJob.objects.create(organisation=foreign, file="private/imports/foreign.csv"),
    ]
    service = ServiceFactory(slug="on-site-maintenance-visit", points_cost=500)
    fund(own, 5_000)
    fund(foreign, 5_000)
    redemptions = [
        request_redemption(own, service, None, key="fuzz-own")[0],
        request_redemption(foreign, service, None, key="fuzz-foreign")[0],
    ]
    ledger.account_for(own)

    # The signed-in caller asks the questions, so accepting an answer is theirs to do.
    asker = UserFactory(email=SESSION_USER)
    MembershipFactory(user=asker, organisation=own, role=Role.ADMIN)
    outsider = UserFactory(email="member@globex.example")
    MembershipFactory(user=outsider, organisation=foreign, role=Role.MEMBER)
    settled(asker)
    settled(outsider)
    open_space = Space.objects.create(name="Solar inverters", slug="inverters")
    own_board = Space.objects.create(
        name="Acme board", slug="acme-board", audience=Audience.ORGANISATIONS
    )
    own_board.organisations.set([own])
    foreign_board = Space.objects.create(
        name="Globex board", slug="globex-board", audience=Audience.ORGANISATIONS
    )
    foreign_board.organisations.set([foreign])
    Tag.objects.create(name="Firmware", slug="firmware")
    topics = [
        community_actions.create_topic(
            asker, open_space, title="How do I read the Scope 2 figure?", body="Details."
        ),
        community_actions.create_topic(
            asker, own_board, title="Inverter firmware 2.1 rollout", body="Plan inside."
        ),
        community_actions.create_topic(
            outsider, foreign_board, title="Globex private question", body="Secret."
        ),
    ]
    replies = [community_actions.reply(outsider, topics[0], body="Look at the market figure.")]
    boards, ideas = _idea_boards(own, foreign, asker, outsider)
    return Demo(
        org_slugs=[own.slug, foreign.slug],
        order_ids=[o.pk for o in orders],
        external_ids=[o.external_id for o in orders],
        job_ids=[j.pk for j in jobs],
        redemption_ids=[r.pk for r in redemptions],
        report_ids=[str(_report(own).public_id), str(_report(foreign).public_id)],
        topic_ids=[t.pk for t in topics],
        post_ids=[t.posts.order_by("pk").first().pk for t in topics] + [r.pk for r in replies],
        space_slugs=[open_space.slug, own_board.slug, foreign_board.slug],
        tag_slugs=["firmware"],
        service_slugs=[service.slug],
        site_names=[own_site.name],
        idea_ids=[i.pk for i in ideas],
        board_slugs=[b.slug for b in boards],
    )


@dataclass
class Credentials:
    """What one kind of caller sends with every request."""

    headers: dict[str, str]
    cookies: dict[str, str]


@pytest.fixture(params=CALLERS)
def credentials(request, demo) -> Credentials:
    """A bearer token with a scope set, or a signed-in admin's session cookie with CSRF."""
    if request.param == "session":
        client = Client()
        client.force_login(User.objects.get(email=SESSION_USER))
        csrf = _get_new_csrf_string()
        return Credentials(
            headers={"X-CSRFToken": csrf},
            cookies={"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf},
        )
    scopes = {
        "read-token": READ_SCOPES,
        "write-token": WRITE_SCOPES,
        "all-scopes-token": READ_SCOPES + WRITE_SCOPES,
    }[request.param]
    own = Organisation.objects.get(slug="acme")
    _, plaintext = actions.issue_api_token(own, "Fuzzing", scopes, by=None)
    return Credentials(headers={"Authorization": f"Bearer {plaintext}"}, cookies={})


@pytest.fixture
def in_process_app():
    """Django's WSGI handler called in this thread, inside the test's transaction: like the test
    client, keep Django from closing the connection at the end of each request. Each request runs
    in its own savepoint, rolled back when it ends in a 5xx: PostgreSQL aborts a transaction on a
    database error, and one request's 500 must not turn every later request into one."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    app = get_wsgi_application()

    def isolated(environ, start_response):
        savepoint = transaction.savepoint()
        statuses = []

        def recording(status, headers, exc_info=None):
            statuses.append(status)
            return start_response(status, headers, exc_info)

        result = app(environ, recording)
        if statuses and statuses[0].startswith("5"):
            transaction.savepoint_rollback(savepoint)
        else:
            transaction.savepoint_commit(savepoint)
        return result

    try:
        yield isolated
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _config(demo: Demo, caller: str) -> schemathesis.Config:
    def pick(values, probability=0.8):
        return {"dictionary": values, "probability": probability}

    dictionaries = {
        "org_slugs": demo.org_slugs,
        "order_ids": demo.order_ids,
        "external_ids": demo.external_ids,
        "job_ids": demo.job_ids,
        "redemption_ids": demo.redemption_ids,
        "report_ids": demo.report_ids,
        "topic_ids": demo.topic_ids,
        "post_ids": demo.post_ids,
        "space_slugs": demo.space_slugs,
        "tag_slugs": demo.tag_slugs,
        "service_slugs": demo.service_slugs,
        "site_names": demo.site_names,
        "idea_ids": demo.idea_ids,
        "board_slugs": demo.board_slugs,
    }
    dictionaries["hostile"] = HOSTILE_STRINGS
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                # No example database: every run sends the same requests, wherever it runs.
                "database": "none",
                # Random text rarely holds what breaks parsers and databases; mix some in.
                "dictionaries": {"string": {"dictionary": "hostile", "probability": 0.15}},
            },
            "checks": {
                "enabled": True,
                # Valid-looking data can still break a domain rule no schema can state (an
                # unpublished dataset, a SKU or site that does not exist): 422 is right there.
                "positive_data_acceptance": {"enabled": False},
            },
            "phases": {"stateful": {"enabled": False}},
            "operations": _refused_operations(caller),
            "dictionaries": {name: {"values": values} for name, values in dictionaries.items()},
            "parameters": {
                "path.slug": pick("org_slugs"),
                "query.organisation": pick("org_slugs", 0.5),
                "path.order_id": pick("order_ids"),
                "path.external_id": pick("external_ids"),
                "path.job_id": pick("job_ids"),
                "path.redemption_id": pick("redemption_ids"),
                "path.report_id": pick("report_ids"),
                "path.topic_id": pick("topic_ids"),
                "path.post_id": pick("post_ids"),
                "query.space": pick("space_slugs"),
                "query.tag": pick("tag_slugs", 0.5),
                "query.site": pick("site_names", 0.5),
                "body.service": pick("service_slugs"),
                "body.space": pick("space_slugs"),
                "body.site": pick("site_names", 0.5),
                "path.idea_id": pick("idea_ids"),
                "query.board": pick("board_slugs", 0.5),
                "body.board": pick("board_slugs"),
            },
        }
    )


def _refused_operations(caller: str) -> list[dict]:
    """The smaller budget for the operations a token caller is refused (REFUSED_MAX_EXAMPLES)."""
    if caller == "session":
        return []
    return [
        {
            "exclude-name": sorted(SUCCEEDS[caller]),
            "phases": {"coverage": {"enabled": False}},
            "generation": {"max-examples": REFUSED_MAX_EXAMPLES},
        }
    ]


@pytest.fixture
def api_schema(request, demo, in_process_app, credentials):
    caller = request.node.callspec.params["credentials"]
    loaded = schemathesis.openapi.from_wsgi(
        SCHEMA_PATH, in_process_app, config=_config(demo, caller)
    )

    # Registered as the schema's auth, so the "ignored auth" check knows these credentials are
    # the real ones and probes each operation without them and with invalid ones.
    @loaded.auth()
    class CallerAuth:
        def get(self, case, ctx):
            return credentials

        def set(self, case, data, ctx):
            case.headers = {**(case.headers or {}), **data.headers}
            case.cookies = {**(case.cookies or {}), **data.cookies}

    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(autouse=True)
def _schemathesis_on_pytest_9_2(request):
    # schemathesis 4.32 renames the running test by assigning `Function._nodeid`, which pytest
    # 9.2 replaced with `_id`; give it the attribute it reads (it only ever writes it back).
    request.node._nodeid = request.node.nodeid


@pytest.fixture(autouse=True)
def _no_auth_failure_throttle(settings):
    # The "ignored auth" probes send invalid credentials to every operation from one address, far
    # past the per-minute failure limit; the throttle (429) has its own tests
    # (tests/portal/test_audit_aggregation.py), here it would only hide the answers under test.
    settings.GREENLOOP_API_AUTH_FAILURES_PER_MINUTE = 1_000_000


@pytest.fixture
def ignored_auth_once():
    """schemathesis' "ignored auth" check, probing each operation once per caller (as its own
    runner does) rather than after every success: without credentials, and with invalid ones,
    a request that succeeded must answer 401 or 403."""
    enforced: set[str] = set()

    def check(ctx, response, case):
        ctx.auth_enforced_operations = enforced
        return ignored_auth(ctx, response, case)

    return check


@pytest.fixture
def succeeded(request):
    """Collects the operations that answered 2xx; at the end they must be what the caller may
    do (`SUCCEEDS`), so a run that only met 401s or 404s cannot pass."""
    labels: set[str] = set()
    yield labels
    caller_kind = request.node.callspec.params["credentials"]
    assert labels == SUCCEEDS[caller_kind], (
        f"never succeeded: {sorted(SUCCEEDS[caller_kind] - labels)}; "
        f"succeeded unexpectedly: {sorted(labels - SUCCEEDS[caller_kind])}"
    )


@schema.parametrize()
@pytest.mark.usefixtures("credentials")  # the wrapper hides the signature from pytest
def test_api_answers_as_documented(case, ignored_auth_once, succeeded):
    excluded = [ignored_auth]
    response = case.call_and_validate(
        excluded_checks=excluded,
        additional_checks=[ignored_auth_once],
    )
    if 200 <= response.status_code < 300:
        succeeded.add(case.operation.label)
