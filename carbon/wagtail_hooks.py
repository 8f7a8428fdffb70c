"""Staff screens for carbon accounting in the Wagtail admin: emission-factor datasets with their
approval workflow, a read-only factor listing, products, green-power declarations (verify or
reject, evidence download), order imports (upload a CSV, follow the job) and read-only orders.

Every state change goes through an action in carbon/datasets.py, carbon/declarations.py or
carbon/importer.py; these views parse, authorise, call one action and respond, using Wagtail's
own templates and components.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView
from wagtail import hooks
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.tables import (
    BooleanColumn,
    Column,
    DateColumn,
    StatusTagColumn,
    Table,
    UserColumn,
)
from wagtail.admin.views.generic import CreateView, EditView, IndexView, InspectView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.admin.widgets import HeaderButton
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from carbon import datasets, declarations
from carbon.forms import ImportForm as OrderImportForm
from carbon.importer import COLUMNS, start_import
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
from portal.exceptions import PermissionDeniedError
from portal.models import Organisation
from portal.wagtail_hooks import IndexQuerysetMixin, ReadOnlyPermissionPolicy

# --- permissions


class DatasetPermissionPolicy(ModelPermissionPolicy):
    """Datasets are edited only while they are drafts and are never deleted: a published dataset
    is evidence (the model refuses changes too)."""

    def user_has_permission(self, user, action):
        return action != "delete" and super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)

    def user_has_permission_for_instance(self, user, action, instance):
        if action == "change" and instance.status != DatasetStatus.DRAFT:
            return False
        return self.user_has_permission(user, action)


register_permission_policy(FactorDataset, DatasetPermissionPolicy(FactorDataset))
register_permission_policy(EmissionFactor, ReadOnlyPermissionPolicy(EmissionFactor))
# Declarations change only through verify/reject, imports only through an upload, orders only
# through the import and the API: the admin never edits them as forms.
register_permission_policy(GreenPowerDeclaration, ReadOnlyPermissionPolicy(GreenPowerDeclaration))
register_permission_policy(ImportJob, ReadOnlyPermissionPolicy(ImportJob))
register_permission_policy(Order, ReadOnlyPermissionPolicy(Order))

# Uploading an order file is an `add_importjob` (granted to the sustainability role in
# CarbonConfig.ready()), checked by the upload view itself since the read-only policy hides "add".
PERM_UPLOAD_ORDERS = "carbon.add_importjob"


def _require_manager(request) -> None:
    if not datasets.can_manage_datasets(request.user):
        raise PermissionDenied


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


class DatasetEditView(EditView):
    def dispatch(self, request, *args, **kwargs):
        dataset = get_object_or_404(FactorDataset, pk=kwargs.get("pk"))
        if dataset.status != DatasetStatus.DRAFT:
            messages.error(
                request,
                _("Only a draft can be edited. Make a new version to correct a published dataset."),
            )
            return redirect(reverse(self.inspect_url_name, args=(dataset.pk,)))
        return super().dispatch(request, *args, **kwargs)

    def save_instance(self):
        return datasets.update_draft_dataset(
            self.form.instance, by=self.request.user, request=self.request
        )


class DatasetInspectView(InspectView):
    """The citation, the workflow state and every factor of a dataset."""

    viewset = None  # set by the viewset

    def get_edit_url(self):
        if self.object.status == DatasetStatus.DRAFT:
            return super().get_edit_url()
        return None

    @cached_property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        user = self.request.user
        if not datasets.can_manage_datasets(user):
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
            {"label": _("Workflow"), "value": state, "component": None},
            *context["fields"],
            {
                "label": _("Factors (%(n)s)") % {"n": factors.count()},
                "value": "",
                "component": factor_table(factors),
            },
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


class DatasetActionMixin(WagtailAdminTemplateMixin):
    """Shared by the workflow screens: load the dataset, require sustainability staff."""

    viewset = None
    header_icon = "table"

    def dispatch(self, request, *args, **kwargs):
        _require_manager(request)
        self.dataset = get_object_or_404(FactorDataset, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_page_subtitle(self):
        return str(self.dataset)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.viewset.get_url_name("index")), "label": _("Datasets")},
            {"url": self.viewset.url("inspect", self.dataset), "label": str(self.dataset)},
            {"url": "", "label": self.get_page_title()},
        ]

    def back(self):
        return redirect(self.viewset.url("inspect", self.dataset))


class ConfirmForm(forms.Form):
    pass


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


class GenericFormMixin:
    """Render a FormView with Wagtail's generic form template, posting back to itself."""

    template_name = "wagtailadmin/generic/form.html"
    submit_button_label = _("Confirm")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["action_url"] = self.request.path
        context["submit_button_label"] = self.submit_button_label
        context["submit_button_active_label"] = self.submit_button_label
        return context


class DatasetFormView(GenericFormMixin, DatasetActionMixin, FormView):
    form_class = ConfirmForm

    def form_valid(self, form):
        try:
            message = self.perform(form)
        except datasets.DatasetError as exc:
            messages.error(self.request, str(exc))
            return self.back()
        messages.success(self.request, message)
        return self.back()


class ImportFactorsView(DatasetFormView):
    page_title = _("Import factors CSV")
    form_class = ImportForm
    submit_button_label = _("Import")

    def form_valid(self, form):
        try:
            count = datasets.import_factors_csv(
                self.dataset, form.cleaned_data["file"], by=self.request.user, request=self.request
            )
        except datasets.FactorFileError as exc:
            for problem in exc.errors[:50]:
                form.add_error("file", str(problem))
            messages.error(
                self.request,
                _("Nothing was imported: %(n)s problem(s) in the file.") % {"n": len(exc.errors)},
            )
            return self.form_invalid(form)
        except datasets.DatasetError as exc:
            messages.error(self.request, str(exc))
            return self.back()
        messages.success(self.request, _("Imported %(n)s factors.") % {"n": count})
        return self.back()


class SubmitDatasetView(DatasetFormView):
    page_title = _("Submit for approval")
    submit_button_label = _("Submit for approval")

    def perform(self, form):
        datasets.submit_for_approval(self.dataset, self.request.user, request=self.request)
        return _("Submitted. Another sustainability staff member must approve it.")


class ApproveDatasetView(DatasetFormView):
    page_title = _("Approve and publish")
    form_class = ApproveForm
    submit_button_label = _("Approve and publish")

    def get_initial(self):
        previous = self.dataset.supersedes
        return {"make_default": bool(previous and previous.is_default)}

    def perform(self, form):
        datasets.approve_and_publish(
            self.dataset,
            self.request.user,
            make_default=form.cleaned_data["make_default"],
            request=self.request,
        )
        return _("Published %(label)s.") % {"label": self.dataset.label}


class NewVersionView(DatasetFormView):
    page_title = _("New version")
    submit_button_label = _("Create draft version")

    def form_valid(self, form):
        draft = datasets.create_new_version(self.dataset, self.request.user, request=self.request)
        messages.success(self.request, _("Draft %(label)s created.") % {"label": draft.label})
        return redirect(self.viewset.url("inspect", draft))


class CompareDatasetView(DatasetActionMixin, TemplateView):
    page_title = _("Compare with previous version")
    template_name = "wagtailadmin/generic/inspect.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        previous = previous_version(self.dataset)
        if previous is None:
            context["fields"] = [
                {"label": _("Previous version"), "value": _("None"), "component": None}
            ]
            return context
        diff = datasets.compare_datasets(previous, self.dataset)
        context["fields"] = [
            {
                "label": _("Compared"),
                "value": f"{previous.label} → {self.dataset.label}",
                "component": None,
            },
            {"label": _("Unchanged factors"), "value": diff.unchanged, "component": None},
        ]
        for label, rows in (
            (_("Changed"), diff.changed),
            (_("Added"), diff.added),
            (_("Removed"), diff.removed),
        ):
            context["fields"].append(
                {
                    "label": f"{label} ({len(rows)})",
                    "value": "-",
                    "component": change_table(rows) if rows else None,
                }
            )
        return context


class FactorDatasetViewSet(ModelViewSet):
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

    def url(self, view_name: str, dataset: FactorDataset) -> str:
        return reverse(self.get_url_name(view_name), args=(dataset.pk,))

    def get_inspect_view_kwargs(self, **kwargs):
        return super().get_inspect_view_kwargs(viewset=self, **kwargs)

    def _action(self, view_class):
        return view_class.as_view(viewset=self)

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("import/<int:pk>/", self._action(ImportFactorsView), name="import"),
            path("submit/<int:pk>/", self._action(SubmitDatasetView), name="submit"),
            path("approve/<int:pk>/", self._action(ApproveDatasetView), name="approve"),
            path("new-version/<int:pk>/", self._action(NewVersionView), name="new_version"),
            path("compare/<int:pk>/", self._action(CompareDatasetView), name="compare"),
        ]


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
    copy_view_enabled = False
    inspect_view_enabled = True


# --- shared pieces


class Html(Component):
    """A fragment of already-escaped HTML (format_html) as an inspect-view field value."""

    def __init__(self, html):
        self.html = html

    def render_html(self, parent_context=None):
        return self.html


def _when(value) -> str:
    return date_format(value, "DATETIME_FORMAT") if value else "—"


def _who(user) -> str:
    if user is None:
        return "—"
    return (user.get_full_name() or "").strip() or str(user)


def _dl(rows) -> Html:
    """A small definition list for a summary above a confirmation form."""
    return Html(format_html("<dl>{}</dl>", format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows)))


class ActionFormView(GenericFormMixin, WagtailAdminTemplateMixin, FormView):
    """A confirmation form on one object, rendered with Wagtail's generic form template."""

    viewset = None


# --- green-power declarations


def _decided_text(declaration: GreenPowerDeclaration) -> str:
    return _(
        "This declaration was %(status)s by %(who)s on %(when)s. A decision is final: the "
        "customer submits a new declaration to change it."
    ) % {
        "status": declaration.get_status_display().lower(),
        "who": _who(declaration.verified_by),
        "when": _when(declaration.verified_at),
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
        if not declarations.can_verify(self.request.user):
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
        if decl.status == DeclarationStatus.PENDING and declarations.can_verify(self.request.user):
            buttons.append(HeaderButton(_("Verify"), url=vs.url("verify", decl), icon_name="check"))
            buttons.append(HeaderButton(_("Reject"), url=vs.url("reject", decl), icon_name="cross"))
        return buttons

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        decl = self.object
        if decl.status == DeclarationStatus.PENDING:
            decision = (
                _("Pending: verify or reject it with the buttons above.")
                if declarations.can_verify(self.request.user)
                else _("Pending: a member of the sustainability team verifies or rejects it.")
            )
        else:
            decision = _decided_text(decl)
        context["fields"] = [
            {"label": _("Decision"), "value": decision, "component": None},
            *context["fields"],
        ]
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

    def dispatch(self, request, *args, **kwargs):
        if not declarations.can_verify(request.user):
            raise PermissionDenied
        self.declaration = get_object_or_404(
            GreenPowerDeclaration.objects.select_related("organisation", "site", "verified_by"),
            pk=kwargs["pk"],
        )
        if self.declaration.status != DeclarationStatus.PENDING:
            messages.error(request, _decided_text(self.declaration))
            return self.back()
        return super().dispatch(request, *args, **kwargs)

    def back(self):
        return redirect(self.viewset.url("inspect", self.declaration))

    def get_page_subtitle(self):
        return str(self.declaration)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.viewset.get_url_name("index")), "label": _("Declarations")},
            {"url": self.viewset.url("inspect", self.declaration), "label": str(self.declaration)},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        decl = self.declaration
        context["summary"] = _dl(
            [
                (_("Organisation"), decl.organisation),
                (_("Site"), decl.site),
                (_("Period"), _period(decl)),
                (_("Green ratio"), _ratio(decl)),
                (_("Instrument"), decl.get_instrument_display()),
            ]
        )
        return context

    def form_valid(self, form):
        try:
            self.perform(form.cleaned_data["note"])
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from exc
        except declarations.DeclarationError as exc:
            messages.error(self.request, exc.message)
            return self.back()
        messages.success(self.request, self.success_message % {"decl": self.declaration})
        return self.back()


class VerifyDeclarationView(DeclarationDecisionView):
    page_title = _("Verify declaration")
    form_class = VerifyForm
    submit_button_label = _("Verify")
    success_message = _(
        "Verified %(decl)s. The site's orders in the period are being recalculated with it."
    )

    def perform(self, note):
        declarations.verify_declaration(
            self.declaration, self.request.user, note=note, request=self.request
        )


class RejectDeclarationView(DeclarationDecisionView):
    page_title = _("Reject declaration")
    header_icon = "cross"
    form_class = RejectForm
    submit_button_label = _("Reject")
    success_message = _("Rejected %(decl)s. The customer sees your note.")

    def perform(self, note):
        declarations.reject_declaration(
            self.declaration, note, self.request.user, request=self.request
        )


class EvidenceDownloadView(View):
    """Stream a declaration's evidence from private storage to sustainability staff; audited."""

    def get(self, request, pk):
        if not declarations.can_verify(request.user):
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
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        audit.record(
            "carbon.green_power_evidence_downloaded",
            actor=request.user,
            organisation=declaration.organisation,
            obj=declaration,
            request=request,
        )
        return response


class GreenPowerDeclarationViewSet(IndexQuerysetMixin, ModelViewSet):
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
        StatusTagColumn(
            "status",
            label=_("Status"),
            accessor="get_status_display",
            primary=lambda d: d.status == DeclarationStatus.PENDING,
            sort_key="status",
        ),
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

    def get_queryset(self, request):
        return GreenPowerDeclaration.objects.select_related("organisation", "site", "submitted_by")

    def url(self, view_name: str, declaration: GreenPowerDeclaration) -> str:
        return reverse(self.get_url_name(view_name), args=(declaration.pk,))

    def get_inspect_view_kwargs(self, **kwargs):
        return super().get_inspect_view_kwargs(viewset=self, **kwargs)

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("verify/<int:pk>/", VerifyDeclarationView.as_view(viewset=self), name="verify"),
            path("reject/<int:pk>/", RejectDeclarationView.as_view(viewset=self), name="reject"),
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
            {"label": _("Progress"), "value": _progress_text(job), "component": None},
            *context["fields"],
            {
                "label": label,
                "value": _("No problems found.") if job.is_finished else "—",
                "component": error_table(shown) if shown else None,
            },
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

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(PERM_UPLOAD_ORDERS):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(self.viewset.get_url_name("index")), "label": _("Order imports")},
            {"url": "", "label": self.get_page_title()},
        ]

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
        StatusTagColumn(
            "status",
            label=_("Status"),
            accessor="get_status_display",
            primary=lambda j: j.status == ImportStatus.SUCCEEDED,
            sort_key="status",
        ),
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
        from carbon.views import _breakdown

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
                "when": _when(snapshot.created_at),
                "method": snapshot.method_version,
                "datasets": ", ".join(
                    str(d.get("label")) for d in snapshot.datasets or [] if isinstance(d, dict)
                )
                or "—",
            }
        lines = list(order.lines.all())
        legs = _breakdown(order, snapshot)
        context["fields"] = [
            *context["fields"],
            {"label": _("Current footprint"), "value": footprint, "component": None},
            {
                "label": _("Lines (%(n)s)") % {"n": len(lines)},
                "value": "—",
                "component": line_table(lines) if lines else None,
            },
            {
                "label": _("Legs (%(n)s)") % {"n": len(legs)},
                "value": "—",
                "component": leg_table(legs) if legs else None,
            },
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


@hooks.register("register_admin_viewset")
def register_carbon_viewsets():
    return CarbonGroup()


@hooks.register("greenloop_seed_demo", order=0)
def seed_reference_data(stdout=None) -> None:
    """The demo needs the cited factor datasets before orders can get a footprint."""
    from carbon.management.commands.load_reference_data import load_reference_data

    load_reference_data(stdout=stdout)


# The points screens (their own "Points" menu group) register their viewsets when imported.
from carbon import admin_points  # noqa: E402, F401
