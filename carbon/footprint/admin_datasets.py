"""Emission-factor datasets, their factors and products in the Wagtail admin: draft, import a factor
file, submit, approve and publish, new version, compare versions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.generic import TemplateView
from wagtail.admin.ui.tables import (
    BooleanColumn,
    Column,
    Table,
)
from wagtail.admin.views.generic import CreateView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import HeaderButton

from carbon.footprint import actions, datasets, permissions
from carbon.footprint.exceptions import DatasetError, FactorFileError
from carbon.footprint.factor_files import FACTOR_COLUMNS
from carbon.models import (
    DatasetStatus,
    EmissionFactor,
    FactorDataset,
    Product,
)
from carbon.templatetags.carbon_units import unit_symbol
from portal.admin_common import (
    ActionFormView,
    AdminFormFieldsMixin,
    AuditedCreateView,
    AuditedEditView,
    ConfirmForm,
    DraftOnlyEditView,
    DraftOnlyInspectView,
    ObjectActionMixin,
    ObjectActionsViewSetMixin,
    inspect_field,
)
from portal.csv_export import SafeExportIndexView
from portal.wagtail_hooks import IndexQuerysetMixin

DATASET_FIELDS = [
    "slug",
    "title",
    "publisher",
    "publication_date",
    "licence",
    "source_url",
    "gwp_basis",
    "distance_basis",
    "series",
    "valid_from",
    "valid_to",
    "notes",
]


def _unit(factor) -> str:
    """ "kg CO₂e/t·km", not Pint's stored "kgCO2e / (tonne * km)"."""
    return unit_symbol(factor.unit)


def _value(factor) -> str:
    """The factor as its source gives it: "2.71931", not the column's "2.7193100000"."""
    return f"{factor.value.normalize():f}"


def factor_table(factors) -> Table:
    return Table(
        [
            Column("category", label=_("Category")),
            Column("energy_scope", label=pgettext_lazy("energy scope: TTW, WTT or WTW", "Scope")),
            BooleanColumn("radiative_forcing", label=_("RF")),
            Column("value", label=_("Value"), accessor=_value),
            Column("unit", label=_("Unit"), accessor=_unit),
            Column("gases", label=_("Gases")),
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
        return actions.create_draft_dataset(by=self.request.user, request=self.request, **fields)


class DatasetEditView(DraftOnlyEditView):
    draft_status = DatasetStatus.DRAFT
    not_draft_message = _(
        "Only a draft can be edited. Make a new version to correct a published dataset."
    )

    def save_instance(self):
        return actions.update_draft_dataset(
            self.form.instance, by=self.request.user, request=self.request
        )


class DatasetInspectView(DraftOnlyInspectView):
    """The citation, the workflow state and every factor of a dataset."""

    # Set by the viewset: Wagtail passes it to the views that declare the attribute.
    viewset: Any = None
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
    form_class: type[forms.Form] = ConfirmForm
    refused: tuple[type[Exception], ...] = (DatasetError,)


class ImportFactorsView(DatasetFormView):
    page_title = _("Import factors CSV")
    form_class = ImportForm
    submit_button_label = _("Import")
    refused = (FactorFileError, DatasetError)

    def perform(self, form):
        count = actions.import_factors_csv(
            self.object, form.cleaned_data["file"], by=self.request.user, request=self.request
        )
        return _("Imported %(n)s factors.") % {"n": count}

    def refused_response(self, form, exc):
        if not isinstance(exc, FactorFileError):
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
        actions.submit_for_approval(self.object, self.request.user, request=self.request)
        return _("Submitted. Another sustainability staff member must approve it.")


class ApproveDatasetView(DatasetFormView):
    page_title = _("Approve and publish")
    form_class = ApproveForm
    submit_button_label = _("Approve and publish")

    def get_initial(self):
        previous = self.object.supersedes
        return {"make_default": bool(previous and previous.is_default)}

    def perform(self, form):
        actions.approve_and_publish(
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
        draft = actions.create_new_version(self.object, self.request.user, request=self.request)
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


class FactorDatasetViewSet(AdminFormFieldsMixin, ObjectActionsViewSetMixin, ModelViewSet):
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
        "series",
        "valid_from",
        "valid_to",
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
        Column("value", label=_("Value"), accessor=_value, sort_key="value"),
        Column("unit", label=_("Unit"), accessor=_unit, sort_key="unit"),
        "gases",
        "gwp_basis",
        "region",
        Column("dataset", label=_("Dataset"), sort_key="dataset"),
        "source_id",
    ]
    list_filter = ["dataset", "category", "energy_scope", "kind", "radiative_forcing", "region"]
    search_fields = ["category", "description", "source_label", "source_id"]
    # The export has the columns of a factor file, so it can be edited and imported back.
    list_export = ["dataset", *FACTOR_COLUMNS]
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
    # Creating and editing a product goes to the audit trail (carbon.product_created/_changed).
    add_view_class = AuditedCreateView
    edit_view_class = AuditedEditView
    copy_view_enabled = False
    inspect_view_enabled = True
