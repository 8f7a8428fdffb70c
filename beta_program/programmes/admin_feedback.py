"""The triage queue in the Wagtail admin (Beta programmes > Feedback): filters by programme,
status, severity, assignee and overdue; the SLA column highlights reports past their triage
due time; the detail shows the report with internal notes and history, and links the triage
and comment screens. Reports change only through `feedback_actions`. The CSV export (the
listing's filters apply) neutralises formula cells and starts with a UTF-8 BOM so that
spreadsheet programs read Chinese text correctly."""

from __future__ import annotations

from itertools import chain
from typing import Any

import django_filters
from django import forms
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.views import View
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn, StatusTagColumn
from wagtail.admin.views.generic import InspectView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import HeaderButton
from wagtail.permissions import register_permission_policy

from beta_program.programmes import feedback_actions, sla
from beta_program.programmes.access import can_manage, is_beta_staff
from beta_program.programmes.exceptions import BetaError
from beta_program.programmes.feedback_models import (
    TRIAGE_TRANSITIONS,
    Feedback,
    Severity,
    TriageStatus,
)
from beta_program.programmes.feedback_views import attachment_download
from beta_program.programmes.models import Build, Programme
from portal.admin_common import (
    ActionFormView,
    Html,
    ObjectActionsViewSetMixin,
    definition_list,
    format_when,
    format_who,
    inspect_field,
)
from portal.csv_export import SafeExportIndexView
from portal.models import User
from portal.wagtail_hooks import IndexQuerysetMixin, ReadOnlyPermissionPolicy

register_permission_policy(Feedback, ReadOnlyPermissionPolicy(Feedback))


def sla_label(report: Feedback) -> str:
    state = sla.sla_state(report.triage_due_at, report.first_triaged_at)
    if state.due_at is None:
        return "—"
    if state.overdue:
        return str(_("Overdue since %(when)s") % {"when": format_when(state.due_at)})
    if state.triaged_at is not None:
        return str(_("Triaged late") if state.missed else _("Triaged in time"))
    return str(_("Due %(when)s") % {"when": format_when(state.due_at)})


def is_overdue(report: Feedback) -> bool:
    return sla.sla_state(report.triage_due_at, report.first_triaged_at).overdue


def staff_users():
    return User.objects.filter(is_staff=True, is_active=True).order_by("email")


class FeedbackFilterSet(WagtailFilterSet):
    programme = django_filters.ModelChoiceFilter(
        label=_("Programme"), queryset=Programme.objects.order_by("name")
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=TriageStatus.choices)
    severity = django_filters.ChoiceFilter(label=_("Severity"), choices=Severity.choices)
    assignee = django_filters.ModelChoiceFilter(label=_("Assignee"), queryset=staff_users())
    # A choice rather than a boolean: an unticked box would filter (and show) "False".
    overdue = django_filters.ChoiceFilter(
        label=_("Triage SLA"),
        choices=[("1", _("Overdue for triage"))],
        method="filter_overdue",
    )

    class Meta:
        model = Feedback
        fields = ["programme", "status", "severity", "assignee", "overdue"]

    def filter_overdue(self, queryset, name, value):
        return queryset.filter(sla.overdue_q()) if value == "1" else queryset


class FeedbackIndexView(SafeExportIndexView):
    def write_csv_response(self, queryset):
        response = StreamingHttpResponse(
            chain(["\ufeff"], self.stream_csv(queryset)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{self.get_filename()}.csv"'
        return response


class FeedbackInspectView(InspectView):
    viewset: Any = None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        report: Feedback = self.object
        environment = {str(f.pk): f.label for f in report.programme.environment_fields.all()}
        comments = report.comments.select_related("author")
        history = report.triage_changes.select_related("changed_by")
        attachments = report.attachments.all()
        context["fields"] = [
            inspect_field(_("Status"), report.status_label()),
            inspect_field(_("Triage SLA"), sla_label(report)),
            inspect_field(_("Programme"), report.programme),
            inspect_field(_("Build"), report.build.version),
            inspect_field(_("Organisation"), report.organisation),
            inspect_field(_("Reporter"), format_who(report.reporter)),
            inspect_field(_("Assignee"), format_who(report.assignee)),
            inspect_field(_("Kind"), report.get_kind_display()),
            inspect_field(_("Severity"), report.get_severity_display() or "—"),
            inspect_field(_("Frequency"), report.get_frequency_display() or "—"),
            inspect_field(_("Title"), report.title),
            inspect_field(_("Steps to reproduce"), report.steps or "—"),
            inspect_field(_("Expected result"), report.expected or "—"),
            inspect_field(_("Actual result"), report.actual or "—"),
            inspect_field(_("Description"), report.description or "—"),
            inspect_field(
                _("Environment"),
                None,
                definition_list(
                    [(environment.get(k, k), v) for k, v in report.environment.items()]
                    or [("—", "")]
                ),
            ),
            inspect_field(
                _("Attachments"),
                None,
                Html(
                    format_html_join(
                        " · ",
                        '<a href="{}">{}</a>',
                        ((self.viewset.attachment_url(a), a.name) for a in attachments),
                    )
                    or "—"
                ),
            ),
            inspect_field(
                _("Comments and internal notes"),
                None,
                definition_list(
                    [
                        (
                            f"{format_when(c.created_at)} · {format_who(c.author)}",
                            format_html(
                                "{}{}",
                                format_html("<strong>{}</strong> ", _("Internal note:"))
                                if c.internal
                                else "",
                                c.body,
                            ),
                        )
                        for c in comments
                    ]
                    or [("—", _("No comments yet."))]
                ),
            ),
            inspect_field(
                _("Status history"),
                None,
                definition_list(
                    [
                        (
                            format_when(change.changed_at),
                            f"{change.get_from_status_display()} → "
                            f"{change.get_to_status_display()} ({format_who(change.changed_by)})",
                        )
                        for change in history
                    ]
                    or [("—", _("No change yet"))]
                ),
            ),
        ]
        return context

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if can_manage(self.request.user):
            buttons.append(
                HeaderButton(
                    _("Triage"), url=self.viewset.url("triage", self.object), icon_name="resubmit"
                )
            )
            buttons.append(
                HeaderButton(
                    _("Comment"), url=self.viewset.url("comment", self.object), icon_name="comment"
                )
            )
        return buttons


class TriageForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), required=False)
    fixed_in_build = forms.ModelChoiceField(
        label=_("Fixed in build"), queryset=Build.objects.none(), required=False
    )
    duplicate_of = forms.IntegerField(
        label=_("Duplicate of report #"), required=False, min_value=1, max_value=2**62
    )
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=User.objects.none(), required=False
    )

    def __init__(self, *args: Any, report: Feedback, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = TRIAGE_TRANSITIONS[report.status]
        status = self.fields["status"]
        if isinstance(status, forms.ChoiceField):
            status.choices = [
                ("", _("Keep the status")),
                *[(s.value, s.label) for s in TriageStatus if s in allowed],
            ]
        builds = self.fields["fixed_in_build"]
        if isinstance(builds, forms.ModelChoiceField):
            builds.queryset = Build.objects.filter(programme_id=report.programme_id)
        assignee = self.fields["assignee"]
        if isinstance(assignee, forms.ModelChoiceField):
            assignee.queryset = staff_users()
        self.initial.setdefault("assignee", report.assignee_id)


class TriageView(ActionFormView):
    page_title = _("Triage report")
    header_icon = "resubmit"
    index_label = _("Feedback")
    form_class = TriageForm
    submit_button_label = _("Save")
    refused = (BetaError,)
    refusals_on_form = True

    def has_permission(self, user) -> bool:
        return can_manage(user)

    def get_object(self) -> Feedback:
        return get_object_or_404(
            Feedback.objects.select_related("programme", "assignee"), pk=self.kwargs["pk"]
        )

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "report": self.object}

    def summary(self):
        return definition_list(
            [
                (_("Report"), self.object),
                (_("Status now"), self.object.status_label()),
                (_("Triage SLA"), sla_label(self.object)),
            ]
        )

    def perform(self, form) -> str:
        report = self.object
        data = form.cleaned_data
        if data["assignee"] != report.assignee:
            feedback_actions.assign(
                report, data["assignee"], self.acting_user, request=self.request
            )
        if data["status"]:
            duplicate = None
            if data["duplicate_of"]:
                duplicate = Feedback.objects.filter(pk=data["duplicate_of"]).first()
            feedback_actions.transition(
                report,
                data["status"],
                self.acting_user,
                fixed_in_build=data["fixed_in_build"],
                duplicate_of=duplicate,
                request=self.request,
            )
        return _("Report #%(id)s: %(status)s.") % {"id": report.pk, "status": report.status_label()}


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Comment"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    internal = forms.BooleanField(
        label=_("Internal note (customers never see it)"), required=False, initial=True
    )


class CommentView(ActionFormView):
    page_title = _("Comment on report")
    header_icon = "comment"
    index_label = _("Feedback")
    form_class = CommentForm
    submit_button_label = _("Add comment")
    refused = (BetaError,)
    refusals_on_form = True

    def has_permission(self, user) -> bool:
        return can_manage(user)

    def get_object(self) -> Feedback:
        return get_object_or_404(Feedback, pk=self.kwargs["pk"])

    def summary(self):
        return definition_list([(_("Report"), self.object)])

    def perform(self, form) -> str:
        feedback_actions.comment(
            self.object,
            self.acting_user,
            form.cleaned_data["body"],
            internal=form.cleaned_data["internal"],
            request=self.request,
        )
        return _("Comment added.")


class AttachmentView(View):
    """A report's attachment for staff who may see feedback."""

    def get(self, request, pk: int, attachment_id: int):
        if not (
            is_beta_staff(request.user) and request.user.has_perm("beta_program.view_feedback")
        ):
            raise Http404
        report = get_object_or_404(Feedback, pk=pk)
        return attachment_download(get_object_or_404(report.attachments, pk=attachment_id))


class FeedbackViewSet(ObjectActionsViewSetMixin, IndexQuerysetMixin, ModelViewSet):
    model = Feedback
    name = "beta_feedback"
    icon = "warning"
    menu_label = _("Feedback")
    add_to_admin_menu = False
    exclude_form_fields: list[str] = []
    index_view_class = FeedbackIndexView
    inspect_view_class = FeedbackInspectView
    filterset_class = FeedbackFilterSet
    inspect_view_enabled = True
    copy_view_enabled = False
    list_display = [
        Column("id", label="#", sort_key="id"),
        "title",
        "programme",
        "organisation",
        Column("severity", label=_("Severity"), accessor="get_severity_display"),
        StatusTagColumn(
            "status",
            label=_("Status"),
            accessor="status_label",
            primary=lambda f: f.status == TriageStatus.NEW,
            sort_key="status",
        ),
        StatusTagColumn(
            "triage_due_at",
            label=_("Triage SLA"),
            accessor=sla_label,
            primary=is_overdue,
            sort_key="triage_due_at",
        ),
        Column("assignee", label=_("Assignee"), accessor=lambda f: format_who(f.assignee)),
        DateColumn("submitted_at", label=_("Submitted"), sort_key="submitted_at"),
    ]
    list_export = [
        "id",
        "title",
        "kind",
        "severity",
        "frequency",
        "status",
        "programme",
        "build",
        "organisation",
        "assignee",
        "submitted_at",
        "triage_due_at",
        "first_triaged_at",
        "steps",
        "expected",
        "actual",
        "description",
    ]
    export_filename = "beta-feedback"
    search_fields = ["title", "organisation__name"]
    # Oldest first: the queue is worked in the order reports came in.
    ordering = ["submitted_at", "id"]
    object_actions = {"triage": TriageView, "comment": CommentView}

    def get_queryset(self, request):
        return Feedback.objects.select_related(
            "programme", "organisation", "assignee", "build", "fixed_in_build"
        )

    def attachment_url(self, attachment) -> str:
        return reverse(
            self.get_url_name("attachment"), args=(attachment.feedback_id, attachment.pk)
        )

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path(
                "attachment/<int:pk>/<int:attachment_id>/",
                AttachmentView.as_view(),
                name="attachment",
            ),
        ]
