from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from carbon.models import Instrument
from portal.models import Site

MODES = [
    ("", pgettext_lazy("transport mode", "All modes")),
    ("road", _("Road")),
    ("rail", _("Rail")),
    ("sea", _("Sea")),
    ("air", _("Air")),
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


class DeclarationForm(forms.Form):
    site: forms.ModelChoiceField[Site] = forms.ModelChoiceField(label=_("Site"), queryset=None)
    period_start = forms.DateField(label=_("Period start"), widget=DateInput())
    period_end = forms.DateField(label=_("Period end"), widget=DateInput())
    instrument = forms.ChoiceField(label=_("Instrument"), choices=Instrument.choices)
    green_ratio = forms.DecimalField(
        label=_("Green ratio"),
        required=False,
        min_value=0,
        max_value=1,
        max_digits=7,
        decimal_places=6,
        help_text=_("Share of the site's electricity covered, 0 to 1 (e.g. 0.65)."),
    )
    green_kwh = forms.DecimalField(
        label=_("Green electricity (kWh)"),
        required=False,
        min_value=0,
        max_digits=18,
        decimal_places=3,
    )
    total_kwh = forms.DecimalField(
        label=_("Total electricity (kWh)"),
        required=False,
        min_value=0,
        max_digits=18,
        decimal_places=3,
        help_text=_("Give the kWh instead of the ratio and we compute the ratio."),
    )
    evidence = forms.FileField(
        label=_("Evidence"),
        help_text=_("Certificate, contract or invoice: PDF, PNG or JPEG, at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )

    def __init__(self, *args, sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["site"]).queryset = sites
