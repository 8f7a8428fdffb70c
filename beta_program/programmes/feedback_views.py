"""Participant pages for feedback, under the organisation they act for: file a bug report or
feature feedback on a build they may download (with duplicate suggestions while typing), answer
a build's survey, "my reports" with status and public comments, and attachments of their own
reports. Anything that is not theirs answers 404, like a programme they may not see."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from beta_program.programmes import feedback_actions
from beta_program.programmes.access import programme_or_404
from beta_program.programmes.exceptions import BetaError
from beta_program.programmes.feedback_access import (
    build_for_feedback_or_404,
    feedback_for,
    feedback_or_404,
    fileable_builds,
    may_file,
)
from beta_program.programmes.feedback_forms import CommentForm, FeedbackForm, SurveyForm
from beta_program.programmes.feedback_models import FeedbackAttachment, SurveyResponse
from beta_program.programmes.feedback_search import similar
from beta_program.programmes.models import Build, Programme
from beta_program.programmes.views import render_page
from portal.exceptions import PermissionDeniedError
from portal.models import Organisation
from portal.security import harden_download
from portal.text import ascii_integer
from portal.views import organisation_view

MY_REPORTS_LIMIT = 200


def _participant_programme(request: HttpRequest, organisation: Organisation, slug: str):
    programme = programme_or_404(request.user, organisation, slug)
    if not may_file(request.user, programme, organisation):
        raise Http404("Not a participant who may see the programme's content.")
    return programme


def _participant_build(
    request: HttpRequest, organisation: Organisation, slug: str, build_id: int
) -> tuple[Programme, Build]:
    programme = _participant_programme(request, organisation, slug)
    return programme, build_for_feedback_or_404(request.user, organisation, programme, build_id)


@organisation_view()
@require_http_methods(["GET", "POST"])
def new_feedback(request: HttpRequest, organisation: Organisation, programme_slug: str):
    programme = _participant_programme(request, organisation, programme_slug)
    builds = list(fileable_builds(request.user, programme, organisation))
    environment_fields = list(programme.environment_fields.all())
    initial = {}
    chosen = ascii_integer(request.GET.get("build", ""))
    if chosen is not None and any(b.pk == chosen for b in builds):
        initial["build"] = chosen
    if request.GET.get("kind") in ("bug", "feature"):
        initial["kind"] = request.GET["kind"]
    form = FeedbackForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        builds=builds,
        environment_fields=environment_fields,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        build = next(b for b in builds if b.pk == form.cleaned_data["build"])
        try:
            report = feedback_actions.file_feedback(
                build,
                organisation,
                request.user,
                form.report(),
                files=form.cleaned_data["attachments"],
                request=request,
            )
        except (BetaError, PermissionDeniedError) as exc:
            form.add_error(form.field_for(exc.field), exc.message)
        else:
            messages.success(request, _("Thank you. The product team will triage your report."))
            return redirect(
                "beta:feedback_detail", org_slug=organisation.slug, feedback_id=report.pk
            )
    return render_page(
        request,
        "beta_program/programmes/feedback_new.html",
        {
            "organisation": organisation,
            "programme": programme,
            "builds": builds,
            "form": form,
            "similar_url": reverse(
                "beta:feedback_similar",
                kwargs={"org_slug": organisation.slug, "programme_slug": programme.slug},
            ),
        },
    )


@organisation_view()
@require_GET
def similar_feedback(
    request: HttpRequest, organisation: Organisation, programme_slug: str
) -> JsonResponse:
    """Possible duplicates of the title being typed (JSON for the form's script)."""
    programme = _participant_programme(request, organisation, programme_slug)
    query = request.GET.get("q", "")[:200]
    own = request.user.pk
    results = [
        {
            "id": report.pk,
            "title": report.title,
            "status": report.status_label(),
            # Only one's own reports have a page to open.
            "url": reverse(
                "beta:feedback_detail",
                kwargs={"org_slug": organisation.slug, "feedback_id": report.pk},
            )
            if report.reporter_id == own
            else None,
        }
        for report in similar(request.user, organisation, programme, query)
    ]
    return JsonResponse({"results": results})


@organisation_view()
@require_GET
def my_feedback(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    reports = list(
        feedback_for(request.user, organisation)
        .select_related("programme", "build", "fixed_in_build")
        .order_by("-submitted_at", "-id")[:MY_REPORTS_LIMIT]
    )
    return render_page(
        request,
        "beta_program/programmes/feedback_list.html",
        {"organisation": organisation, "reports": reports},
    )


@organisation_view()
@require_http_methods(["GET", "POST"])
def feedback_detail(request: HttpRequest, organisation: Organisation, feedback_id: int):
    report = feedback_or_404(request.user, organisation, feedback_id)
    form = CommentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            feedback_actions.comment(
                report,
                request.user,
                form.cleaned_data["body"],
                organisation=organisation,
                request=request,
            )
        except (BetaError, PermissionDeniedError) as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Your comment is added."))
            return redirect(
                "beta:feedback_detail", org_slug=organisation.slug, feedback_id=report.pk
            )
    environment = {str(f.pk): f.display_label for f in report.programme.environment_fields.all()}
    return render_page(
        request,
        "beta_program/programmes/feedback_detail.html",
        {
            "organisation": organisation,
            "report": report,
            # Internal notes never leave the admin.
            "comments": list(report.comments.filter(internal=False).select_related("author")),
            "attachments": list(report.attachments.all()),
            "environment": [
                (environment.get(key, key), value) for key, value in report.environment.items()
            ],
            "form": form,
        },
    )


@organisation_view()
@require_GET
def feedback_attachment(
    request: HttpRequest, organisation: Organisation, feedback_id: int, attachment_id: int
) -> HttpResponse:
    report = feedback_or_404(request.user, organisation, feedback_id)
    attachment = report.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404("No such attachment.")
    return attachment_download(attachment)


def attachment_download(attachment: FeedbackAttachment) -> HttpResponse:
    """The file as a download under its uploaded name, never rendered inline (the admin's
    attachment view uses it too)."""
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type,
    )
    return harden_download(response)


@organisation_view()
@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, organisation: Organisation, programme_slug: str, build_id: int):
    programme, build = _participant_build(request, organisation, programme_slug, build_id)
    answered = SurveyResponse.objects.filter(build=build, respondent=request.user).first()
    form = SurveyForm(request.POST if request.method == "POST" and not answered else None)
    if request.method == "POST" and not answered and form.is_valid():
        try:
            feedback_actions.answer_survey(
                build,
                organisation,
                request.user,
                nps=form.cleaned_data["nps"],
                csat=form.cleaned_data["csat"],
                comment_text=form.cleaned_data["comment"],
                request=request,
            )
        except (BetaError, PermissionDeniedError) as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Thank you for answering the survey."))
            return redirect(
                "beta:programme", org_slug=organisation.slug, programme_slug=programme.slug
            )
    return render_page(
        request,
        "beta_program/programmes/survey.html",
        {
            "organisation": organisation,
            "programme": programme,
            "build": build,
            "answered": answered,
            "form": form,
        },
    )
