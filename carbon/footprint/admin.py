"""Staff screens for carbon accounting in the Wagtail admin: emission-factor datasets with their
approval workflow, a read-only factor listing, products, green-power declarations (verify or
reject, evidence download), order imports (upload a CSV, follow the job) and read-only orders.

Every state change goes through an action in carbon/footprint/datasets.py,
carbon/footprint/declarations.py or carbon/footprint/importer.py; these views parse, authorise, call
one action and respond, using Wagtail's own templates and components.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views import View
from django.views.generic import TemplateView
from wagtail.admin.ui.tables import (
    BooleanColumn,
    Column,
    DateColumn,
    Table,
    UserColumn,
)
from wagtail.admin.views.generic import CreateView, IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.admin.widgets import HeaderButton

from carbon.footprint import datasets, declarations, permissions
from carbon.footprint.forms import ImportForm as OrderImportForm
from carbon.footprint.importer import COLUMNS, start_import
from carbon.footprint.permissions import PERM_UPLOAD_ORDERS
from carbon.models import (
    CalculationSnapshot,
    DatasetStatus,
    DeclarationStatus,
    EmissionFactor,
    FactorDataset,
    GreenPowerDeclaration,
    ImportJob,
    ImportStatus,
    Leg,
    Order,
    OrderLine,
    Product,
    Shipment,
)
from portal import audit
from portal.admin_common import (
    ActionFormView,
    ConfirmForm,
    DraftOnlyEditView,
    DraftOnlyInspectView,
    Html,
    ObjectActionMixin,
    ObjectActionsViewSetMixin,
    definition_list,
    format_when,
    format_who,
    inspect_field,
    status_column,
)
from portal.csv_export import SafeExportIndexView
from portal.models import Organisation
from portal.security import harden_download
from portal.wagtail_hooks import IndexQuerysetMixin

# --- dataset views


DATASET_FIELDS = [
    "slug",
    "title",
    "publisher",
    "publication_date",
    "licence",
    "source_url",
    "gwp_basis",
    "distance_basis",
    "notes",
]


def factor_table(factors) -> Table:
    return Table(
        [
            Column("category", label=_("Category")),
            Column("energy_scope", label=pgettext_lazy("energy scope: TTW, WTT or WTW", "Scope")),
            BooleanColumn("radiative_forcing", label=_("RF")),
            Column("value", label=_("Value")),
            Column("unit", label=_("Unit")),
            Column("region", label=_("Region")),
            Column("source_id", label=_("Source row")),
            Column("source_label", label=_("Source label")),
        ],
        factors,
    )


def change_table(changes) -> Table:
    return Table(
        [
            Column("category", label=_("Category")),
            Column("energy_scope", label=pgettext_lazy("energy scope: TTW, WTT or WTW", "Scope")),
            BooleanColumn("radiative_forcing", label=_("RF")),
            Column("region", label=_("Region")),
            Column("old_value", label=_("Old value")),
            Column("new_value", label=_("New value")),
            Column(
                "changed_fields",
                label=_("Changed"),
                accessor=lambda c: ", ".join(c.changed_fields),
            ),
        ],
        changes,
    )


class DatasetCreateView(CreateView):
    def save_instance(self):
        fields = {name: self.form.cleaned_data[name] for name in DATASET_FIELDS}
        return datasets.create_draft_dataset(by=self.request.user, request=self.request, **fields)


class DatasetEditView(DraftOnlyEditView):
    draft_status = DatasetStatus.DRAFT
    not_draft_message = _(
        "Only a draft can be edited. Make a new version to correct a published dataset."
    )

    def save_instance(self):
        return datasets.update_draft_dataset(
            self.form.instance, by=self.request.user, request=self.request
        )


class DatasetInspectView(DraftOnlyInspectView):
    """The citation, the workflow state and every factor of a dataset."""

    viewset = None  # set by the viewset
    draft_status = DatasetStatus.DRAFT

    @cached_property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        user = self.request.user
        if not permissions.can_manage_datasets(user):
            return buttons
        ds, vs = self.object, self.viewset
        if ds.status == DatasetStatus.DRAFT:
            buttons.append(
                HeaderButton(_("Import factors CSV"), url=vs.url("import", ds), icon_name="upload")
            )
            buttons.append(
                HeaderButton(_("Submit for approval"), url=vs.url("submit", ds), icon_name="mail")
            )
        if ds.status == DatasetStatus.AWAITING_APPROVAL and ds.submitted_by_id != user.pk:
            buttons.append(
                HeaderButton(_("Approve and publish"), url=vs.url("approve", ds), icon_name="tick")
            )
        if ds.is_published:
            buttons.append(
                HeaderButton(_("New version"), url=vs.url("new_version", ds), icon_name="copy")
            )
        if previous_version(ds) is not None:
            buttons.append(
                HeaderButton(
                    _("Compare with previous version"), url=vs.url("compare", ds), icon_name="doc"
                )
            )
        return buttons

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        ds = self.object
        state = ds.get_status_display()
        if ds.status == DatasetStatus.AWAITING_APPROVAL:
            state = _(
                "%(status)s: submitted by %(who)s; another sustainability staff member "
                "must approve it."
            ) % {
                "status": state,
                "who": ds.submitted_by or "?",
            }
        elif ds.is_published:
            state = _("%(status)s %(when)s, approved by %(who)s") % {
                "status": state,
                "when": ds.published_at.date() if ds.published_at else "",
                "who": ds.approved_by or _("the reference data loader (cited file)"),
            }
        factors = ds.factors.order_by("category", "energy_scope", "radiative_forcing", "region")
        context["fields"] = [
            inspect_field(_("Workflow"), state),
            *context["fields"],
            inspect_field(_("Factors (%(n)s)") % {"n": factors.count()}, "", factor_table(factors)),
        ]
        return context


def previous_version(dataset: FactorDataset) -> FactorDataset | None:
    if dataset.supersedes_id:
        return dataset.supersedes
    return (
        FactorDataset.objects.filter(slug=dataset.slug, version__lt=dataset.version)
        .order_by("-version")
        .first()
    )


class DatasetActionMixin(ObjectActionMixin):
    """Shared by the workflow screens: load the dataset, require sustainability staff."""

    header_icon = "table"
    index_label = _("Datasets")

    def has_permission(self, user) -> bool:
        return permissions.can_manage_datasets(user)

    def get_object(self) -> FactorDataset:
        return get_object_or_404(FactorDataset, pk=self.kwargs["pk"])

    def get_page_subtitle(self):
        return str(self.object)


class ApproveForm(forms.Form):
    make_default = forms.BooleanField(
        label=_("Make this the default dataset"),
        required=False,
        help_text=_("Requests that name no dataset will use it."),
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Factors CSV"),
        help_text=_(
            "UTF-8 CSV with the columns category, kind, energy_scope, radiative_forcing, value, "
            "unit, region, valid_from, valid_to, source_label, source_id, description. Nothing is "
            "imported unless every row is valid."
        ),
    )


class DatasetFormView(DatasetActionMixin, ActionFormView):
    form_class = ConfirmForm
    refused = (datasets.DatasetError,)


class ImportFactorsView(DatasetFormView):
    page_title = _("Import factors CSV")
    form_class = ImportForm
    submit_button_label = _("Import")
    refused = (datasets.FactorFileError, datasets.DatasetError)

    def perform(self, form):
        count = datasets.import_factors_csv(
            self.object, form.cleaned_data["file"], by=self.request.user, request=self.request
        )
        return _("Imported %(n)s factors.") % {"n": count}

    def refused_response(self, form, exc):
        if not isinstance(exc, datasets.FactorFileError):
            return super().refused_response(form, exc)
        for problem in exc.errors[:50]:
            form.add_error("file", str(problem))
        messages.error(
            self.request,
            _("Nothing was imported: %(n)s problem(s) in the file.") % {"n": len(exc.errors)},
        )
        return self.form_invalid(form)


class SubmitDatasetView(DatasetFormView):
    page_title = _("Submit for approval")
    submit_button_label = _("Submit for approval")

    def perform(self, form):
        datasets.submit_for_approval(self.object, self.request.user, request=self.request)
        return _("Submitted. Another sustainability staff member must approve it.")


class ApproveDatasetView(DatasetFormView):
    page_title = _("Approve and publish")
    form_class = ApproveForm
    submit_button_label = _("Approve and publish")

    def get_initial(self):
        previous = self.object.supersedes
        return {"make_default": bool(previous and previous.is_default)}

    def perform(self, form):
        datasets.approve_and_publish(
            self.object,
            self.request.user,
            make_default=form.cleaned_data["make_default"],
            request=self.request,
        )
        return _("Published %(label)s.") % {"label": self.object.label}


class NewVersionView(DatasetFormView):
    page_title = _("New version")
    submit_button_label = _("Create draft version")

    def form_valid(self, form):
        draft = datasets.create_new_version(self.object, self.request.user, request=self.request)
        messages.success(self.request, _("Draft %(label)s created.") % {"label": draft.label})
        return redirect(self.viewset.url("inspect", draft))


class CompareDatasetView(DatasetActionMixin, TemplateView):
    page_title = _("Compare with previous version")
    template_name = "wagtailadmin/generic/inspect.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        previous = previous_version(self.object)
        if previous is None:
            context["fields"] = [inspect_field(_("Previous version"), _("None"))]
            return context
        diff = datasets.compare_datasets(previous, self.object)
        context["fields"] = [
            inspect_field(_("Compared"), f"{previous.label} → {self.object.label}"),
            inspect_field(_("Unchanged factors"), diff.unchanged),
        ]
        for label, rows in (
            (_("Changed"), diff.changed),
            (_("Added"), diff.added),
            (_("Removed"), diff.removed),
        ):
            context["fields"].append(
                inspect_field(f"{label} ({len(rows)})", "-", change_table(rows) if rows else None)
            )
        return context


class FactorDatasetViewSet(ObjectActionsViewSetMixin, ModelViewSet):
    model = FactorDataset
    name = "carbon_datasets"
    icon = "table"
    menu_label = _("Datasets")
    add_to_admin_menu = False
    form_fields = DATASET_FIELDS
    list_display = ["title", "slug", "version", "status", "is_default", "publisher", "published_at"]
    list_filter = ["status", "is_default", "publisher"]
    search_fields = ["title", "slug", "publisher"]
    inspect_view_enabled = True
    copy_view_enabled = False
    add_view_class = DatasetCreateView
    edit_view_class = DatasetEditView
    inspect_view_class = DatasetInspectView
    inspect_view_fields = [
        "slug",
        "version",
        "title",
        "publisher",
        "publication_date",
        "licence",
        "source_url",
        "gwp_basis",
        "distance_basis",
        "is_default",
        "supersedes",
        "created_by",
        "notes",
    ]
    object_actions = {
        "import": ImportFactorsView,
        "submit": SubmitDatasetView,
        "approve": ApproveDatasetView,
        "new_version": NewVersionView,
        "compare": CompareDatasetView,
    }


class EmissionFactorViewSet(IndexQuerysetMixin, ModelViewSet):
    model = EmissionFactor
    name = "carbon_factors"
    icon = "list-ul"
    menu_label = _("Emission factors")
    add_to_admin_menu = False
    # Required by ModelViewSet; the read-only policy never lets anyone reach the form.
    exclude_form_fields: list[str] = []
    list_display = [
        "category",
        "energy_scope",
        "radiative_forcing",
        "value",
        "unit",
        "region",
        "dataset",
        "source_id",
    ]
    list_filter = ["dataset", "category", "energy_scope", "kind", "radiative_forcing", "region"]
    search_fields = ["category", "description", "source_label", "source_id"]
    # The export has the columns of a factor file, so it can be edited and imported back.
    list_export = ["dataset", *datasets.FACTOR_COLUMNS]
    export_filename = "greenloop-emission-factors"
    index_view_class = SafeExportIndexView
    inspect_view_enabled = True
    copy_view_enabled = False
    list_per_page = 50

    def get_queryset(self, request):
        return EmissionFactor.objects.select_related("dataset")


class ProductViewSet(ModelViewSet):
    model = Product
    name = "carbon_products"
    icon = "tag"
    menu_label = _("Products")
    add_to_admin_menu = False
    form_fields = ["sku", "name", "electricity_kwh_per_unit"]
    list_display = ["sku", "name", "electricity_kwh_per_unit"]
    search_fields = ["sku", "name"]
    list_export = ["sku", "name", "electricity_kwh_per_unit"]
    index_view_class = SafeExportIndexView
    copy_view_enabled = False
    inspect_view_enabled = True


# --- green-power declarations


def _decided_text(declaration: GreenPowerDeclaration) -> str:
    return _(
        "This declaration was %(status)s by %(who)s on %(when)s. A decision is final: the "
        "customer submits a new declaration to change it."
    ) % {
        "status": declaration.get_status_display().lower(),
        "who": format_who(declaration.verified_by),
        "when": format_when(declaration.verified_at),
    }


def _ratio(declaration: GreenPowerDeclaration) -> str:
    return f"{declaration.green_ratio * 100:.1f} %"


def _period(declaration: GreenPowerDeclaration) -> str:
    return f"{declaration.period_start:%Y-%m-%d} – {declaration.period_end:%Y-%m-%d}"


class DeclarationInspectView(InspectView):
    """Every field of a declaration, a link to its evidence and the verify/reject actions."""

    viewset = None  # set by the viewset

    def get_object(self, queryset=None):
        return get_object_or_404(
            GreenPowerDeclaration.objects.select_related(
                "organisation", "site", "submitted_by", "verified_by"
            ),
            pk=self.pk,
        )

    def get_green_ratio_display_value(self):
        return _ratio(self.object)

    def get_evidence_display_value(self):
        # Never the storage URL: private files have none. A permission-checked admin view.
        if not self.object.evidence:
            return _("No evidence file")
        if not permissions.can_verify(self.request.user):
            return _("On file (sustainability staff can download it)")
        extension = self.object.evidence.name.rsplit(".", 1)[-1].upper()
        return Html(
            format_html(
                '<a href="{}" download>{}</a>',
                self.viewset.url("evidence", self.object),
                _("Download the evidence (%(type)s)") % {"type": extension},
            )
        )

    @cached_property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        decl, vs = self.object, self.viewset
        if decl.status == DeclarationStatus.PENDING and permissions.can_verify(self.request.user):
            buttons.append(HeaderButton(_("Verify"), url=vs.url("verify", decl), icon_name="check"))
            buttons.append(HeaderButton(_("Reject"), url=vs.url("reject", decl), icon_name="cross"))
        return buttons

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        decl = self.object
        if decl.status == DeclarationStatus.PENDING:
            decision = (
                _("Pending: verify or reject it with the buttons above.")
                if permissions.can_verify(self.request.user)
                else _("Pending: a member of the sustainability team verifies or rejects it.")
            )
        else:
            decision = _decided_text(decl)
        context["fields"] = [inspect_field(_("Decision"), decision), *context["fields"]]
        return context


class VerifyForm(forms.Form):
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept with the decision and shown to the customer."),
    )


class RejectForm(forms.Form):
    note = forms.CharField(
        label=_("Why is it rejected?"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The customer sees this note; say what they need to correct."),
    )


class DeclarationDecisionView(ActionFormView):
    """Verify or reject a pending declaration: sustainability staff and superusers only."""

    header_icon = "check"
    template_name = "carbon/admin/declaration_decision.html"
    index_label = _("Declarations")
    refused = (declarations.DeclarationError,)

    def has_permission(self, user) -> bool:
        return permissions.can_verify(user)

    def get_object(self) -> GreenPowerDeclaration:
        return get_object_or_404(
            GreenPowerDeclaration.objects.select_related("organisation", "site", "verified_by"),
            pk=self.kwargs["pk"],
        )

    def refusal(self) -> str | None:
        if self.object.status != DeclarationStatus.PENDING:
            return _decided_text(self.object)
        return None

    def get_page_subtitle(self):
        return str(self.object)

    def summary(self):
        decl = self.object
        return definition_list(
            [
                (_("Organisation"), decl.organisation),
                (_("Site"), decl.site),
                (_("Period"), _period(decl)),
                (_("Green ratio"), _ratio(decl)),
                (_("Instrument"), decl.get_instrument_display()),
            ]
        )

    def perform(self, form):
        self.decide(form.cleaned_data["note"])
        return self.success_message % {"decl": self.object}


class VerifyDeclarationView(DeclarationDecisionView):
    page_title = _("Verify declaration")
    form_class = VerifyForm
    submit_button_label = _("Verify")
    success_message = _(
        "Verified %(decl)s. The site's orders in the period are being recalculated with it."
    )

    def decide(self, note):
        declarations.verify_declaration(
            self.object, self.request.user, note=note, request=self.request
        )


class RejectDeclarationView(DeclarationDecisionView):
    page_title = _("Reject declaration")
    header_icon = "cross"
    form_class = RejectForm
    submit_button_label = _("Reject")
    success_message = _("Rejected %(decl)s. The customer sees your note.")

    def decide(self, note):
        declarations.reject_declaration(self.object, note, self.request.user, request=self.request)


class EvidenceDownloadView(View):
    """Stream a declaration's evidence from private storage to sustainability staff; audited."""

    def get(self, request, pk):
        if not permissions.can_verify(request.user):
            raise PermissionDenied
        declaration = get_object_or_404(GreenPowerDeclaration, pk=pk)
        if not declaration.evidence:
            raise Http404(_("No evidence file."))
        extension = declaration.evidence.name.rsplit(".", 1)[-1].lower()
        response = FileResponse(
            declaration.evidence.open("rb"),
            content_type=declarations.CONTENT_TYPES.get(extension, "application/octet-stream"),
            as_attachment=True,
            filename=f"green-power-{declaration.pk}.{extension}",
        )
        harden_download(response)
        audit.record(
            "carbon.green_power_evidence_downloaded",
            actor=request.user,
            organisation=declaration.organisation,
            obj=declaration,
            request=request,
        )
        return response


class GreenPowerDeclarationViewSet(ObjectActionsViewSetMixin, IndexQuerysetMixin, ModelViewSet):
    model = GreenPowerDeclaration
    name = "carbon_declarations"
    icon = "circle-check"
    menu_label = _("Green-power declarations")
    add_to_admin_menu = False
    # Required by ModelViewSet; the read-only policy never lets anyone reach the form.
    exclude_form_fields: list[str] = []
    list_display = [
        "site",
        "organisation",
        Column("period", label=_("Period"), accessor=_period, sort_key="period_start"),
        Column("green_ratio", label=_("Green ratio"), accessor=_ratio, sort_key="green_ratio"),
        "instrument",
        status_column(lambda d: d.status == DeclarationStatus.PENDING),
        UserColumn("submitted_by", label=_("Submitted by")),
        DateColumn(
            "submitted_at",
            # Wagtail says "Submitted" of a workflow state (已提交); this column is a time.
            label=pgettext_lazy("submission time", "Submitted"),
            sort_key="submitted_at",
        ),
    ]
    list_filter = ["status", "organisation", "instrument"]
    search_fields = ["site__name", "organisation__name"]
    inspect_view_enabled = True
    inspect_view_class = DeclarationInspectView
    inspect_view_fields = [
        "organisation",
        "site",
        "period_start",
        "period_end",
        "green_ratio",
        "green_kwh",
        "total_kwh",
        "instrument",
        "evidence",
        "status",
        "submitted_by",
        "submitted_at",
        "verified_by",
        "verified_at",
        "review_note",
    ]
    copy_view_enabled = False
    ordering = ["-submitted_at"]
    object_actions = {"verify": VerifyDeclarationView, "reject": RejectDeclarationView}

    def get_queryset(self, request):
        return GreenPowerDeclaration.objects.select_related("organisation", "site", "submitted_by")

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("evidence/<int:pk>/", EvidenceDownloadView.as_view(), name="evidence"),
        ]


# --- order imports


REPORT_ROWS_SHOWN = 1000


def error_table(errors) -> Table:
    return Table(
        [
            Column("row", label=_("Row"), accessor=lambda e: e.get("row") or "—"),
            Column("column", label=_("Column"), accessor=lambda e: e.get("column") or "—"),
            Column(
                "value",
                label=pgettext_lazy("content of a CSV cell", "Value"),
                accessor=lambda e: e.get("value") or "",
            ),
            Column("reason", label=_("Problem"), accessor=lambda e: e.get("reason") or ""),
        ],
        errors,
    )


def _rows(job: ImportJob) -> str:
    return f"{job.rows_done} / {job.rows_total}"


def _progress_text(job: ImportJob) -> str:
    if job.status == ImportStatus.SUCCEEDED:
        summary = job.summary or {}
        return _(
            "Imported: %(rows)s rows, %(orders)s orders (%(created)s new, %(updated)s updated, "
            "%(unchanged)s unchanged)."
        ) % {k: summary.get(k, 0) for k in ("rows", "orders", "created", "updated", "unchanged")}
    if job.status == ImportStatus.FAILED:
        return _("Rejected: nothing was stored. %(n)s problem(s) in the file, listed below.") % {
            "n": len(job.error_report or [])
        }
    return _(
        "%(phase)s: %(done)s of %(total)s rows (%(percent)s %%). Reload this page to follow it."
    ) % {
        "phase": (job.phase or job.get_status_display()).capitalize(),
        "done": job.rows_done,
        "total": job.rows_total,
        "percent": job.percent,
    }


class ImportJobIndexView(IndexView):
    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if self.request.user.has_perm(PERM_UPLOAD_ORDERS):
            buttons.append(
                HeaderButton(
                    _("Upload orders CSV"),
                    url=reverse("carbon_imports:upload"),
                    icon_name="upload",
                )
            )
        return buttons


class ImportJobInspectView(InspectView):
    """The job's state and progress, and its error report as a table."""

    def get_object(self, queryset=None):
        return get_object_or_404(
            ImportJob.objects.select_related("organisation", "created_by"), pk=self.pk
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        job = self.object
        errors = job.error_report or []
        shown = errors[:REPORT_ROWS_SHOWN]
        label = _("Error report (%(n)s)") % {"n": len(errors)}
        if len(errors) > len(shown):
            label = _("Error report (first %(shown)s of %(n)s)") % {
                "shown": len(shown),
                "n": len(errors),
            }
        context["fields"] = [
            inspect_field(_("Progress"), _progress_text(job)),
            *context["fields"],
            inspect_field(
                label,
                _("No problems found.") if job.is_finished else "—",
                error_table(shown) if shown else None,
            ),
        ]
        return context


class UploadOrdersForm(OrderImportForm):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Organisation.objects.filter(is_active=True).order_by("name"),
        help_text=_("The customer the orders belong to."),
    )
    field_order = ["organisation", "file"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "UTF-8 CSV, one row per transport leg, with the columns %(columns)s. Every row is "
            "validated; nothing is stored unless the whole file is valid."
        ) % {"columns": ", ".join(COLUMNS)}


class UploadOrdersView(ActionFormView):
    page_title = _("Upload orders CSV")
    header_icon = "upload"
    form_class = UploadOrdersForm
    submit_button_label = _("Upload and import")
    index_label = _("Order imports")

    def has_permission(self, user) -> bool:
        return user.has_perm(PERM_UPLOAD_ORDERS)

    def form_valid(self, form):
        organisation = form.cleaned_data["organisation"]
        job = start_import(organisation, form.cleaned_data["file"], by=self.request.user)
        if job.status == ImportStatus.SUCCEEDED:
            messages.success(self.request, _progress_text(job))
        elif job.status == ImportStatus.FAILED:
            messages.error(self.request, _progress_text(job))
        else:
            messages.info(
                self.request,
                _("The file is large and is being imported in the background (%(n)s rows).")
                % {"n": job.rows_total},
            )
        return redirect(reverse(self.viewset.get_url_name("inspect"), args=(job.pk,)))


class ImportJobViewSet(IndexQuerysetMixin, ModelViewSet):
    model = ImportJob
    # Written for every upload and linked from nowhere: no reference indexing.
    add_to_reference_index = False
    name = "carbon_imports"
    icon = "upload"
    menu_label = _("Order imports")
    add_to_admin_menu = False
    exclude_form_fields: list[str] = []
    index_view_class = ImportJobIndexView
    inspect_view_class = ImportJobInspectView
    list_display = [
        "original_name",
        "organisation",
        status_column(lambda j: j.status == ImportStatus.SUCCEEDED),
        Column("rows", label=_("Rows done / total"), accessor=_rows),
        UserColumn("created_by", label=_("Created by")),
        DateColumn("created_at", label=_("Created"), sort_key="created_at"),
    ]
    list_filter = ["status", "organisation"]
    search_fields = ["original_name", "organisation__name"]
    inspect_view_enabled = True
    inspect_view_fields = [
        "organisation",
        "original_name",
        "status",
        "phase",
        "rows_done",
        "rows_total",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
    ]
    copy_view_enabled = False
    ordering = ["-created_at"]
    list_per_page = 50

    def get_queryset(self, request):
        # The error report and summary can be large; the list never shows them.
        return ImportJob.objects.select_related("organisation", "created_by").defer(
            "error_report", "summary"
        )

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("upload/", UploadOrdersView.as_view(viewset=self), name="upload"),
        ]


# --- orders


def _kg(value) -> str:
    return "—" if value is None else f"{value:,.3f}"


def _wtw(order: Order) -> str:
    return _kg(getattr(order, "fp_wtw_kg", None))


def leg_table(rows) -> Table:
    return Table(
        [
            Column("shipment", label=_("Shipment"), accessor=lambda r: str(r["shipment"])),
            Column("sequence", label=_("Leg"), accessor=lambda r: r["leg"].sequence),
            Column("category", label=_("Category"), accessor=lambda r: r["label"]),
            Column(
                "route",
                label=_("From → to"),
                accessor=lambda r: f"{r['leg'].origin} → {r['leg'].destination}",
            ),
            Column("distance", label=_("Distance (km)"), accessor=lambda r: r["leg"].distance_km),
            Column("mass", label=_("Cargo (t)"), accessor=lambda r: r["leg"].mass_t),
            Column(
                "tier", label=_("Data tier"), accessor=lambda r: r["leg"].get_data_tier_display()
            ),
            Column(
                "fuel",
                label=_("Fuel"),
                accessor=lambda r: (
                    f"{r['leg'].fuel_amount} {r['leg'].get_fuel_type_display()}"
                    if r["leg"].fuel_type and r["leg"].fuel_amount is not None
                    else "—"
                ),
            ),
            Column("tkm", label=_("t·km"), accessor=lambda r: r["tkm"] or "—"),
            Column("wtw", label=_("WTW kg CO2e"), accessor=lambda r: r["wtw"] or "—"),
        ],
        rows,
    )


def line_table(lines) -> Table:
    return Table(
        [
            Column("sku", label=_("SKU"), accessor="product.sku"),
            Column("name", label=_("Product"), accessor="product.name"),
            Column("quantity", label=_("Quantity")),
        ],
        lines,
    )


class OrderInspectView(InspectView):
    """An order with its lines, legs and the current footprint per leg."""

    def get_object(self, queryset=None):
        return get_object_or_404(
            Order.objects.select_related("organisation", "delivery_site").prefetch_related(
                Prefetch("lines", queryset=OrderLine.objects.select_related("product")),
                Prefetch(
                    "shipments",
                    queryset=Shipment.objects.order_by("id").prefetch_related(
                        Prefetch("legs", queryset=Leg.objects.order_by("sequence", "id"))
                    ),
                ),
            ),
            pk=self.pk,
        )

    def get_context_data(self, **kwargs):
        from carbon.footprint.views import _breakdown, legs_page

        context = super().get_context_data(**kwargs)
        order = self.object
        snapshot = CalculationSnapshot.objects.filter(order=order, is_current=True).first()
        if snapshot is None:
            footprint = _("Not calculated yet.")
        else:
            footprint = _(
                "WTW %(wtw)s kg CO2e (TTW %(ttw)s, WTT %(wtt)s) over %(tkm)s t·km; "
                "%(default)s %% of t·km on default factors. Calculated %(when)s, method "
                "%(method)s, datasets %(datasets)s."
            ) % {
                "wtw": _kg(snapshot.wtw_kg),
                "ttw": _kg(snapshot.ttw_kg),
                "wtt": _kg(snapshot.wtt_kg),
                "tkm": _kg(snapshot.tkm),
                "default": f"{snapshot.default_share * 100:.0f}",
                "when": format_when(snapshot.created_at),
                "method": snapshot.method_version,
                "datasets": ", ".join(
                    str(d.get("label")) for d in snapshot.datasets or [] if isinstance(d, dict)
                )
                or "—",
            }
        lines = list(order.lines.all())
        page = legs_page(order, self.request.GET.get("page"))
        legs = _breakdown(page, snapshot)
        context["fields"] = [
            *context["fields"],
            inspect_field(_("Current footprint"), footprint),
            inspect_field(
                _("Lines (%(n)s)") % {"n": len(lines)}, "—", line_table(lines) if lines else None
            ),
            inspect_field(
                _("Legs (%(n)s)") % {"n": page.paginator.count},
                "—",
                leg_table(legs) if legs else None,
            ),
        ]
        return context


class OrderViewSet(IndexQuerysetMixin, ModelViewSet):
    model = Order
    # High volume (imports write thousands at once) and linked from nowhere.
    add_to_reference_index = False
    name = "carbon_orders"
    icon = "clipboard-list"
    menu_label = _("Orders")
    add_to_admin_menu = False
    exclude_form_fields: list[str] = []
    inspect_view_class = OrderInspectView
    list_display = [
        "external_id",
        "organisation",
        DateColumn("order_date", label=_("Order date"), sort_key="order_date"),
        "status",
        Column("fp_wtw_kg", label=_("WTW kg CO2e"), accessor=_wtw, sort_key="fp_wtw_kg"),
    ]
    list_filter = ["status", "organisation"]
    search_fields = ["external_id"]
    inspect_view_enabled = True
    inspect_view_fields = [
        "organisation",
        "external_id",
        "order_date",
        "delivery_date",
        "status",
        "delivery_site",
        "created_at",
        "updated_at",
    ]
    copy_view_enabled = False
    ordering = ["-order_date", "-id"]
    list_per_page = 50

    def get_queryset(self, request):
        # The current snapshot's totals come in the same query (no query per row).
        return Order.objects.with_footprint().select_related("organisation")


class CarbonGroup(ModelViewSetGroup):
    menu_label = _("Carbon")
    menu_icon = "globe"
    menu_order = 210
    items = (
        FactorDatasetViewSet,
        EmissionFactorViewSet,
        ProductViewSet,
        GreenPowerDeclarationViewSet,
        ImportJobViewSet,
        OrderViewSet,
    )
