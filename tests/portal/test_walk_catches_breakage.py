"""The authorisation walk is proven by the breakage it catches (issue #11, item 1).

Each case removes the organisation filter from ONE object loader (the helper or query that looks
an object up within the caller's organisation), runs the walk's own check (tests/authz_walk.py,
the functions tests/portal/test_authorization_walk.py asserts on) for the routes and API
operations that loader serves, and asserts that the walk now reports a leak. A loader whose
broken filter no walk case notices fails here: the walk would let that cross-tenant leak land.

The filter is removed the way a careless edit would: the loader looks the object up by its id
among every organisation's rows (portal.tenancy.all_organisations()), without the organisation
condition. Row-level security is lifted as in the walk, so only the application's filter is
tested.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module

import pytest
from django.http import Http404

from portal import actions, tenancy
from portal.api_scopes import SCOPES
from tests import authz, authz_walk


def _unscoped(model, **lookup):
    """What a loader without its organisation filter finds: the object of any organisation."""
    with tenancy.all_organisations():
        found = model._default_manager.filter(**lookup).first()
    if found is None:
        raise Http404
    return found


@dataclass(frozen=True)
class Loader:
    """One object loader: where it lives, how to remove its organisation filter, and what the
    walk must then report."""

    name: str  # module.function, as it reads in the code
    breaks: Callable[[pytest.MonkeyPatch, dict], None]
    routes: tuple[str, ...] = ()  # page routes it serves (second mode)
    operations: tuple[tuple[str, str], ...] = field(default=())  # API (method, path)
    # Organisation loaders: routes and operations walked in the first mode (another
    # organisation's slug), since under the caller's own slug the organisation is theirs.
    foreign_routes: tuple[str, ...] = ()
    foreign_operations: tuple[tuple[str, str], ...] = field(default=())
    # Personal ownership rules: walked as a plain member on another member's objects.
    personal: bool = False


def _reachable_from(
    caller: str, frame: str | None = None
) -> Callable[[pytest.MonkeyPatch, dict], None]:
    """Remove the filter from `module.function`'s call of portal.access.reachable_or_404: that
    one call looks the object up among all organisations' rows; other callers in the same module
    keep theirs, so each loader is broken alone. `frame`: the calling function's code name when
    it differs (a decorator's inner `wrapper`)."""
    module_name, function = caller.rsplit(".", 1)
    function = frame or function

    def breaks(monkeypatch: pytest.MonkeyPatch, hits: dict) -> None:
        module = import_module(module_name)
        original = module.reachable_or_404

        def reachable_or_404(request, reachable, **lookup):
            if sys._getframe(1).f_code.co_name != function:
                return original(request, reachable, **lookup)
            hits[caller] = hits.get(caller, 0) + 1
            return _unscoped(reachable.model, **lookup)

        monkeypatch.setattr(module, "reachable_or_404", reachable_or_404)

    return breaks


def _replaced(target: str, by: Callable) -> Callable[[pytest.MonkeyPatch, dict], None]:
    """Replace a named loader by one without its organisation filter."""
    module_name, function = target.rsplit(".", 1)

    def breaks(monkeypatch: pytest.MonkeyPatch, hits: dict) -> None:
        def counted(*args, **kwargs):
            hits[target] = hits.get(target, 0) + 1
            return by(*args, **kwargs)

        monkeypatch.setattr(import_module(module_name), function, counted)

    return breaks


def _any_order_by_external_id(c, organisation, external_id):
    from carbon.models import Order

    return _unscoped(Order, external_id=external_id)


def _any_import_job(organisation, job_id):
    from carbon.models import ImportJob

    return _unscoped(ImportJob, pk=job_id)


def _any_existing_orders(organisation, external_ids):
    from carbon.models import Order

    with tenancy.all_organisations():
        found = Order.objects.select_for_update().filter(external_id__in=external_ids)
        return {order.external_id: order for order in found}


def _any_programme(*args):
    from beta_program.programmes.models import Programme

    return _unscoped(Programme, slug=args[-1])


def _any_idea(user, organisation, idea_id):
    from beta_program.boards.models import Idea

    return _unscoped(Idea, pk=idea_id)


def _any_board(user, organisation, slug):
    from beta_program.boards.models import Board

    return _unscoped(Board, slug=slug)


def _any_participant_programme(request, organisation, slug):
    return _any_programme(slug)


def _any_participant_build(request, organisation, slug, build_id):
    from beta_program.programmes.models import Build

    build = _unscoped(Build, pk=build_id)
    return build.programme, build


def _any_feedback(user, organisation, feedback_id):
    from beta_program.programmes.feedback_models import Feedback

    return _unscoped(Feedback, pk=feedback_id)


def _any_application(user, organisation, application_id):
    from beta_program.programmes.models import Application

    return _unscoped(Application, pk=application_id)


def _any_api_participant_programme(c, params):
    from portal.models import Organisation

    organisation = _unscoped(Organisation, slug=params["slug"])
    return organisation, _any_programme(params["programme_slug"])


def _any_build_of(user, organisation, programme, build_id):
    from beta_program.programmes.models import Build

    return _unscoped(Build, pk=build_id)


def _any_announcement(user, organisation, announcement_id):
    from beta_program.programmes.announcement_models import Announcement

    return _unscoped(Announcement, pk=announcement_id)


def _any_notification(user, notification_id):
    from portal.models import Notification

    return Notification.objects.filter(pk=notification_id).first()


def _any_api_notification(c, params):
    from portal.models import Notification

    return _unscoped(Notification, pk=params["notification_id"])


def _together(*cases: Callable[[pytest.MonkeyPatch, dict], None]):
    """Break several lookups at once: where a route checks an object twice (the programme from
    the path, then the build from the body), removing one filter alone leaks nothing."""

    def breaks(monkeypatch: pytest.MonkeyPatch, hits: dict) -> None:
        for case in cases:
            case(monkeypatch, hits)

    return breaks


def _any_api_survey_build(c, params):
    from beta_program.programmes.models import Build
    from portal.models import Organisation

    return _unscoped(Organisation, slug=params["slug"]), _unscoped(Build, pk=params["build_id"])


def _any_api_feedback(c, params):
    from beta_program.programmes.feedback_models import Feedback
    from portal.models import Organisation

    organisation = _unscoped(Organisation, slug=params["slug"])
    return organisation, _unscoped(Feedback, pk=params["feedback_id"])


def _any_api_attachment(c, params):
    from beta_program.programmes.feedback_models import FeedbackAttachment

    return _unscoped(FeedbackAttachment, pk=params["attachment_id"])


def _any_api_idea(c, params):
    from beta_program.boards.models import Idea
    from portal.models import Organisation

    return _unscoped(Organisation, slug=params["slug"]), _unscoped(Idea, pk=params["idea_id"])


ORDER = ("get", "/api/v1/orders/{order_id}")
FOOTPRINT = ("get", "/api/v1/orders/{order_id}/footprint")
ORDER_BY_EXTERNAL_ID = ("get", "/api/v1/organisations/{slug}/orders/{external_id}")
UPSERT = ("put", "/api/v1/organisations/{slug}/orders/{external_id}")
IMPORT_JOB = ("get", "/api/v1/organisations/{slug}/order-imports/{job_id}")
REDEMPTION = ("get", "/api/v1/redemptions/{redemption_id}")
CANCEL = ("post", "/api/v1/redemptions/{redemption_id}/cancel")
REPORT = ("get", "/api/v1/reports/{report_id}")
REPORT_FILE = ("get", "/api/v1/reports/{report_id}/file")
BETA_PROGRAMME = ("get", "/api/v1/organisations/{slug}/beta/programmes/{programme_slug}")
BETA_APPLY = ("post", "/api/v1/organisations/{slug}/beta/programmes/{programme_slug}/applications")
BETA_PROGRAMMES = ("get", "/api/v1/organisations/{slug}/beta/programmes")
BETA_FILE = ("post", "/api/v1/organisations/{slug}/beta/programmes/{programme_slug}/feedback")
BETA_SURVEY = (
    "post",
    "/api/v1/organisations/{slug}/beta/programmes/{programme_slug}/builds/{build_id}/survey",
)
BETA_FEEDBACK = ("get", "/api/v1/organisations/{slug}/beta/feedback/{feedback_id}")
BETA_ATTACH = ("post", "/api/v1/organisations/{slug}/beta/feedback/{feedback_id}/attachments")
BETA_ATTACHMENT = (
    "get",
    "/api/v1/organisations/{slug}/beta/feedback/{feedback_id}/attachments/{attachment_id}",
)
BETA_ANNOUNCEMENTS = (
    "get",
    "/api/v1/organisations/{slug}/beta/programmes/{programme_slug}/announcements",
)
NOTIFICATION_READ = ("post", "/api/v1/notifications/{notification_id}/read")
BETA_BUILDS = ("get", "/api/v1/organisations/{slug}/beta/programmes/{programme_slug}/builds")
IDEAS = ("get", "/api/v1/organisations/{slug}/ideas")
IDEA_OPERATIONS = tuple(
    (method, "/api/v1/organisations/{slug}/ideas/{idea_id}" + tail)
    for method, tail in (
        ("get", ""),
        ("get", "/comments"),
        ("post", "/comments"),
        ("put", "/vote"),
        ("delete", "/vote"),
        ("put", "/subscription"),
    )
)

LOADERS = [
    # Portal pages (portal/views.py)
    Loader("portal.views.change_role", _reachable_from("portal.views.change_role"),
           routes=("portal:change_role",)),
    Loader("portal.views.remove_member", _reachable_from("portal.views.remove_member"),
           routes=("portal:remove_member",)),
    Loader("portal.views.revoke_invitation", _reachable_from("portal.views.revoke_invitation"),
           routes=("portal:revoke_invitation",)),
    Loader("portal.views.revoke_token", _reachable_from("portal.views.revoke_token"),
           routes=("portal:revoke_token",)),
    # Carbon pages (carbon/footprint/views.py, carbon/points/views.py)
    Loader("carbon.footprint.views.order_page_context",
           _reachable_from("carbon.footprint.views.order_page_context"),
           routes=("carbon:order_detail",)),
    Loader("carbon.footprint.views.import_job",
           _reachable_from("carbon.footprint.views.import_job"),
           routes=("carbon:import_job",)),
    Loader("carbon.footprint.views.evidence",
           _reachable_from("carbon.footprint.views.evidence"),
           routes=("carbon:evidence",)),
    Loader("carbon.footprint.views.proof",
           _reachable_from("carbon.footprint.views.proof"),
           routes=("carbon:green_power_proof",)),
    Loader("carbon.points.views.redemption_detail",
           _reachable_from("carbon.points.views.redemption_detail"),
           routes=("carbon:redemption_detail",)),
    Loader("carbon.points.views.redemption_cancel",
           _reachable_from("carbon.points.views.redemption_cancel"),
           routes=("carbon:redemption_cancel",)),
    Loader("carbon.reports.views._report", _reachable_from("carbon.reports.views._report"),
           routes=("carbon:report_detail", "carbon:report_download")),
    # The API (carbon/footprint/api_*.py, carbon/points/api.py, carbon/footprint/orders.py)
    Loader("carbon.footprint.api_orders._get_order",
           _reachable_from("carbon.footprint.api_orders._get_order"),
           operations=(ORDER,)),
    Loader("carbon.footprint.api_orders.get_footprint",
           _reachable_from("carbon.footprint.api_orders.get_footprint"),
           operations=(FOOTPRINT,)),
    Loader("carbon.footprint.api_orders._order_by_external_id",
           _replaced("carbon.footprint.api_orders._order_by_external_id",
                     _any_order_by_external_id),
           operations=(ORDER_BY_EXTERNAL_ID,)),
    Loader("carbon.footprint.api_imports._import_job",
           _replaced("carbon.footprint.api_imports._import_job", _any_import_job),
           operations=(IMPORT_JOB,)),
    Loader("carbon.footprint.orders.locked_orders",
           _replaced("carbon.footprint.orders.locked_orders", _any_existing_orders),
           operations=(UPSERT,)),
    Loader("carbon.points.api_redemptions._load_redemption",
           _reachable_from("carbon.points.api_redemptions._load_redemption"),
           operations=(REDEMPTION, CANCEL)),
    Loader("carbon.reports.api._report", _reachable_from("carbon.reports.api._report"),
           operations=(REPORT, REPORT_FILE)),
    # Organisation loaders: the slug in the path among the caller's organisations
    Loader("portal.views.organisation_view",
           _reachable_from("portal.views.organisation_view", frame="wrapper"),
           foreign_routes=("portal:org_dashboard", "portal:members", "carbon:orders")),
    Loader("portal.api.organisation_detail", _reachable_from("portal.api.organisation_detail"),
           foreign_operations=(("get", "/api/v1/organisations/{slug}"),)),
    Loader("portal.api_common.organisation_named",
           _reachable_from("portal.api_common.organisation_named"),
           foreign_operations=(IMPORT_JOB, ORDER_BY_EXTERNAL_ID)),
    # Beta programmes (beta_program/programmes/views.py, api.py): a programme the caller's
    # organisation may not see, named under its own slug
    Loader("beta_program.programmes.views.programme_or_404",
           _replaced("beta_program.programmes.views.programme_or_404", _any_programme),
           routes=("beta:programme", "beta:apply", "beta:nda", "beta:download_build")),
    # R&D boards' lists (beta_program/boards/views_lists.py): a private board of another
    # organisation, named under the caller's own slug
    Loader("beta_program.boards.views_lists.board_or_404",
           _replaced("beta_program.boards.views_lists.board_or_404", _any_board),
           routes=("beta:ideas_board", "beta:ideas_propose", "beta:ideas_similar")),
    Loader("beta_program.programmes.feedback_views._participant_programme",
           _replaced("beta_program.programmes.feedback_views._participant_programme",
                     _any_participant_programme),
           routes=("beta:feedback_new", "beta:feedback_similar")),
    Loader("beta_program.programmes.feedback_views._participant_build",
           _replaced("beta_program.programmes.feedback_views._participant_build",
                     _any_participant_build),
           routes=("beta:survey",)),
    Loader("beta_program.programmes.feedback_views.feedback_or_404",
           _replaced("beta_program.programmes.feedback_views.feedback_or_404", _any_feedback),
           routes=("beta:feedback_detail", "beta:feedback_attachment")),
    # R&D boards (beta_program/boards/views_idea.py): an idea on a board the caller's
    # organisation may not see, and what hangs off it, named under its own slug
    Loader("beta_program.boards.views_idea.idea_or_404",
           _replaced("beta_program.boards.views_idea.idea_or_404", _any_idea),
           routes=("beta:idea", "beta:idea_vote", "beta:idea_unvote", "beta:idea_comment",
                   "beta:idea_comment_hide", "beta:idea_subscribe", "beta:idea_attachment")),
    Loader("beta_program.programmes.views.withdrawable_or_404",
           _replaced("beta_program.programmes.views.withdrawable_or_404", _any_application),
           routes=("beta:withdraw",)),
    Loader("beta_program.programmes.api._programme",
           _replaced("beta_program.programmes.api._programme", _any_programme),
           operations=(BETA_PROGRAMME, BETA_APPLY, BETA_BUILDS, BETA_ANNOUNCEMENTS)),
    Loader("beta_program.programmes.views.announcement_or_404",
           _replaced("beta_program.programmes.views.announcement_or_404", _any_announcement),
           routes=("beta:announcement",)),
    Loader("beta_program.programmes.feedback_api._participant_programme",
           _together(
               _replaced("beta_program.programmes.feedback_api._participant_programme",
                         _any_api_participant_programme),
               _replaced("beta_program.programmes.feedback_api.build_for_feedback_or_404",
                         _any_build_of)),
           operations=(BETA_FILE,)),
    Loader("beta_program.programmes.feedback_api._survey_build",
           _replaced("beta_program.programmes.feedback_api._survey_build",
                     _any_api_survey_build),
           operations=(BETA_SURVEY,)),
    Loader("beta_program.programmes.feedback_api._own_feedback",
           _replaced("beta_program.programmes.feedback_api._own_feedback", _any_api_feedback),
           operations=(BETA_FEEDBACK, BETA_ATTACH)),
    Loader("beta_program.programmes.feedback_api._own_attachment",
           _replaced("beta_program.programmes.feedback_api._own_attachment",
                     _any_api_attachment),
           operations=(BETA_ATTACHMENT,)),
    Loader("beta_program.programmes.api._organisation",
           _reachable_from("beta_program.programmes.api._organisation"),
           foreign_operations=(BETA_PROGRAMMES, IDEAS)),
    # R&D boards' co-development (a private board's idea, its milestones and documents)
    Loader("beta_program.boards.views_codev.idea_or_404",
           _replaced("beta_program.boards.views_codev.idea_or_404", _any_idea),
           routes=("beta:idea_codev", "beta:idea_milestone_add", "beta:idea_milestone_update",
                   "beta:idea_document_share", "beta:idea_document", "beta:idea_co_owners")),
    # R&D boards' API: an idea of a board the caller does not see
    Loader("beta_program.boards.api._idea_in_path",
           _replaced("beta_program.boards.api._idea_in_path", _any_api_idea),
           operations=IDEA_OPERATIONS),
    # Notifications are personal: the inbox's URL with someone else's id (page and API)
    Loader("portal.notifications.own_or_none",
           _replaced("portal.notifications.own_or_none", _any_notification),
           foreign_routes=("portal:notification_read",)),
    Loader("portal.api_notifications._own_notification",
           _replaced("portal.api_notifications._own_notification", _any_api_notification),
           operations=(NOTIFICATION_READ,)),
    # Personal ownership within the organisation (not organisation filters, but the same walk)
    Loader("community.views_topic._edit_refusal",
           _replaced("community.views_topic._edit_refusal", lambda user, post: None),
           personal=True),
    Loader("community.access.can_accept",
           _replaced("community.access.can_accept", lambda user, topic: True), personal=True),
]  # fmt: skip


def test_every_object_route_and_operation_has_a_loader_case():
    # given the routes the walk's second mode covers / then each one's loader is broken here once
    routes = {r.name for r in authz.routes()}
    object_routes = {
        r.name
        for r in authz.routes()
        if "org_slug" in r.params and set(r.params) - {"org_slug"} - authz.SHARED_PARAMS
    }
    covered = {route for loader in LOADERS for route in loader.routes}
    assert covered | {r for loader in LOADERS for r in loader.foreign_routes} <= routes
    assert object_routes <= covered, f"no breakage case for {sorted(object_routes - covered)}"
    operations = {op for loader in LOADERS for op in loader.operations}
    assert {ORDER, FOOTPRINT, ORDER_BY_EXTERNAL_ID, UPSERT, IMPORT_JOB, CANCEL} <= operations
    assert {REPORT, REPORT_FILE} <= operations


def _walk(loader: Loader, admin, member, own, foreign) -> list[str]:
    """The walk's checks (tests/authz_walk.py) for what `loader` serves; the failures found."""
    failures: list[str] = []
    with authz_walk.rls_lifted():
        if loader.routes:
            routes = [r for r in authz.routes() if r.name in loader.routes]
            failures += authz_walk.own_url_failures(admin, own, foreign, routes)
        if loader.operations:
            _, token = actions.issue_api_token(own, "walk", list(SCOPES), by=None)
            failures += authz_walk.api_own_failures(
                token, own, foreign, only=set(loader.operations)
            )
        if loader.foreign_routes:
            routes = [r for r in authz.routes() if r.name in loader.foreign_routes]
            failures += authz_walk.foreign_org_failures(member, foreign, routes)
        if loader.foreign_operations:
            _, token = actions.issue_api_token(own, "walk", list(SCOPES), by=None)
            failures += authz_walk.api_foreign_failures(
                token, foreign, only=set(loader.foreign_operations)
            )
        if loader.personal:
            failures += authz_walk.personal_failures(member, own, admin, authz.routes())
            failures += authz_walk.api_personal_failures(member, own, admin)
    return failures


def test_with_nothing_broken_the_same_walk_finds_nothing(admin_a, member_a, org_a, org_b):
    # given every case's routes and operations, and no loader broken / when the walk checks them
    everything = Loader(
        "nothing broken",
        breaks=lambda monkeypatch, hits: None,
        routes=tuple(r for loader in LOADERS for r in loader.routes),
        operations=tuple(op for loader in LOADERS for op in loader.operations),
        foreign_routes=tuple(r for loader in LOADERS for r in loader.foreign_routes),
        foreign_operations=tuple(op for loader in LOADERS for op in loader.foreign_operations),
        personal=True,
    )
    # then it finds nothing: each failure below is the broken loader's doing
    assert _walk(everything, admin_a, member_a, org_a, org_b) == []


@pytest.mark.parametrize("loader", LOADERS, ids=[loader.name for loader in LOADERS])
def test_the_walk_fails_when_a_loader_drops_its_organisation_filter(
    loader, admin_a, member_a, org_a, org_b, monkeypatch
):
    # given one loader without its organisation filter (or ownership rule)
    hits: dict = {}
    loader.breaks(monkeypatch, hits)
    # when the walk checks the routes and operations it serves
    failures = _walk(loader, admin_a, member_a, org_a, org_b)
    # then the broken loader was used, and the walk reports the leak
    assert hits.get(loader.name), f"{loader.name} was never called: the case breaks nothing"
    assert failures, f"the walk did not notice {loader.name} without its organisation filter"
