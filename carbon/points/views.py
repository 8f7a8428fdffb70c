"""Customer portal pages of carbon points: statement and CSV export, how points work, the
explanation of an order's award, the catalogue, the redeem flow and the redemption history.

Reading pages never write: an organisation without a points account sees zero balances (the
account is created by the first ledger write, e.g. the first redemption request).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from wagtail.images import get_image_model

from carbon.models import (
    EntryKind,
    LedgerEntry,
    Order,
    PointsAward,
    PointsPolicy,
    PolicyStatus,
    Redemption,
    RedemptionStatus,
    Service,
)
from carbon.models.points import LedgerEntryQuerySet
from carbon.points import actions, awards, ledger
from carbon.points.baselines import SERVICE_CLASS_LABELS
from carbon.points.catalogue import (
    baseline_note,
    policy_explanation,
    service_description,
    service_name,
)
from carbon.points.exceptions import PointsError, PolicyError
from carbon.points.forms import ConfirmForm, RedeemForm, RedemptionFilterForm, StatementFilterForm
from carbon.points.permissions import PERM_REDEEM, PERM_VIEW_POINTS
from carbon.points.redemptions import Offer, ineligibility, offers
from portal.access import reachable_or_404
from portal.csv_export import streaming_csv_response
from portal.http import OrganisationRequest
from portal.models import Organisation
from portal.permissions import has_perm
from portal.views import organisation_view

STATEMENT_PAGE_SIZE = 50
HISTORY_PAGE_SIZE = 25
IMAGE_SPEC = "fill-480x270"
CSV_COLUMNS = [
    "date",
    "kind",
    "points",
    "pending_delta",
    "available_delta",
    "held_delta",
    "order",
    "redemption",
    "expires_on",
    "reason",
]


# --- statement


def _filtered_entries(organisation: Organisation, form: StatementFilterForm) -> LedgerEntryQuerySet:
    entries = LedgerEntry.objects.filter(account__organisation=organisation)
    if form.is_valid():
        data = form.cleaned_data
        if data["kind"]:
            entries = entries.filter(kind=data["kind"])
        if data["date_from"]:
            entries = entries.filter(created_at__date__gte=data["date_from"])
        if data["date_to"]:
            entries = entries.filter(created_at__date__lte=data["date_to"])
        if data["order"]:
            entries = entries.filter(order__external_id__icontains=data["order"].strip())
    return entries.order_by("-created_at", "-id")


@organisation_view(PERM_VIEW_POINTS)
def statement(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    form = StatementFilterForm(request.GET or None)
    entries = _filtered_entries(organisation, form).select_related("order").with_available_after()
    page = Paginator(entries, STATEMENT_PAGE_SIZE).get_page(request.GET.get("page"))
    redemption_ids = {e.redemption_id for e in page.object_list if e.redemption_id}
    redemptions = (
        Redemption.objects.filter(organisation=organisation, pk__in=redemption_ids)
        .select_related("service")
        .in_bulk()
        if redemption_ids
        else {}
    )
    for entry in page.object_list:
        entry.redemption = redemptions.get(entry.redemption_id)
        if entry.redemption is not None:
            entry.redemption.display_name = service_name(entry.redemption.service)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "carbon/points/statement.html",
        {
            "organisation": organisation,
            "balance": ledger.balance_summary(organisation),
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "filtered": any(v for k, v in request.GET.items() if k != "page"),
        },
    )


def _csv_rows(entries: QuerySet) -> Iterator[list[Any]]:
    yield CSV_COLUMNS
    rows = entries.values_list(
        "created_at",
        "kind",
        "points",
        "pending_delta",
        "available_delta",
        "held_delta",
        "order__external_id",
        "redemption_id",
        "expires_on",
        "reason",
    )
    for created_at, *rest in rows.iterator(chunk_size=2000):
        local = timezone.localtime(created_at).replace(microsecond=0)
        yield [local.isoformat(), *(v if v is not None else "" for v in rest)]


@organisation_view(PERM_VIEW_POINTS)
def statement_csv(request: HttpRequest, organisation: Organisation) -> StreamingHttpResponse:
    form = StatementFilterForm(request.GET or None)
    entries = _filtered_entries(organisation, form)
    today = timezone.localdate().isoformat()
    response = streaming_csv_response(_csv_rows(entries), f"points-{organisation.slug}-{today}.csv")
    response["Cache-Control"] = "private, no-store"
    return response


# --- how points work


def plain(value: Decimal | None) -> str:
    """A Decimal without trailing zeros or exponent: 0.081500 -> "0.0815", 10.0 -> "10"."""
    return "" if value is None else f"{Decimal(value).normalize():f}"


def _formula(policy: PointsPolicy) -> str:
    avoided = _(
        "Σ over the period's legs of (reference t·km × the baseline of the leg's service class "
        "− actual WTW kg CO₂e)"
    )
    if policy.include_green_power:
        avoided = _(
            "%(logistics)s + green-power reward basis max(0, Scope 2 location-based kg − "
            "Scope 2 market-based kg)"
        ) % {"logistics": avoided}
    rate = plain(policy.points_per_kg)
    formula = _("floor(max(0, %(avoided)s) × %(rate)s points per kg)") % {
        "avoided": avoided,
        "rate": rate,
    }
    if policy.per_period_cap is not None:
        formula = _("min(%(formula)s, %(cap)s)") % {
            "formula": formula,
            "cap": policy.per_period_cap,
        }
    return _("period points = %(formula)s") % {"formula": formula}


@organisation_view(PERM_VIEW_POINTS)
def policy(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    today = timezone.localdate()
    current = PointsPolicy.objects.in_force(today)
    context: dict[str, Any] = {"organisation": organisation, "policy": current}
    if current is not None:
        try:
            settings = awards.policy_baselines(current)
        except PolicyError:
            settings = None
        context |= {
            "baselines": [
                # The note in the reader's language where the policy has it in theirs.
                replace(
                    b,
                    kg_per_tkm=b.kg_per_tkm.normalize(),
                    note=baseline_note(b),
                )
                for b in (settings.classes.values() if settings else [])
            ],
            "modal_shift": [
                (SERVICE_CLASS_LABELS[own], SERVICE_CLASS_LABELS[other], km)
                for own, other, km in (settings.modal_shift if settings else ())
            ],
            "short_sea_max_km": settings.short_sea_max_km if settings else None,
            "explanation": policy_explanation(current),
            "formula": _formula(current),
            "rate_text": plain(current.points_per_kg),
            "next_policy": PointsPolicy.objects.filter(
                status=PolicyStatus.ACTIVE, effective_from__gt=today
            )
            .order_by("effective_from", "version")
            .first(),
        }
    return render(request, "carbon/points/policy.html", context)


# --- award explanation on the order page


def award_explanations(order: Order) -> list[dict[str, Any]]:
    """Each award of the order with its worked figures (from the award's stored breakdown, not
    recomputed) and where its points stand in the ledger. Two queries."""
    awards = list(
        PointsAward.objects.filter(order=order)
        .select_related("policy", "snapshot")
        .prefetch_related(Prefetch("entries", queryset=LedgerEntry.objects.order_by("id")))
        .order_by("created_at", "id")
    )
    result = []
    for award in awards:
        award.order = order  # the same row; saves a query per award
        b = award.breakdown or {}
        inputs = b.get("inputs") or {}
        baseline = b.get("baseline") or {}
        tkm = _decimal(inputs.get("tkm"))
        per_tkm = _decimal(baseline.get("kg_per_tkm"))
        entries = {e.kind: e for e in award.entries.all()}
        result.append(
            {
                "award": award,
                "b": b,
                "inputs": inputs,
                "baseline": baseline,
                "baseline_kg": tkm * per_tkm if tkm is not None and per_tkm is not None else None,
                "capped": b.get("cap") is not None
                and (b.get("uncapped_points") or 0) > (b.get("points") or 0),
                "status": _award_status(award, entries),
                # Each class compared with cited once, in the order of the legs.
                "sources": list(
                    {
                        leg.get("baseline_class"): leg.get("baseline_source")
                        for leg in b.get("legs") or []
                    }.items()
                ),
            }
        )
    return result


def _decimal(value: Any) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _award_status(award: PointsAward, entries: dict[str, LedgerEntry]) -> dict[str, Any]:
    if award.superseded_at is not None:
        return {"code": "superseded", "on": award.superseded_at}
    if EntryKind.REVERSE in entries:
        return {"code": "reversed", "on": entries[EntryKind.REVERSE].created_at}
    if EntryKind.ACTIVATE in entries:
        entry = entries[EntryKind.ACTIVATE]
        return {"code": "available", "on": entry.created_at, "expires_on": entry.expires_on}
    if EntryKind.EARN_PENDING in entries:
        delivered = award.order.delivery_date
        until = delivered + dt.timedelta(days=award.policy.pending_days) if delivered else None
        return {"code": "pending", "until": until}
    return {"code": "none"}


# --- catalogue and redeem


def _with_renditions(services: list[Service]) -> None:
    """Fetch the catalogue images' existing renditions in one query (Wagtail reads them from
    `prefetched_renditions`); missing ones are generated on first view."""
    images = [s.image for s in services if s.image is not None]
    if images:
        rendition_model = get_image_model().get_rendition_model()
        prefetch_related_objects(
            images,
            Prefetch(
                "renditions",
                queryset=rendition_model.objects.filter(filter_spec=IMAGE_SPEC),
                to_attr="prefetched_renditions",
            ),
        )


@dataclass
class Card:
    offer: Offer
    name: str
    description: str
    covered: bool


@organisation_view(PERM_VIEW_POINTS)
def catalogue(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    balance = ledger.balance_summary(organisation)
    catalogue_offers = offers(organisation)
    _with_renditions([o.service for o in catalogue_offers])
    cards = [
        Card(
            offer=offer,
            name=service_name(offer.service),
            description=service_description(offer.service),
            covered=balance.available >= offer.service.points_cost,
        )
        for offer in catalogue_offers
    ]
    return render(
        request,
        "carbon/points/catalogue.html",
        {
            "organisation": organisation,
            "balance": balance,
            "cards": cards,
            "can_redeem": has_perm(request.user, PERM_REDEEM, organisation),
            "image_spec": IMAGE_SPEC,
        },
    )


def _too_few(service: Service, balance: ledger.BalanceSummary) -> str:
    return _("%(service)s costs %(cost)s points; %(available)s are available.") % {
        "service": service_name(service),
        "cost": service.points_cost,
        "available": max(balance.available, 0),
    }


def _field_for(error: PointsError, form: RedeemForm) -> str | None:
    return error.field if error.field in form.fields else None


@require_http_methods(["GET", "POST"])
@organisation_view(PERM_REDEEM)
def redeem(
    request: OrganisationRequest, organisation: Organisation, service_slug: str
) -> HttpResponse:
    """Three steps: the request form; a POST shows a summary to confirm, carrying a fresh
    idempotency key; the confirmation POST holds the points. Repeating the confirmation (a
    double click, a reload) repeats the same key and returns the first redemption."""
    today = timezone.localdate()
    service = get_object_or_404(Service.objects.offered_on(today), slug=service_slug)
    sites = organisation.sites.order_by("name")
    form = RedeemForm(request.POST or None, service=service, sites=sites)
    step = request.POST.get("step", "form") if request.method == "POST" else "form"
    balance = ledger.balance_summary(organisation, today)
    context: dict[str, Any] = {
        "organisation": organisation,
        "service": service,
        "name": service_name(service),
        "description": service_description(service),
        "balance": balance,
        "form": form,
        "step": "form",
    }
    if request.method == "GET" or step == "edit":
        if step == "edit":
            # Back from the summary: the entered values again, not judged a second time.
            context["form"] = RedeemForm(initial=request.POST.dict(), service=service, sites=sites)
        why = ineligibility(service, organisation, today)
        if why is not None:
            context["warning"] = why[1]
        elif balance.available < service.points_cost:
            context["warning"] = _too_few(service, balance)
        return render(request, "carbon/points/redeem.html", context)

    if not form.is_valid():
        return render(request, "carbon/points/redeem.html", context, status=400)
    data = form.request_data()

    if step == "confirm":
        confirm = ConfirmForm(request.POST)
        if not confirm.is_valid():
            form.add_error(None, _("The confirmation expired; please review and confirm again."))
            return render(request, "carbon/points/redeem.html", context, status=400)
        try:
            redemption, created = actions.request_redemption(
                organisation, service, request.user, key=str(confirm.cleaned_data["key"]), **data
            )
        except PointsError as error:
            form.add_error(_field_for(error, form), error.message)
            return render(request, "carbon/points/redeem.html", context, status=422)
        if created:
            messages.success(
                request,
                _(
                    "Requested: %(service)s. %(points)s points are held until we confirm the "
                    "date; we will e-mail you."
                )
                % {"service": service_name(service), "points": redemption.points},
            )
        else:
            messages.info(request, _("This request was already sent; here it is."))
        return redirect("carbon:redemption_detail", org_slug=organisation.slug, pk=redemption.pk)

    # The summary: refuse early what the confirmation would refuse, so nobody confirms in vain.
    why = ineligibility(service, organisation, today, data["site"])
    if why is not None:
        on_site = why[0] == "region_not_eligible" and "site" in form.fields
        form.add_error("site" if on_site else None, why[1])
    elif balance.available < service.points_cost:
        form.add_error(None, _too_few(service, balance))
    if form.errors:
        return render(request, "carbon/points/redeem.html", context, status=422)
    context |= {
        "step": "confirm",
        "data": data,
        "key": ConfirmForm.new_key(),
        "after": balance.available - service.points_cost,
    }
    return render(request, "carbon/points/redeem.html", context)


# --- redemptions


@organisation_view(PERM_VIEW_POINTS)
def redemptions(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    form = RedemptionFilterForm(request.GET or None)
    qs = Redemption.objects.filter(organisation=organisation).select_related("service", "site")
    if form.is_valid() and form.cleaned_data["status"]:
        qs = qs.filter(status=form.cleaned_data["status"])
    page = Paginator(qs.order_by("-requested_at", "-id"), HISTORY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for redemption in page.object_list:
        redemption.display_name = service_name(redemption.service)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "carbon/points/redemptions.html",
        {"organisation": organisation, "form": form, "page": page, "query": query.urlencode()},
    )


@organisation_view(PERM_VIEW_POINTS)
def redemption_detail(request: HttpRequest, organisation: Organisation, pk: int) -> HttpResponse:
    redemption = reachable_or_404(
        request,
        Redemption.objects.filter(organisation=organisation).select_related(
            "service", "site", "requested_by", "cancelled_by"
        ),
        pk=pk,
    )
    return render(
        request,
        "carbon/points/redemption_detail.html",
        {
            "organisation": organisation,
            "redemption": redemption,
            "name": service_name(redemption.service),
            "can_cancel": redemption.status == RedemptionStatus.REQUESTED
            and has_perm(request.user, PERM_REDEEM, organisation),
        },
    )


@require_POST
@organisation_view(PERM_REDEEM)
def redemption_cancel(
    request: OrganisationRequest, organisation: Organisation, pk: int
) -> HttpResponse:
    redemption = reachable_or_404(
        request, Redemption.objects.filter(organisation=organisation), pk=pk
    )
    if redemption.status == RedemptionStatus.CANCELLED:
        messages.info(request, _("This request was already cancelled."))
        return redirect("carbon:redemption_detail", org_slug=organisation.slug, pk=redemption.pk)
    try:
        redemption = actions.cancel(redemption, request.user)
    except PointsError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Request cancelled; %(points)s points are back in your available balance.")
            % {"points": redemption.points},
        )
    return redirect("carbon:redemption_detail", org_slug=organisation.slug, pk=redemption.pk)
