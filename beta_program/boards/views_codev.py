"""The co-development page of an idea on a private board (/o/<slug>/ideas/<id>/co-development/):
co-owners, milestones and shared documents, for the board's organisations and the vendor team.
An idea the organisation may not see, or one on a public board, answers 404."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from beta_program.boards import codev_actions
from beta_program.boards.access import can_manage, idea_or_404, may_share_documents
from beta_program.boards.models import Idea, MilestoneStatus
from portal.exceptions import PortalError
from portal.models import Organisation
from portal.security import harden_download
from portal.views import organisation_view


class MilestoneForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Milestone"), max_length=160)
    title_zh = forms.CharField(label=gettext_lazy("In Chinese"), max_length=160, required=False)
    due_on = forms.DateField(
        label=gettext_lazy("Due"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class MilestoneUpdateForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=MilestoneStatus.choices)
    due_on = forms.DateField(
        label=gettext_lazy("Due"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class DocumentForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200, required=False)
    file = forms.FileField(
        label=gettext_lazy("File"), help_text=gettext_lazy("PDF or image, up to 20 MB.")
    )


class CoOwnersForm(forms.Form):
    co_owners = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Co-owning organisations"),
        queryset=Organisation.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, idea: Idea, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["co_owners"].queryset = idea.board.organisations.order_by("name")


def _codev_idea(request: HttpRequest, organisation: Organisation, idea_id: int) -> Idea:
    idea = idea_or_404(request.user, organisation, idea_id)
    if not idea.board.is_private or idea.merged_into_id is not None:
        raise Http404("No co-development on this idea.")
    return idea


def _page(request, organisation, idea, status: int = 200, **forms_given) -> HttpResponse:
    keeps_plan = codev_actions.may_keep_milestones(request.user, organisation, idea)
    milestones = list(idea.milestones.all())
    context = {
        "organisation": organisation,
        "idea": idea,
        "co_owners": list(idea.co_owners.order_by("name")),
        "milestones": [
            (
                m,
                MilestoneUpdateForm(
                    initial={"status": m.status, "due_on": m.due_on}, prefix=f"m{m.pk}"
                ),
            )
            for m in milestones
        ],
        "documents": list(idea.documents.select_related("organisation")),
        "keeps_plan": keeps_plan,
        "may_share": may_share_documents(request.user, organisation, idea),
        "is_product_staff": can_manage(request.user),
        "milestone_form": forms_given.get("milestone_form") or MilestoneForm(),
        "document_form": forms_given.get("document_form") or DocumentForm(),
        "co_owners_form": forms_given.get("co_owners_form")
        or CoOwnersForm(idea=idea, initial={"co_owners": idea.co_owners.all()}),
    }
    return render(request, "beta_program/boards/codev.html", context, status=status)


@require_GET
@organisation_view()
def codev(request: HttpRequest, organisation: Organisation, idea_id: int) -> HttpResponse:
    return _page(request, organisation, _codev_idea(request, organisation, idea_id))


def _back(organisation: Organisation, idea: Idea) -> HttpResponse:
    return redirect("beta:idea_codev", org_slug=organisation.slug, idea_id=idea.pk)


def _refused(request, organisation, idea, error: PortalError, form: forms.Form, key: str):
    if error.field and error.field in form.fields:
        form.add_error(error.field, error.message)
    else:
        form.add_error(None, error.message)
    return _page(request, organisation, idea, status=error.status, **{key: form})


@require_POST
@organisation_view()
def add_milestone(request: HttpRequest, organisation: Organisation, idea_id: int) -> HttpResponse:
    idea = _codev_idea(request, organisation, idea_id)
    form = MilestoneForm(request.POST)
    if not form.is_valid():
        return _page(request, organisation, idea, status=422, milestone_form=form)
    try:
        codev_actions.add_milestone(
            idea, organisation, request.user, request=request, **form.cleaned_data
        )
    except PortalError as error:
        return _refused(request, organisation, idea, error, form, "milestone_form")
    messages.success(request, _("Milestone added."))
    return _back(organisation, idea)


@require_POST
@organisation_view()
def update_milestone(
    request: HttpRequest, organisation: Organisation, idea_id: int, milestone_id: int
) -> HttpResponse:
    idea = _codev_idea(request, organisation, idea_id)
    milestone = idea.milestones.filter(pk=milestone_id).first()
    if milestone is None:
        raise Http404("No such milestone.")
    form = MilestoneUpdateForm(request.POST, prefix=f"m{milestone.pk}")
    if not form.is_valid():
        messages.error(request, _("Choose a status and a due date (YYYY-MM-DD)."))
        return _back(organisation, idea)
    try:
        codev_actions.update_milestone(
            milestone, organisation, request.user, request=request, **form.cleaned_data
        )
    except PortalError as error:
        messages.error(request, error.message)
        return _back(organisation, idea)
    messages.success(request, _("Milestone updated."))
    return _back(organisation, idea)


@require_POST
@organisation_view()
def share_document(request: HttpRequest, organisation: Organisation, idea_id: int) -> HttpResponse:
    idea = _codev_idea(request, organisation, idea_id)
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, organisation, idea, status=422, document_form=form)
    try:
        codev_actions.share_document(
            idea,
            organisation,
            request.user,
            form.cleaned_data["file"],
            title=form.cleaned_data["title"],
            request=request,
        )
    except PortalError as error:
        return _refused(request, organisation, idea, error, form, "document_form")
    messages.success(request, _("Document shared with the board's organisations."))
    return _back(organisation, idea)


@require_POST
@organisation_view()
def set_co_owners(request: HttpRequest, organisation: Organisation, idea_id: int) -> HttpResponse:
    idea = _codev_idea(request, organisation, idea_id)
    form = CoOwnersForm(request.POST, idea=idea)
    if not form.is_valid():
        return _page(request, organisation, idea, status=422, co_owners_form=form)
    try:
        codev_actions.set_co_owners(
            idea, list(form.cleaned_data["co_owners"]), request.user, request=request
        )
    except PortalError as error:
        return _refused(request, organisation, idea, error, form, "co_owners_form")
    messages.success(request, _("Co-owners saved."))
    return _back(organisation, idea)


@require_GET
@organisation_view()
def document(
    request: HttpRequest, organisation: Organisation, idea_id: int, document_id: int
) -> HttpResponse:
    idea = _codev_idea(request, organisation, idea_id)
    found = idea.documents.filter(pk=document_id).first()
    if found is None:
        raise Http404("No such document.")
    response = FileResponse(
        found.file.open("rb"),
        as_attachment=True,
        filename=found.name,
        content_type=found.content_type,
    )
    return harden_download(response)
