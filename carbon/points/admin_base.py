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


def _signed(value: int) -> str:
    return f"{value:+d}" if value else "0"


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value else "—"


def _date_column(name: str, label: StrOrPromise) -> Column:
    """A sortable column of a date field that may be empty."""
    return Column(name, label=label, accessor=lambda obj: _date(getattr(obj, name)), sort_key=name)


def _organisation_balances(organisation: Organisation) -> StrOrPromise:
    # Read-only: a page view never creates the account (ledger.account_for would).
    account = PointsAccount.objects.filter(organisation=organisation).first()
    if account is None:
        return _("No points yet.")
    return _balances_text(ledger.balances(account))


def _balances_text(balances: ledger.Balances) -> str:
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
