"""Points accounts and the ledger in the Wagtail admin: balances per organisation, the entries with
their references, and manual adjustments approved by sustainability staff."""

from __future__ import annotations

from typing import Any

import django_filters  # type: ignore[import-untyped]  # ships no types; stubs not a dependency
from django import forms
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import (
    Column,
    DateColumn,
    Table,
)
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import HeaderButton

from carbon.models import (
    EntryKind,
    LedgerEntry,
    PointsAccount,
)
from carbon.points import actions, ledger
from carbon.points.admin_base import (
    PointsFormView,
    balances_text,
    date_or_dash,
    organisation_balances_text,
    signed_points,
)
from carbon.points.forms_admin import (
    AdjustmentForm,
    new_adjustment_key,
)
from carbon.points.permissions import can_adjust
from portal.admin_common import (
    definition_list,
    format_when,
    format_who,
    inspect_field,
)
from portal.exceptions import PortalError
from portal.models import Organisation
from portal.text import ascii_integer
from portal.wagtail_hooks import IndexQuerysetMixin


def _entry_columns() -> list[Column]:
    """What a ledger entry moved, balance by balance, and what it refers to."""
    return [
        Column("points", label=_("Points")),
        Column("pending", label=_("Pending ±"), accessor=lambda e: signed_points(e.pending_delta)),
        Column(
            "available", label=_("Available ±"), accessor=lambda e: signed_points(e.available_delta)
        ),
        Column("held", label=_("Held ±"), accessor=lambda e: signed_points(e.held_delta)),
        Column("reference", label=_("Reference"), accessor=_reference),
    ]


def entry_table(entries) -> Table:
    return Table(
        [
            Column("created_at", label=_("When"), accessor=lambda e: format_when(e.created_at)),
            Column("kind", label=_("Kind"), accessor="get_kind_display"),
            *_entry_columns(),
        ],
        entries,
    )


def _for_organisation(url_name: str, organisation_id: int | str) -> str:
    """A ledger screen's URL narrowed to one organisation."""
    return reverse(url_name) + "?" + urlencode({"organisation": organisation_id})


def _reference(entry: LedgerEntry) -> str:
    if entry.kind == EntryKind.ADJUST:
        return _("%(reason)s (approved by %(who)s)") % {
            "reason": entry.reason,
            "who": format_who(entry.approved_by),
        }
    if entry.order is not None:
        return _("Order %(id)s") % {"id": entry.order.external_id}
    if entry.redemption_id:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("points_redemptions:inspect", args=(entry.redemption_id,)),
            _("Redemption No. %(id)s") % {"id": entry.redemption_id},
        )
    if entry.expires_on:
        return _("Expires %(date)s") % {"date": date_or_dash(entry.expires_on)}
    return ""


RECENT_ENTRIES = 20


class AccountInspectView(InspectView):
    """One organisation's balances, summed from its entries, and its latest entries."""

    # Set by the viewset: Wagtail passes it to the views that declare the attribute.
    viewset: Any = None

    def get_object(self, queryset=None):
        return get_object_or_404(PointsAccount.objects.select_related("organisation"), pk=self.pk)

    @cached_property
    def header_more_buttons(self):
        buttons = list(super().header_more_buttons)
        organisation = self.object.organisation_id
        buttons.append(
            HeaderButton(
                _("All entries"),
                url=_for_organisation("points_ledger:index", organisation),
                icon_name="list-ol",
            )
        )
        if can_adjust(self.request.user):
            buttons.append(
                HeaderButton(
                    _("Manual adjustment"),
                    url=_for_organisation("points_ledger:adjust", organisation),
                    icon_name="edit",
                )
            )
        return buttons

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        account = self.object
        entries = list(
            LedgerEntry.objects.filter(account=account)
            .select_related("order", "approved_by")
            .order_by("-id")[:RECENT_ENTRIES]
        )
        context["fields"] = [
            *context["fields"],
            inspect_field(
                _("Balances (summed from the entries)"),
                balances_text(ledger.balances(account)),
            ),
            inspect_field(
                _("Latest entries"), _("None yet."), entry_table(entries) if entries else None
            ),
        ]
        return context


class AccountIndexView(IndexView):
    page_title = _("Balances")


class PointsAccountViewSet(IndexQuerysetMixin, ModelViewSet):
    model = PointsAccount
    add_to_reference_index = False
    name = "points_accounts"
    icon = "decimal"
    menu_label = _("Balances")
    add_to_admin_menu = False
    exclude_form_fields: list[str] = []
    index_view_class = AccountIndexView
    inspect_view_class = AccountInspectView
    list_display = [
        "organisation",
        Column("available", label=_("Available"), sort_key="available"),
        Column("pending", label=_("Pending"), sort_key="pending"),
        Column("held", label=_("Held for redemptions"), sort_key="held"),
        DateColumn("updated_at", label=_("Last movement"), sort_key="updated_at"),
    ]
    search_fields = ["organisation__name"]
    inspect_view_enabled = True
    inspect_view_fields = ["organisation", "available", "pending", "held", "updated_at"]
    copy_view_enabled = False
    ordering = ["organisation__name"]
    list_per_page = 50

    def get_queryset(self, request):
        return PointsAccount.objects.select_related("organisation")


class LedgerFilterSet(WagtailFilterSet):
    organisation = django_filters.ModelChoiceFilter(
        label=_("Organisation"),
        field_name="account__organisation",
        queryset=Organisation.objects.order_by("name"),
    )
    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=EntryKind.choices, empty_label=_("All"), widget=forms.RadioSelect
    )

    class Meta:
        model = LedgerEntry
        fields = ["organisation", "kind"]


class LedgerIndexView(IndexView):
    """Every entry, newest first; filtered to one organisation it also shows its balances."""

    page_title = _("Points ledger")
    results_template_name = "carbon/admin/points/ledger_results.html"

    def get_base_queryset(self):
        return LedgerEntry.objects.select_related("account__organisation", "order", "approved_by")

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if can_adjust(self.request.user):
            organisation = self.request.GET.get("organisation")
            url = (
                _for_organisation("points_ledger:adjust", organisation)
                if organisation and ascii_integer(organisation) is not None
                else reverse("points_ledger:adjust")
            )
            buttons.append(HeaderButton(_("Manual adjustment"), url=url, icon_name="edit"))
        return buttons

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        organisation = None
        if self.filters and self.filters.is_valid():
            organisation = self.filters.form.cleaned_data.get("organisation")
        if organisation is not None:
            context["balances_organisation"] = organisation
            context["balances"] = organisation_balances_text(organisation)
        return context


class AdjustmentView(PointsFormView):
    """A manual adjustment, approved by the signed-in sustainability staff member."""

    page_title = _("Manual adjustment")
    header_icon = "edit"
    form_class = AdjustmentForm
    submit_button_label = _("Adjust the balance")
    index_label = _("Ledger")
    refused = (PortalError,)
    refusals_on_form = True

    def has_permission(self, user) -> bool:
        return can_adjust(user)

    def get_initial(self):
        initial: dict[str, Any] = {"key": new_adjustment_key()}
        organisation = self.request.GET.get("organisation", "")
        organisation_id = ascii_integer(organisation)
        if organisation_id is not None:
            initial["organisation"] = organisation_id
        return initial

    def summary(self):
        return definition_list(
            [
                (
                    _("Approver"),
                    _("%(who)s (you). The entry and the audit trail name you.")
                    % {"who": format_who(self.request.user)},
                ),
            ]
        )

    def perform(self, form) -> str:
        self.organisation = form.cleaned_data["organisation"]
        account = ledger.account_for(self.organisation)
        actions.adjust(
            account,
            form.cleaned_data["points"],
            form.cleaned_data["reason"],
            self.acting_user,
            key=form.cleaned_data["key"],
        )
        account.refresh_from_db()
        return _("Adjusted %(organisation)s by %(points)s points; %(available)s now available.") % {
            "organisation": self.organisation,
            "points": signed_points(form.cleaned_data["points"]),
            "available": account.available,
        }

    def done(self):
        return redirect(_for_organisation("points_ledger:index", self.organisation.pk))


class LedgerEntryViewSet(ModelViewSet):
    model = LedgerEntry
    add_to_reference_index = False
    name = "points_ledger"
    icon = "list-ol"
    menu_label = _("Ledger")
    add_to_admin_menu = False
    exclude_form_fields: list[str] = []
    index_view_class = LedgerIndexView
    filterset_class = LedgerFilterSet
    list_display = [
        "kind",
        Column("organisation", label=_("Organisation"), accessor="account.organisation"),
        *_entry_columns(),
        DateColumn("created_at", label=_("When"), sort_key="created_at"),
    ]
    inspect_view_enabled = True
    inspect_view_fields = [
        "account",
        "kind",
        "points",
        "pending_delta",
        "available_delta",
        "held_delta",
        "order",
        "award",
        "redemption_id",
        "expires_on",
        "reason",
        "approved_by",
        "idempotency_key",
        "created_at",
    ]
    copy_view_enabled = False
    ordering = ["-id"]
    list_per_page = 50

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("adjust/", AdjustmentView.as_view(viewset=self), name="adjust"),
        ]
