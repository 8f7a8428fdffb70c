from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from carbon.footprint.categories import EU_MEMBER_STATES
from carbon.footprint.units import Q_, QuantityError, parse_quantity
from carbon.models import Instrument
from portal.models import Site

MODES = [
    ("", pgettext_lazy("transport mode", "All modes")),
    ("road", _("Road")),
    ("rail", _("Rail")),
    ("sea", _("Sea")),
    ("air", _("Air")),
    ("hub", _("Hub operations")),
]
MAX_IMPORT_BYTES = 100 * 1024 * 1024


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class OrderFilterForm(forms.Form):
    # Reports and the API name orders by number: with hundreds of orders, this is how a reader
    # finds the one a report lists (as the points statement does).
    order = forms.CharField(
        label=_("Order number"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    date_from = forms.DateField(
        label=pgettext_lazy("date range start", "From"), required=False, widget=DateInput()
    )
    date_to = forms.DateField(
        label=pgettext_lazy("date range end", "To"), required=False, widget=DateInput()
    )
    mode = forms.ChoiceField(
        label=pgettext_lazy("transport mode", "Mode"), choices=MODES, required=False
    )
    site = forms.TypedChoiceField(label=_("Site"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.TypedChoiceField, self.fields["site"]).choices = [
            ("", pgettext_lazy("the organisation's sites", "All sites"))
        ] + [(s.pk, s.name) for s in sites]


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("One row per transport leg; see the column list below."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(_("The file is larger than 100 MB; split it."))
        return upload


def _energy(value: str, field: str):
    """Text such as "4,500 MWh" as a Pint quantity in MWh; a clear error otherwise."""
    try:
        mwh = parse_quantity(value, field=field, kind="energy", to="MWh", allow_zero=False)
    except QuantityError as error:
        raise forms.ValidationError(error.message) from error
    return Q_(mwh, "MWh")


class DeclarationForm(forms.Form):
    site: forms.ModelChoiceField[Site] = forms.ModelChoiceField(label=_("Site"), queryset=None)
    period_start = forms.DateField(label=_("Period start"), widget=DateInput())
    period_end = forms.DateField(label=_("Period end"), widget=DateInput())
    consumption = forms.CharField(
        label=_("Metered consumption"),
        max_length=40,
        help_text=_(
            "The site's metered electricity in the period, with its unit, e.g. 4,500 MWh. The "
            "green share is worked out from it and the certified MWh below."
        ),
    )
    evidence = forms.FileField(
        label=_("Meter statement"),
        required=False,
        help_text=_("Utility bill or meter reading for the period: PDF, PNG or JPEG, 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )

    def __init__(self, *args, sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["site"])
        field.queryset = sites
        # One site is the answer: no "---------" to pick past.
        if sites is not None and len(sites) == 1:
            field.empty_label = None
            field.initial = sites[0].pk
        else:
            field.empty_label = _("Choose a site…")

    def clean_consumption(self):
        return _energy(self.cleaned_data["consumption"], "consumption")


# The certificate a site's electricity is usually covered by, by country (ISO 3166-1 alpha-2):
# China's Green Electricity Certificate, the UK's REGO, US RECs, Guarantees of Origin in the EU
# and EEA (EU Directive 2018/2001, art. 19), I-RECs elsewhere.
GO_COUNTRIES = EU_MEMBER_STATES | {"IS", "LI", "NO", "CH"}


def usual_instrument(country: str) -> str:
    country = (country or "").upper()
    if country == "CN":
        return Instrument.GEC
    if country == "GB":
        return Instrument.REGO
    if country == "US":
        return Instrument.REC
    if country in GO_COUNTRIES:
        return Instrument.GO
    return Instrument.IREC


class InstrumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Instrument type"), choices=Instrument.choices)
    registry = forms.CharField(
        label=_("Registry"),
        max_length=200,
        help_text=_(
            "Where the certificates were retired, e.g. China Green Certificate Trading Platform."
        ),
    )
    serial_from = forms.CharField(label=_("First serial number"), max_length=100, required=False)
    serial_to = forms.CharField(label=_("Last serial number"), max_length=100, required=False)
    certificate_ids = forms.CharField(
        label=_("Certificate ids"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line, when they are not one serial range."),
    )
    mwh = forms.CharField(
        label=_("Certified energy"), max_length=40, help_text=_("With its unit, e.g. 3,150 MWh.")
    )
    generation_start = forms.DateField(label=_("Generated from"), widget=DateInput())
    generation_end = forms.DateField(label=_("Generated to"), widget=DateInput())
    country = forms.CharField(
        label=_("Country of generation"),
        max_length=2,
        min_length=2,
        help_text=_("ISO code, e.g. CN."),
    )
    grid_region = forms.CharField(label=_("Grid region"), max_length=50, required=False)
    supplier = forms.CharField(
        label=_("Supplier or generator"),
        max_length=200,
        required=False,
        help_text=_("PPAs and green tariffs only."),
    )
    emission_factor = forms.DecimalField(
        label=_("Supplier emission factor (kg CO₂e/kWh)"),
        required=False,
        min_value=0,
        max_digits=10,
        decimal_places=6,
        help_text=_("PPAs and green tariffs only: the supply's own factor, 0 only if it is."),
    )
    proof = forms.FileField(
        label=_("Retirement or cancellation statement"),
        help_text=_("From the registry: PDF, PNG or JPEG, at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )

    def __init__(self, *args, home_country: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        # A new declaration starts from the certificate and country of the customer's own sites.
        if home_country:
            self.fields["kind"].initial = usual_instrument(home_country)
            self.fields["country"].initial = home_country.upper()

    def clean_mwh(self):
        return _energy(self.cleaned_data["mwh"], "mwh")


class BaseInstrumentFormSet(forms.BaseFormSet):
    """The first (required) instrument starts from the sites' country; further ones start
    empty, so that one left untouched still counts as unchanged and is skipped."""

    def __init__(self, *args, home_country: str = "", **kwargs):
        self.home_country = home_country
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        if index == 0:
            kwargs["home_country"] = self.home_country
        return kwargs


InstrumentFormSet = cast(
    type[BaseInstrumentFormSet],
    forms.formset_factory(
        InstrumentForm,
        formset=BaseInstrumentFormSet,
        extra=1,
        min_num=1,
        validate_min=True,
        max_num=20,
        validate_max=True,
    ),
)
