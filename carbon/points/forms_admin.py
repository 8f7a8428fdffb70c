"""Forms of the points screens in the Wagtail admin (carbon/points/admin.py): the policy draft,
the service catalogue entry, fulfilling or rejecting a redemption and a manual adjustment."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django import forms
from django.core import signing
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.widgets import AdminDateInput

from carbon.points.baselines import BaselineSettings, BaselineSettingsError
from carbon.points.redemptions import MAX_NOTE
from portal.models import Organisation, Tier

COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
ADJUSTMENT_KEY_SALT = "carbon.points.adjustment"


class CountryCodesField(forms.CharField):
    """ISO 3166-1 alpha-2 codes typed as "DE, FR AT": cleaned to a sorted list without
    duplicates, upper-cased; anything that is not two letters is refused by name."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value

    # The typed text cleans to a list, as Django's own SimpleArrayField does; the stubs fix a
    # CharField's cleaned value to str.
    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        if isinstance(value, list | tuple):
            value = ",".join(value)
        text = super().to_python(value) or ""
        codes = [part.strip().upper() for part in re.split(r"[\s,;]+", text) if part.strip()]
        bad = [code for code in codes if not COUNTRY_CODE.match(code)]
        if bad:
            raise forms.ValidationError(
                _(
                    "%(codes)s: use two-letter ISO 3166-1 codes such as DE, FR or CN, "
                    "separated by commas or spaces."
                ),
                code="invalid_country",
                params={"codes": ", ".join(bad)},
            )
        return sorted(set(codes))

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return sorted(initial or []) != self.to_python(data)
        except forms.ValidationError:
            return True


class PointsPolicyForm(WagtailAdminModelForm):
    """A draft policy. Version, status and the people involved are set by the screens, never
    typed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["effective_from"].help_text = _(
            "Orders delivered from this day earn points under this policy, once another staff "
            "member has approved it. The version number is given when the draft is saved."
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for name in ("points_per_kg", "baseline_kg_per_tkm"):
            value = cleaned.get(name)
            if value is not None and value < 0:
                self.add_error(name, _("Cannot be negative."))
        if cleaned.get("expiry_months") == 0:
            self.add_error("expiry_months", _("Points must stay valid for at least one month."))
        if "baselines" in self.fields:
            try:
                BaselineSettings.parse(cleaned.get("baselines") or {})
            except BaselineSettingsError as malformed:
                self.add_error("baselines", str(malformed))
        return cleaned


class ServiceForm(WagtailAdminModelForm):
    """A catalogue entry. Tiers are ticked from the organisation tiers; countries are typed as
    ISO codes. Both empty mean "everyone"."""

    eligible_tiers = forms.MultipleChoiceField(
        label=_("Eligible tiers"),
        choices=Tier.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every tier."),
    )
    eligible_countries = CountryCodesField(
        label=_("Eligible countries/regions"),
        help_text=_(
            "Two-letter ISO 3166-1 codes of the customer's country or site, separated by commas "
            "or spaces, e.g. DE, AT, CH. Empty: everywhere."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # An empty slug is made from the name in clean().
        self.fields["slug"].required = False
        self.fields["slug"].help_text = _("Used in links. Empty: made from the name.")
        self.fields["points_cost"].min_value = 1
        self.fields["points_cost"].widget.attrs["min"] = 1

    def clean_points_cost(self) -> int | None:
        cost = self.cleaned_data.get("points_cost")
        if cost is not None and cost < 1:
            raise forms.ValidationError(_("A service costs at least one point."))
        return cost

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not cleaned.get("slug") and cleaned.get("name"):
            cleaned["slug"] = slugify(cleaned["name"])[:80]
            if not cleaned["slug"]:
                self.add_error("slug", _("Give a slug in Latin letters, digits or hyphens."))
        start, end = cleaned.get("active_from"), cleaned.get("active_until")
        if start and end and end < start:
            self.add_error("active_until", _("The end of the window is before its start."))
        return cleaned


class FulfilForm(forms.Form):
    scheduled_for = forms.DateField(
        label=_("Service date"),
        widget=AdminDateInput,
        help_text=_("The customer is told this date by e-mail and in the portal."),
    )
    assignee = forms.CharField(
        label=_("Assignee"),
        max_length=120,
        help_text=_("Who delivers the service, e.g. the engineer's name or the team."),
    )
    note = forms.CharField(
        label=_("Note to the customer (optional)"),
        required=False,
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def new_adjustment_key() -> str:
    """A fresh idempotency key for one rendering of the adjustment form, signed so that only
    keys this server issued are accepted back."""
    return signing.Signer(salt=ADJUSTMENT_KEY_SALT).sign(f"admin-adjust:{uuid.uuid4()}")


class AdjustmentForm(forms.Form):
    """A manual correction of one organisation's available points. The form carries its own
    idempotency key (issued when it is rendered), so submitting it twice writes one entry."""

    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Organisation.objects.order_by("name"),
    )
    points = forms.IntegerField(
        label=_("Points"),
        help_text=_("Positive to add points to the available balance, negative to remove them."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept on the ledger entry and in the audit trail."),
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=300)

    def clean_points(self) -> int:
        points = self.cleaned_data["points"]
        if points == 0:
            raise forms.ValidationError(_("An adjustment must change the balance."))
        return points

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why the balance is adjusted."))
        return reason

    def clean_key(self) -> str:
        try:
            return signing.Signer(salt=ADJUSTMENT_KEY_SALT).unsign(self.cleaned_data["key"])
        except signing.BadSignature as exc:
            raise forms.ValidationError(
                _("This form has expired; open it again."), code="bad_key"
            ) from exc
