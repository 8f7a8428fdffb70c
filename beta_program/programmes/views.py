"""Customer pages of beta programmes, under the organisation the person acts for
(/o/<slug>/beta/): the programmes they may see, one programme, applying, and the organisation's
applications. A programme the organisation may not see answers 404, as if it did not exist."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from beta_program.programmes import actions
from beta_program.programmes.access import (
    announcement_or_404,
    announcements_for,
    builds_for,
    current_nda,
    download_refusal,
    is_beta_staff,
    is_participant,
    may_see_confidential,
    my_and_open_programmes,
    programme_or_404,
)
from beta_program.programmes.exceptions import BetaError
from beta_program.programmes.feedback_access import may_file
from beta_program.programmes.forms import ApplicationForm, NdaForm
from beta_program.programmes.models import (
    OPEN_APPLICATION_STATUSES,
    WITHDRAWABLE,
    Application,
    ApplicationStatus,
    NdaAcceptance,
    Programme,
    ProgrammeStatus,
)
from portal.exceptions import PortalError
from portal.models import Organisation
from portal.permissions import Perm, has_perm
from portal.security import harden_download
from portal.views import organisation_view

# The newest announcements on the programme's page; older ones stay reachable by their links.
ANNOUNCEMENTS_SHOWN = 20


def render_page(
    request: HttpRequest, template: str, context: dict, status: int = 200
) -> HttpResponse:
    # The sub-navigation links the organisation's NDA record for its admins.
    context["can_see_agreements"] = has_perm(
        request.user, Perm.ORG_MANAGE_MEMBERS, context["organisation"]
    )
    return render(request, template, context, status=status)


def _applications_by_programme(organisation: Organisation, programme_ids) -> dict[int, Application]:
    """The organisation's latest application to each programme (one query)."""
    latest: dict[int, Application] = {}
    rows = Application.objects.filter(
        organisation=organisation, programme_id__in=programme_ids
    ).order_by("programme_id", "-submitted_at", "-id")
    for application in rows:
        latest.setdefault(application.programme_id, application)
    return latest


@organisation_view()
@require_GET
def index(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    mine, open_ = my_and_open_programmes(request.user, organisation)
    return render_page(
        request,
        "beta_program/programmes/index.html",
        {"organisation": organisation, "mine": mine, "open": open_},
    )


def _detail_context(request, organisation: Organisation, programme: Programme) -> dict:
    application = _applications_by_programme(organisation, [programme.pk]).get(programme.pk)
    own = (
        Application.objects.filter(
            programme=programme, applicant=request.user, status__in=OPEN_APPLICATION_STATUSES
        ).first()
        if request.user.is_authenticated
        else None
    )
    reasons = actions.unmet_reasons(programme, request.user, organisation)
    confidential = may_see_confidential(request.user, programme)
    holds_place = (
        programme.is_confidential
        and own is not None
        and own.status == ApplicationStatus.ACCEPTED
        and own.organisation_id == organisation.pk
    )
    nda = current_nda(programme) if holds_place else None
    # A reverse one-to-one without a row raises an AttributeError subclass.
    page = getattr(programme, "landing_page", None)
    return {
        "organisation": organisation,
        "programme": programme,
        "application": own or application,
        "own_application": own,
        "reasons": reasons,
        "can_apply": programme.status == ProgrammeStatus.RECRUITING and own is None and not reasons,
        "can_withdraw": own is not None and own.organisation_id == organisation.pk,
        "confidential": confidential,
        "phases": list(programme.phases.all()) if confidential else [],
        "builds": list(builds_for(request.user, programme, organisation)) if confidential else [],
        "announcements": list(
            announcements_for(request.user, programme, organisation)[:ANNOUNCEMENTS_SHOWN]
        )
        if confidential
        else [],
        "landing_page": page if page is not None and page.live else None,
        "is_staff": is_beta_staff(request.user),
        "can_file": confidential and may_file(request.user, programme, organisation),
        # A participant of a programme under NDA who has not accepted its current version, or
        # who waits for its first one; a colleague who holds no place is told neither.
        "nda_needed": holds_place and nda is not None and not confidential,
        "nda_unpublished": holds_place and nda is None and not confidential,
    }


@organisation_view()
@require_GET
def programme(request: HttpRequest, organisation: Organisation, programme_slug: str):
    found = programme_or_404(request.user, organisation, programme_slug)
    return render_page(
        request,
        "beta_program/programmes/programme.html",
        _detail_context(request, organisation, found),
    )


@organisation_view()
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, organisation: Organisation, programme_slug: str):
    found = programme_or_404(request.user, organisation, programme_slug)
    context = _detail_context(request, organisation, found)
    questions = list(found.questions.all())
    form = ApplicationForm(request.POST if request.method == "POST" else None, questions=questions)
    if request.method == "POST" and form.is_valid():
        try:
            application = actions.submit_application(
                found, organisation, request.user, form.answers(), request=request
            )
        except BetaError as exc:
            field = (exc.field or "").removeprefix("answers.")
            form.add_error(
                f"q{field}" if field and f"q{field}" in form.fields else None, exc.message
            )
        else:
            if application.status == ApplicationStatus.ACCEPTED:
                messages.success(request, _("You are in. Welcome to the programme!"))
            else:
                messages.success(
                    request, _("Thank you. The product team reviews your application.")
                )
            return redirect("beta:programme", org_slug=organisation.slug, programme_slug=found.slug)
    context["form"] = form
    return render_page(request, "beta_program/programmes/apply.html", context)


@organisation_view()
@require_GET
def applications(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    rows = list(
        Application.objects.filter(organisation=organisation)
        .select_related("programme", "applicant")
        .order_by("-submitted_at", "-id")[:200]
    )
    is_admin = has_perm(request.user, Perm.ORG_MANAGE_MEMBERS, organisation)
    for row in rows:
        # actions.may_withdraw, without a permission lookup per row.
        row.can_withdraw = row.status in WITHDRAWABLE and (
            is_admin or row.applicant_id == request.user.pk
        )
    return render_page(
        request,
        "beta_program/programmes/applications.html",
        {"organisation": organisation, "applications": rows},
    )


def withdrawable_or_404(user, organisation: Organisation, application_id: int) -> Application:
    """The organisation's application `application_id`, for its applicant or an organisation
    admin; 404 for anyone else and for another organisation's application."""
    application = (
        Application.objects.filter(organisation=organisation, pk=application_id)
        .select_related("programme", "applicant", "organisation")
        .first()
    )
    if application is None or not (
        application.applicant_id == user.pk or has_perm(user, Perm.ORG_MANAGE_MEMBERS, organisation)
    ):
        raise Http404("No such application.")
    return application


@organisation_view()
@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, organisation: Organisation, application_id: int):
    """Confirm, then withdraw an open application of the organisation (or leave the programme
    when it was accepted): the applicant and the organisation's admins only; anyone else, and
    another organisation's application, gets 404."""
    application = withdrawable_or_404(request.user, organisation, application_id)
    back = redirect("beta:applications", org_slug=organisation.slug)
    if application.status not in WITHDRAWABLE:
        messages.info(
            request,
            _("This application is already %(status)s.")
            % {"status": application.get_status_display().lower()},
        )
        return back
    if request.method == "POST":
        leaving = application.status == ApplicationStatus.ACCEPTED
        try:
            actions.withdraw_application(application, request.user, request=request)
        except PortalError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("You left the programme.") if leaving else _("The application is withdrawn."),
            )
        return back
    return render_page(
        request,
        "beta_program/programmes/withdraw.html",
        {"organisation": organisation, "application": application},
    )


@organisation_view()
@require_http_methods(["GET", "POST"])
def nda(request: HttpRequest, organisation: Organisation, programme_slug: str):
    """The programme's current NDA for a participant to read and accept."""
    found = programme_or_404(request.user, organisation, programme_slug)
    if not is_participant(request.user, found, organisation):
        raise Http404("Only participants read the agreement.")
    agreement = current_nda(found)
    if agreement is None:
        raise Http404("No agreement yet.")
    accepted = NdaAcceptance.objects.filter(nda=agreement, user=request.user).first()
    form = NdaForm(
        request.POST if request.method == "POST" else None,
        initial={"version": agreement.version},
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.accept_nda(
                found,
                organisation,
                request.user,
                version=form.cleaned_data["version"],
                request=request,
            )
        except BetaError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Thank you. The programme's content is open to you now."))
            return redirect("beta:programme", org_slug=organisation.slug, programme_slug=found.slug)
    return render_page(
        request,
        "beta_program/programmes/nda.html",
        {
            "organisation": organisation,
            "programme": found,
            "agreement": agreement,
            "accepted": accepted,
            "form": form,
        },
    )


@organisation_view(Perm.ORG_MANAGE_MEMBERS)
@require_GET
def nda_acceptances(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    """For the organisation's admins: who in the organisation accepted which agreement."""
    rows = list(
        NdaAcceptance.objects.filter(organisation=organisation)
        .select_related("programme", "user")
        .order_by("-accepted_at", "-id")[:500]
    )
    return render_page(
        request,
        "beta_program/programmes/nda_acceptances.html",
        {"organisation": organisation, "acceptances": rows},
    )


@organisation_view()
@require_GET
def download_build(
    request: HttpRequest, organisation: Organisation, programme_slug: str, build_id: int
) -> HttpResponse:
    """A build's file (or its external link) for a participant who may have it: 404 when the
    build is not theirs to see, 410 with the reason once it expired, 403 when it needs a newer
    agreement. Each download is recorded."""
    found = programme_or_404(request.user, organisation, programme_slug)
    build = builds_for(request.user, found, organisation).filter(pk=build_id).first()
    if build is None:
        raise Http404("No such build.")
    refusal = download_refusal(request.user, build)
    if refusal:
        status = 410 if build.is_expired else 403
        return render_page(
            request,
            "beta_program/programmes/build_refused.html",
            {"organisation": organisation, "programme": found, "build": build, "reason": refusal},
            status=status,
        )
    actions.record_download(build, request.user, organisation, request=request)
    if build.external_url:
        return redirect(build.external_url)
    response = FileResponse(
        build.file.open("rb"),
        as_attachment=True,
        filename=build.file.name.rsplit("/", 1)[-1],
        content_type="application/octet-stream",
    )
    return harden_download(response)


@organisation_view()
@require_GET
def announcement(request: HttpRequest, organisation: Organisation, announcement_id: int):
    """One announcement, for the people it was released to (`access.announcement_or_404`)."""
    found = announcement_or_404(request.user, organisation, announcement_id)
    return render_page(
        request,
        "beta_program/programmes/announcement.html",
        {"organisation": organisation, "programme": found.programme, "announcement": found},
    )
