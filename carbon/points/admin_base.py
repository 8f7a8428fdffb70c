"""Pieces the points screens in the Wagtail admin share: figures, dates, balances and the form
view every points action uses."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import (
    Column,
)

from carbon.models import (
    PointsAccount,
)
from carbon.points import ledger
from portal.admin_common import (
    ActionFormView,
)
from portal.models import Organisation

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

FORM_TEMPLATE = "carbon/admin/points/form.html"


def signed_points(value: int) -> str:
    """A change of points with its sign (+5, -3), or 0."""
    return f"{value:+d}" if value else "0"


def date_or_dash(value: dt.date | None) -> str:
    """An ISO date, or a dash when there is none."""
    return value.isoformat() if value else "—"


def date_column(name: str, label: StrOrPromise) -> Column:
    """A sortable column of a date field that may be empty."""
    return Column(
        name,
        label=label,
        accessor=lambda obj: date_or_dash(getattr(obj, name)),
        sort_key=name,
        # "2026-12-20" on one line, not broken after its month (portal/css/admin.css).
        classname="greenloop-nowrap",
    )


def organisation_balances_text(organisation: Organisation) -> StrOrPromise:
    """The organisation's balances in one sentence (`balances_text`), or that it has none."""
    # Read-only: a page view never creates the account (ledger.account_for would).
    account = PointsAccount.objects.filter(organisation=organisation).first()
    if account is None:
        return _("No points yet.")
    return balances_text(ledger.balances(account))


def balances_text(balances: ledger.Balances) -> str:
    """Available, pending, held and expiring-soon points in one sentence."""
    return _(
        "%(available)s available, %(pending)s pending, %(held)s held for redemptions; "
        "%(expiring)s expiring within 90 days."
    ) % {
        "available": balances.available,
        "pending": balances.pending,
        "held": balances.held,
        "expiring": balances.expiring_soon,
    }


class PointsFormView(ActionFormView):
    """An action form that also shows form-level errors. It has no subtitle: the generic form
    template shows the subtitle instead of the title, and the summary above the form names the
    object, so the heading says what the form does."""

    template_name = FORM_TEMPLATE


# --- points policies
