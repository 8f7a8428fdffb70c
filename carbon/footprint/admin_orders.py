"""Order imports and orders in the Wagtail admin: upload a CSV for a customer, follow the job and
its row errors, and read orders with their legs and footprint."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from wagtail.admin.ui.tables import (
    Column,
    DateColumn,
    Table,
    UserColumn,
)
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import HeaderButton

from carbon.footprint import actions, permissions, provenance
from carbon.footprint.exceptions import OrderDataError
from carbon.footprint.forms import ImportForm as OrderImportForm
from carbon.footprint.importer import COLUMNS
from carbon.footprint.permissions import PERM_UPLOAD_ORDERS
from carbon.footprint.views import leg_rows, legs_page
from carbon.models import (
    CalculationSnapshot,
    ImportJob,
    ImportStatus,
    Leg,
    Order,
    OrderLine,
    Shipment,
)
from carbon.templatetags.carbon_units import unit_text
from portal.admin_common import (
    ActionFormView,
    format_when,
    inspect_field,
    status_column,
)
from portal.admin_decisions import Decision, DecisionScreen, DecisionsViewSetMixin
from portal.models import Organisation
from portal.wagtail_hooks import IndexQuerysetMixin

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

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
        job = actions.start_import(organisation, form.cleaned_data["file"], by=self.request.user)
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
            Column(
                "source",
                label=_("Data source"),
                accessor=lambda r: (
                    f"{r['leg'].get_source_display()}, {r['leg'].get_data_type_display()}"
                    + ("" if r["leg"].attested else f" ({_('awaits verification')})")
                ),
            ),
            Column("tkm", label=unit_text("tonne * km"), accessor=lambda r: r["tkm"] or "—"),
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


class OrderDataDecisions(DecisionScreen):
    """Verify an order's customer-entered data so that it may earn points: sustainability
    staff, one person (no four-eyes: the verification is audited and reversible by an edit)."""

    def has_permission(self, user) -> bool:
        return permissions.can_verify(user)

    def get_object(self, pk: int) -> Order:
        return get_object_or_404(Order.objects.select_related("organisation"), pk=pk)

    def refusal(self, obj: Order) -> str | None:
        if not provenance.unverified_legs().filter(shipment__order=obj).exists():
            return str(_("The order has no customer-entered data waiting for verification."))
        return None

    def summary_rows(self, obj: Order) -> list[tuple[Any, Any]]:
        waiting = provenance.unverified_legs().filter(shipment__order=obj).count()
        return [
            (_("Organisation"), obj.organisation),
            (_("Order"), obj.external_id),
            (_("Legs awaiting verification"), waiting),
        ]

    def message_values(self, obj: Order) -> dict[str, Any]:
        return {"order": obj.external_id}


ORDER_DATA = OrderDataDecisions(
    index_label=_("Orders"),
    refused=(OrderDataError,),
    back_to_index=False,
    decisions=[
        Decision(
            name="verify_data",
            label=_("Verify order data"),
            title=_("Verify order data"),
            icon="check",
            perform=lambda act: actions.verify_order_data(act.obj, act.user, request=act.request),
            message=_(
                "Verified the data of order %(order)s: it earns points once delivered, under "
                "the policy in force."
            ),
        ),
    ],
)


class OrderInspectView(InspectView):
    """An order with its lines, legs and the current footprint per leg; sustainability staff
    verify its customer-entered data from here."""

    viewset: Any = None  # given by the viewset (ObjectActionsViewSetMixin)

    @cached_property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        if (
            permissions.can_verify(self.request.user)
            and provenance.unverified_legs().filter(shipment__order=self.object).exists()
        ):
            buttons += ORDER_DATA.buttons(self.viewset, self.object)
        return buttons

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
        context = super().get_context_data(**kwargs)
        order = self.object
        snapshot = CalculationSnapshot.objects.filter(order=order, is_current=True).first()
        if snapshot is None:
            footprint: StrOrPromise = _("Not calculated yet.")
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
        legs = leg_rows(page, snapshot)
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


class OrderViewSet(DecisionsViewSetMixin, IndexQuerysetMixin, ModelViewSet):
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
        "incoterm",
        "delivery_site",
        "created_at",
        "updated_at",
    ]
    copy_view_enabled = False
    ordering = ["-order_date", "-id"]
    list_per_page = 50
    decisions = ORDER_DATA

    def get_queryset(self, request):
        # The current snapshot's totals come in the same query (no query per row).
        return Order.objects.with_footprint().select_related("organisation")
