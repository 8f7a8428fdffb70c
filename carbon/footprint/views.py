"""Customer portal pages: orders with their footprints, order import, green-power declarations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from carbon import app_settings
from carbon.footprint import actions, categories, incoterms
from carbon.footprint.declarations import CONTENT_TYPES, InstrumentData, reconcile
from carbon.footprint.exceptions import DeclarationError
from carbon.footprint.forms import (
    MODES,
    DeclarationForm,
    ImportForm,
    InstrumentFormSet,
    OrderFilterForm,
)
from carbon.footprint.importer import COLUMN_NEEDS
from carbon.footprint.model import leg_distance
from carbon.footprint.permissions import PERM_IMPORT, PERM_SUBMIT, PERM_VIEW_ORDERS
from carbon.footprint.units import counts_co2_only
from carbon.models import (
    ORDER_SORTS,
    CalculationSnapshot,
    DeclarationInstrument,
    DeclarationStatus,
    GreenPowerDeclaration,
    ImportJob,
    Leg,
    Order,
    OrderLine,
    order_sort,
)
from portal.access import reachable_or_404
from portal.csv_export import SafeWriter
from portal.exceptions import PortalError
from portal.models import Organisation
from portal.permissions import has_perm
from portal.security import harden_download
from portal.views import forbidden, organisation_view

PAGE_SIZE = 25
DEMO_CSV = Path(settings.BASE_DIR) / "fixtures" / "demo-orders.csv"


@organisation_view(PERM_VIEW_ORDERS)
def orders(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    sites = list(organisation.sites.all())
    form = OrderFilterForm(request.GET or None, sites=sites)
    qs = Order.objects.filter(organisation=organisation).with_footprint()
    qs = qs.select_related("delivery_site")
    if form.is_valid():
        data = form.cleaned_data
        if data["order"].strip():
            qs = qs.filter(external_id__icontains=data["order"].strip())
        if data["date_from"]:
            qs = qs.filter(order_date__gte=data["date_from"])
        if data["date_to"]:
            qs = qs.filter(order_date__lte=data["date_to"])
        if data["site"]:
            qs = qs.filter(delivery_site_id=data["site"])
        if data["mode"]:
            qs = qs.filter(
                Exists(
                    Leg.objects.filter(
                        shipment__order=OuterRef("pk"), category__startswith=f"{data['mode']}."
                    )
                )
            )
    sort = request.GET.get("sort", "-date")
    if sort.lstrip("-") in ORDER_SORTS:
        qs = qs.order_by(*order_sort(sort.lstrip("-"), descending=sort.startswith("-")))
    else:
        qs = qs.order_by(*order_sort("date", descending=True))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = query.copy()
    sort_query.pop("sort", None)
    return render(
        request,
        "carbon/orders.html",
        {
            "organisation": organisation,
            "page": page,
            "form": form,
            "sort": sort,
            "query": query.urlencode(),
            "sort_query": sort_query.urlencode(),
            "can_import": has_perm(request.user, PERM_IMPORT, organisation),
        },
    )


def order_page_context(
    request: HttpRequest, organisation: Organisation, order_id: int
) -> dict[str, Any]:
    """What the order page shows of the order and its footprint; the page itself is composed in
    `carbon.views` (it also shows the order's points awards, from the points wing)."""
    order = reachable_or_404(
        request,
        Order.objects.filter(organisation=organisation)
        .select_related("delivery_site")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.select_related("product"))),
        pk=order_id,
    )
    legs = legs_page(order, request.GET.get("page"))
    snapshots = list(CalculationSnapshot.objects.filter(order=order).order_by("-created_at", "-id"))
    current = next((s for s in snapshots if s.is_current), None)
    declaration = None
    if current is not None and (current.inputs or {}).get("green_power"):
        declaration = (
            GreenPowerDeclaration.objects.filter(
                organisation=organisation, pk=current.inputs["green_power"].get("declaration_id")
            )
            .select_related("site")
            .first()
        )
    for snapshot in snapshots:
        snapshot.dataset_labels = [d.get("label") for d in snapshot.datasets or []]
        snapshot.change_text = _change_text(snapshot)
    quality = (current.results or {}).get("data_quality", {}) if current else {}
    factors = _factors(current)
    scope2 = (current.results or {}).get("scope2", {}) if current else {}
    co2_only_ids = {f.get("id") for f in factors if f["co2_only"]}
    return {
        "organisation": organisation,
        "order": order,
        "snapshot": current,
        "intensity_g": (current.wtw_kg * 1000 / current.tkm) if current and current.tkm else None,
        "scope3_category": incoterms.scope3_category(order.incoterm),
        "hub_wtw_kg": (
            (current.results or {}).get("totals", {}).get("hub_wtw_kg") if current else None
        ),
        "missing": [m.get("reason") for m in quality.get("missing", [])],
        "breakdown": leg_rows(legs, current),
        "legs_page": legs,
        "factors": factors,
        "declaration": declaration,
        "scope2": scope2,
        "location_co2_only": scope2.get("location_factor") in co2_only_ids,
        "market_co2_only": scope2.get("residual_factor") in co2_only_ids,
        "history": snapshots,
        "vintages": vintage_rows(current),
        "restatement": ((current.changes or {}).get("restatement") if current else None),
    }


def vintage_rows(snapshot: CalculationSnapshot | None) -> list[dict[str, Any]]:
    """Why each dataset of a snapshot serves the order's activity date, in the reader's words:
    its validity covers the date, or which fallback was taken."""
    rows = []
    for d in (snapshot.datasets or []) if snapshot else []:
        selection = d.get("selection") if isinstance(d, dict) else None
        if not selection:
            continue
        values = {"day": selection.get("activity_date"), "label": d.get("label")}
        basis = selection.get("basis")
        if basis == "covers":
            text = _("valid %(start)s to %(end)s, which covers %(day)s") % {
                **values,
                "start": selection.get("valid_from") or _("open"),
                "end": selection.get("valid_to") or _("open"),
            }
        elif basis == "earlier":
            text = (
                _("fallback: no dataset covers %(day)s; used the nearest earlier vintage %(label)s")
                % values
            )
        elif basis == "default":
            text = _("fallback: no dataset covers %(day)s; used the default %(label)s") % values
        else:
            text = _("named for this calculation: %(label)s") % values
        rows.append(
            {
                "dataset": d,
                "role": _("Freight") if selection.get("role") == "freight" else _("Grid (Scope 2)"),
                "text": text,
                "fallback": bool(selection.get("fallback")),
            }
        )
    return rows


def legs_page(order: Order, number: str | None) -> Page:
    """One page of an order's legs, in the order the snapshot lists them (shipment, then
    sequence), so a large order's page costs the same queries and stays fast (customer page and
    the admin's inspect view alike)."""
    return Paginator(
        Leg.objects.filter(shipment__order=order)
        .select_related("shipment")
        .order_by("shipment__id", "sequence", "id"),
        app_settings.LEGS_PER_PAGE,
    ).get_page(number)


def leg_rows(legs: Page, snapshot: CalculationSnapshot | None) -> list[dict]:
    """Per-leg rows of one page of legs: the stored leg beside the snapshot's result for it. The
    snapshot lists legs in the same order (shipment, then sequence), which is checked by
    category and sequence."""
    results = (snapshot.results or {}).get("legs", []) if snapshot else []
    rows = []
    for position, leg in enumerate(legs, start=legs.start_index() - 1):
        result = results[position] if position < len(results) else {}
        if result.get("category") != leg.category or result.get("sequence") != leg.sequence:
            result = {}  # the legs changed since; the figures belong to the snapshot only
        category = categories.get(leg.category)
        rows.append(
            {
                "shipment": leg.shipment,
                "leg": leg,
                "label": category.label if category else leg.category,
                "tkm": result.get("tkm"),
                "ttw": result.get("ttw_kg"),
                "wtt": result.get("wtt_kg"),
                "wtw": result.get("wtw_kg"),
                "rf": result.get("radiative_forcing_kg"),
                "method": result.get("method"),
                "distance": leg_distance(leg),
                "hub_factor": result.get("hub_factor"),
            }
        )
    return rows


def _factors(snapshot: CalculationSnapshot | None) -> list[dict]:
    """The factors a snapshot used, each with its dataset's title, version and source URL."""
    if snapshot is None:
        return []
    datasets = {d.get("label"): d for d in snapshot.datasets or [] if isinstance(d, dict)}
    return [
        {
            **f,
            "dataset_info": datasets.get(f.get("dataset"), {}),
            "co2_only": counts_co2_only(f.get("unit")),
            "gwp_basis": datasets.get(f.get("dataset"), {}).get("gwp_basis"),
        }
        for f in snapshot.factors or []
        if isinstance(f, dict)
    ]


def _change_text(snapshot: CalculationSnapshot) -> str:
    changes = snapshot.changes or {}
    if not changes:
        return _("first calculation") if snapshot.supersedes_id is None else ""
    parts = []
    names = {
        "method_version": _("method version"),
        "datasets": _("dataset version"),
        "factors": _("emission factors"),
        "inputs": _("order data"),
    }
    parts = [str(names.get(r, r)) for r in changes.get("reasons", [])]
    wtw = (changes.get("totals") or {}).get("wtw_kg") or {}
    text = ", ".join(parts)
    restatement = changes.get("restatement")
    if restatement:
        period = restatement.get("period") or {}
        text = (
            _("Restatement of the closed period %(start)s to %(end)s (%(reason)s): ")
            % {
                "start": period.get("start"),
                "end": period.get("end"),
                "reason": restatement.get("reason"),
            }
            + text
        )
    if wtw.get("old") is not None:
        text += _(" (WTW %(old)s → %(new)s kg)") % {"old": wtw.get("old"), "new": wtw.get("new")}
    return text


@require_http_methods(["GET", "POST"])
@organisation_view(PERM_IMPORT)
def import_orders(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = actions.start_import(organisation, form.cleaned_data["file"], by=request.user)
        if job.status == "succeeded":
            messages.success(
                request,
                _("Imported %(orders)s orders from %(rows)s rows.")
                % {"orders": job.summary.get("orders", 0), "rows": job.rows_total},
            )
        return redirect("carbon:import_job", org_slug=organisation.slug, job_id=job.pk)
    jobs = ImportJob.objects.filter(organisation=organisation).select_related("created_by")[:10]
    needs = {
        "always": _("Required"),
        "leg": _("Required on a transport leg row"),
        "line": _("Required on a product line row"),
        "optional": _("Optional"),
    }
    columns = [(column, needs[need]) for column, need in COLUMN_NEEDS.items()]
    return render(
        request,
        "carbon/import.html",
        {"organisation": organisation, "form": form, "jobs": jobs, "columns": columns},
        status=400 if form.errors else 200,
    )


@organisation_view(PERM_VIEW_ORDERS)
def import_categories(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    """The transport category codes a file's `category` column (and the API) accepts."""
    modes = dict(MODES)
    rows = [
        {
            "code": c.code,
            "mode_label": modes.get(c.mode, c.mode),
            "label": c.label,
            "supports_radiative_forcing": c.supports_radiative_forcing,
        }
        for c in categories.CATEGORIES.values()
    ]
    return render(
        request,
        "carbon/import_categories.html",
        {"organisation": organisation, "categories": rows},
    )


REPORT_ROWS_SHOWN = 500


@organisation_view(PERM_IMPORT)
def import_job(request: HttpRequest, organisation: Organisation, job_id: int) -> HttpResponse:
    job = reachable_or_404(request, ImportJob.objects.filter(organisation=organisation), pk=job_id)
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
        writer = SafeWriter(response)
        writer.writerow(["row", "column", "value", "reason"])
        for error in job.error_report:
            writer.writerow([error.get(k) for k in ("row", "column", "value", "reason")])
        return response
    return render(
        request,
        "carbon/import_job.html",
        {
            "organisation": organisation,
            "job": job,
            "errors": job.error_report[:REPORT_ROWS_SHOWN],
            "more_errors": max(len(job.error_report) - REPORT_ROWS_SHOWN, 0),
        },
    )


@organisation_view(PERM_VIEW_ORDERS)
def import_example(request: HttpRequest, organisation: Organisation) -> FileResponse:
    return FileResponse(
        DEMO_CSV.open("rb"), as_attachment=True, filename="greenloop-orders-example.csv"
    )


@require_http_methods(["GET", "POST"])
@organisation_view(PERM_VIEW_ORDERS)
def green_power(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    can_submit = has_perm(request.user, PERM_SUBMIT, organisation)
    sites = organisation.sites.all()
    countries = {site.country for site in sites}
    home_country = countries.pop() if len(countries) == 1 else organisation.country
    form = DeclarationForm(request.POST or None, request.FILES or None, sites=sites)
    formset = InstrumentFormSet(
        request.POST or None,
        request.FILES or None,
        prefix="instruments",
        home_country=home_country,
    )
    status = 200
    if request.method == "POST":
        if not can_submit:
            return forbidden(request, organisation, PERM_SUBMIT)
        if form.is_valid() and formset.is_valid():
            data = form.cleaned_data
            try:
                actions.submit_declaration(
                    organisation,
                    data["site"],
                    data["period_start"],
                    data["period_end"],
                    consumption=data["consumption"],
                    instruments=[
                        InstrumentData(**row)
                        for row in formset.cleaned_data
                        if row and not row.get("DELETE")
                    ],
                    evidence=data["evidence"],
                    by=request.user,
                    request=request,
                )
            except DeclarationError as error:
                target = error.field if error.field in form.fields else None
                form.add_error(target, error.message)
            except PortalError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    _("Declaration submitted. Two members of our sustainability team verify it."),
                )
                return redirect("carbon:green_power", org_slug=organisation.slug)
        status = 400
    declarations = list(
        GreenPowerDeclaration.objects.filter(organisation=organisation)
        .select_related("site")
        .prefetch_related("instruments")
    )
    # What a verified declaration's certificates cover: the kWh attributed to the orders of
    # its period, credited as green never beyond the certified MWh (one query each; a customer
    # has a handful of declarations).
    for declaration in declarations:
        declaration.reconciliation = (
            reconcile(declaration) if declaration.status == DeclarationStatus.VERIFIED else None
        )
    return render(
        request,
        "carbon/green_power.html",
        {
            "organisation": organisation,
            "declarations": declarations,
            "form": form,
            "formset": formset,
            "can_submit": can_submit,
        },
        status=status,
    )


@organisation_view(PERM_VIEW_ORDERS)
def proof(
    request: HttpRequest, organisation: Organisation, declaration_id: int, instrument_id: int
):
    """An instrument's retirement proof, to the organisation that submitted it."""
    item = reachable_or_404(
        request,
        DeclarationInstrument.objects.filter(
            declaration__organisation=organisation, declaration_id=declaration_id
        ),
        pk=instrument_id,
    )
    extension = item.proof.name.rsplit(".", 1)[-1].lower()
    response = FileResponse(
        item.proof.open("rb"),
        content_type=CONTENT_TYPES.get(extension, "application/octet-stream"),
        as_attachment=True,
        filename=f"green-power-{declaration_id}-proof-{item.pk}.{extension}",
    )
    return harden_download(response)


@organisation_view(PERM_VIEW_ORDERS)
def evidence(request: HttpRequest, organisation: Organisation, declaration_id: int):
    declaration = reachable_or_404(
        request, GreenPowerDeclaration.objects.filter(organisation=organisation), pk=declaration_id
    )
    if not declaration.evidence:
        raise Http404(_("No evidence file."))
    extension = declaration.evidence.name.rsplit(".", 1)[-1].lower()
    response = FileResponse(
        declaration.evidence.open("rb"),
        content_type=CONTENT_TYPES.get(extension, "application/octet-stream"),
        as_attachment=True,
        filename=f"green-power-{declaration.pk}.{extension}",
    )
    return harden_download(response)
