"""Carbon reports in the Wagtail admin for vendor sustainability staff: every report (filters,
download), and "Generate reports": pick customers, or every customer of a tier, and a period,
language and format: one report per organisation, plus optionally one on every customer.

Reports change only through carbon/reports/actions.py: the generic add and edit forms are off
(read-only permission policy); the generate view checks `carbon.add_report` and calls the
action, which checks again who may and writes the audit trail."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn, UserColumn
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import HeaderButton
from wagtail.permissions import register_permission_policy

from carbon.models import Report, ReportStatus
from carbon.reports import actions
from carbon.reports.exceptions import ReportError
from carbon.reports.forms import ReportForm
from carbon.reports.http import download_response
from carbon.reports.permissions import PERM_ADMIN_GENERATE, PERM_ADMIN_VIEW
from portal.admin_common import ActionFormView, inspect_field, status_column
from portal.exceptions import PortalError
from portal.models import Organisation, Tier
from portal.wagtail_hooks import IndexQuerysetMixin, ReadOnlyPermissionPolicy

register_permission_policy(Report, ReadOnlyPermissionPolicy(Report))


def _scope(report: Report) -> str:
    return report.organisation.name if report.organisation else str(_("All customers"))


class GenerateReportsForm(ReportForm):
    organisations = forms.ModelMultipleChoiceField(
        label=_("Customers"),
        queryset=Organisation.objects.filter(is_active=True).order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("One report per customer picked."),
    )
    tier = forms.ChoiceField(
        label=_("Every customer of a tier"),
        choices=[("", "—"), *Tier.choices],
        required=False,
        help_text=_("Adds one report for each active customer of the tier."),
    )
    all_customers = forms.BooleanField(label=_("Also one report on every customer"), required=False)
    field_order = ["organisations", "tier", "all_customers"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if not (data.get("organisations") or data.get("tier") or data.get("all_customers")):
            self.add_error("organisations", _("Pick customers, a tier, or every customer."))
        return data

    def targets(self) -> list[Organisation | None]:
        """The organisations to report on, each once, by name; None (every customer) last."""
        data = self.cleaned_data
        chosen = {o.pk: o for o in data.get("organisations") or ()}
        if data.get("tier"):
            for organisation in Organisation.objects.filter(is_active=True, tier=data["tier"]):
                chosen.setdefault(organisation.pk, organisation)
        targets: list[Organisation | None] = [*sorted(chosen.values(), key=lambda o: o.name)]
        if data.get("all_customers"):
            targets.append(None)
        return targets


class GenerateReportsView(ActionFormView):
    page_title = _("Generate reports")
    header_icon = "doc-full"
    form_class = GenerateReportsForm
    submit_button_label = _("Generate")
    index_label = _("Carbon reports")

    def has_permission(self, user) -> bool:
        return user.has_perm(PERM_ADMIN_GENERATE)

    def back(self):
        return redirect(reverse(self.viewset.get_url_name("index")))

    def form_valid(self, form):
        data = form.cleaned_data
        made, refused = 0, []
        for organisation in form.targets():
            try:
                actions.request_report(
                    organisation,
                    data["period"],
                    language=data["language"],
                    format=data["format"],
                    restated=data["restated"],
                    by=self.acting_user,
                    request=self.request,
                )
            except ReportError as error:
                refused.append(
                    f"{organisation.name if organisation else _('All customers')}: {error.message}"
                )
            except PortalError as error:
                raise PermissionDenied(error.message) from error
            else:
                made += 1
        if made:
            messages.success(
                self.request,
                _("%(n)s report(s) requested; each is generated in the background.") % {"n": made},
            )
        for refusal in refused:
            messages.error(self.request, refusal)
        return self.back()


class ReportIndexView(IndexView):
    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if self.request.user.has_perm(PERM_ADMIN_GENERATE):
            buttons.append(
                HeaderButton(
                    _("Generate reports"),
                    url=reverse("carbon_reports:generate"),
                    icon_name="doc-full",
                )
            )
        return buttons


class ReportInspectView(InspectView):
    def get_object(self, queryset=None):
        return get_object_or_404(
            Report.objects.select_related("organisation", "requested_by"), pk=self.pk
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        report = self.object
        download = "—"
        if report.downloadable:
            download = format_html(
                '<a class="button button-small" href="{}">{}</a>',
                reverse("carbon_reports:download", args=(report.pk,)),
                _("Download"),
            )
        progress = f"{report.progress} %"
        if report.step:
            progress = f"{report.get_step_display()}: {progress}"
        context["fields"] = [
            inspect_field(_("Customer"), _scope(report)),
            inspect_field(_("Progress"), progress),
            inspect_field(_("File"), download),
            *context["fields"],
        ]
        return context


def download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A report's file from the admin: staff who may read reports; audited."""
    user = request.user
    if not user.is_authenticated or not user.has_perm(PERM_ADMIN_VIEW):
        raise PermissionDenied
    report = get_object_or_404(Report.objects.select_related("organisation"), pk=pk)
    if not report.downloadable:
        raise Http404
    actions.record_download(report, by=user, request=request)
    return download_response(report)


class ReportViewSet(IndexQuerysetMixin, ModelViewSet):
    model = Report
    add_to_reference_index = False
    name = "carbon_reports"
    icon = "doc-full"
    menu_label = _("Carbon reports")
    menu_order = 215
    add_to_admin_menu = True
    exclude_form_fields: list[str] = []
    index_view_class = ReportIndexView
    inspect_view_class = ReportInspectView
    list_display = [
        TitleColumn(
            "customer",
            label=_("Customer"),
            accessor=_scope,
            get_url=lambda r: reverse("carbon_reports:inspect", args=(r.pk,)),
        ),
        Column("period", label=_("Period"), accessor=lambda r: str(r.period)),
        Column("format", label=_("Format"), accessor=lambda r: r.format.upper()),
        "language",
        "basis",
        status_column(lambda r: r.status == ReportStatus.FAILED),
        UserColumn("requested_by", label=_("Requested by")),
        DateColumn("created_at", label=_("Created"), sort_key="created_at"),
    ]
    list_filter = ["status", "format", "language", "basis", "organisation"]
    search_fields = ["organisation__name", "data_hash"]
    inspect_view_enabled = True
    inspect_view_fields = [
        "public_id",
        "period_start",
        "period_end",
        "language",
        "format",
        "basis",
        "figures_as_of",
        "as_issued_as_of",
        "status",
        "error",
        "requested_by",
        "created_at",
        "started_at",
        "finished_at",
        "expires_at",
        "size",
        "sha256",
        "data_hash",
    ]
    copy_view_enabled = False
    ordering = ["-created_at"]
    list_per_page = 50

    def get_queryset(self, request):
        return Report.objects.select_related("organisation", "requested_by").defer("summary")

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("generate/", GenerateReportsView.as_view(viewset=self), name="generate"),
            path("<int:pk>/download/", download, name="download"),
        ]
