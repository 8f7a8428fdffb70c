"""The person's own profile (name, language, time zone, notification e-mails) and the header's
language switch, which stores the choice for a signed-in person: the sign-in applies the stored
language (portal.adapter.post_login), so both must agree or a switch is forgotten at the next
sign-in."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import i18n
from django.views.decorators.http import require_http_methods

from portal import timezones
from portal.http import SignedInRequest
from portal.models import User
from portal.models.users import NotificationEmail


class ProfileForm(forms.ModelForm):
    first_name = forms.CharField(label=gettext_lazy("Given name"), max_length=150, required=False)
    last_name = forms.CharField(label=gettext_lazy("Family name"), max_length=150, required=False)
    preferred_language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        choices=settings.LANGUAGES,
        help_text=gettext_lazy("Pages and e-mails are shown in this language."),
    )
    # Any IANA name the system knows is accepted; the select offers the common ones.
    time_zone = forms.CharField(
        label=gettext_lazy("Time zone"),
        max_length=64,
        widget=forms.Select,
        help_text=gettext_lazy("Times are shown in this zone; digests are sent at 07:00 in it."),
    )
    notification_email = forms.ChoiceField(
        label=gettext_lazy("E-mail me about notifications"),
        choices=NotificationEmail.choices,
        widget=forms.RadioSelect,
    )

    class Meta:
        model = User
        fields = (
            "first_name",
            "last_name",
            "preferred_language",
            "time_zone",
            "notification_email",
        )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        current = self.data.get("time_zone") if self.is_bound else self.instance.time_zone
        self.fields["time_zone"].widget.choices = timezones.choices(current or "")
        if not self.initial.get("preferred_language"):
            self.initial["preferred_language"] = translation.get_language()
        if translation.get_language().startswith("zh"):
            # Chinese names are written family name first.
            self.order_fields(["last_name", "first_name"])

    def clean_time_zone(self) -> str:
        name = self.cleaned_data["time_zone"].strip()
        if not timezones.is_valid(name):
            raise forms.ValidationError(
                _("“%(zone)s” is not a time zone. Choose one from the list.") % {"zone": name},
                code="invalid_time_zone",
            )
        return name


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: SignedInRequest) -> HttpResponse:
    """Show and change the person's own profile; the new language applies at once."""
    if request.method != "POST":
        return render(request, "portal/profile.html", {"form": ProfileForm(instance=request.user)})
    form = ProfileForm(request.POST, instance=request.user)
    if not form.is_valid():
        return render(request, "portal/profile.html", {"form": form}, status=400)
    user = form.save()
    language = user.preferred_language
    translation.activate(language)
    messages.success(request, _("Your profile was saved."))
    response = redirect("portal:profile")
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
    )
    return response


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, which also stores the choice of a signed-in person, so the
    next sign-in (which applies the stored language) keeps it."""
    response = i18n.set_language(request)
    code = request.POST.get("language", "") if request.method == "POST" else ""
    if request.user.is_authenticated and code in dict(settings.LANGUAGES):
        User.objects.filter(pk=request.user.pk).exclude(preferred_language=code).update(
            preferred_language=code
        )
    return response
