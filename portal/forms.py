from typing import cast

from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.core import context
from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from portal.adapter import INVITATION_SESSION_KEY
from portal.api_scopes import SCOPES
from portal.models import Invitation, Role


class SignupForm(AllauthSignupForm):
    """Sign-up happens only from an invitation, for the invited address."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)

    field_order = ["email", "first_name", "last_name", "password1", "password2"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if (translation.get_language() or "").startswith("zh"):
            # Chinese names are written family name first (as on the profile page).
            self.order_fields(["email", "last_name", "first_name", "password1", "password2"])
        self._invited_email = None
        # allauth's SignupView does not hand the request to the form; its middleware keeps it.
        request = getattr(self, "request", None) or context.request
        key = request.session.get(INVITATION_SESSION_KEY) if request else None
        if key:
            invitation = Invitation.objects.pending().filter(key=key).first()
            if invitation:
                self._invited_email = invitation.email
                self.fields["email"].initial = invitation.email
                self.fields["email"].widget.attrs["readonly"] = True

    def clean_email(self):
        email = super().clean_email()
        if self._invited_email and email.lower() != self._invited_email.lower():
            raise forms.ValidationError(
                _("Sign up with the address the invitation was sent to (%(email)s).")
                % {"email": self._invited_email}
            )
        return email

    def save(self, request):
        user = super().save(request)
        user.first_name = self.cleaned_data["first_name"]
        user.last_name = self.cleaned_data["last_name"]
        user.save(update_fields=["first_name", "last_name"])
        return user


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("e.g. SAP ERP export"))
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), widget=forms.CheckboxSelectMultiple, choices=()
    )
    expires_in_days = forms.TypedChoiceField(
        label=_("Expires after"),
        coerce=int,
        choices=[
            (30, _("30 days")),
            (90, _("90 days")),
            (180, _("180 days")),
            (365, _("1 year")),
        ],
        initial=90,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The declared field: cast for the type checker, whose `fields` holds plain Fields.
        cast(forms.MultipleChoiceField, self.fields["scopes"]).choices = [
            (k, f"{k} — {v}") for k, v in sorted(SCOPES.items())
        ]


class OrganisationSettingsForm(forms.Form):
    require_mfa = forms.BooleanField(
        label=_("Require two-factor authentication for every member"), required=False
    )


class ErasureForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand that my account and personal data will be erased for good."),
        error_messages={"required": _("Tick the box to confirm the erasure.")},
    )
