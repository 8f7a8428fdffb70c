from __future__ import annotations

import json
from functools import wraps

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from portal import actions, audit, audit_actions, privacy
from portal.access import reachable_or_404
from portal.adapter import INVITATION_SESSION_KEY, record_rate_limited
from portal.context_processors import CURRENT_ORG_SESSION_KEY
from portal.csv_export import streaming_csv_response
from portal.dashboard import panels_for
from portal.exceptions import PortalError
from portal.forms import (
    ApiTokenForm,
    ErasureForm,
    InvitationForm,
    OrganisationSettingsForm,
    RoleForm,
)
from portal.http import OrganisationRequest, SignedInRequest
from portal.models import ApiToken, AuditEvent, Invitation, Organisation, User
from portal.permissions import Perm, has_perm


def forbidden(request: HttpRequest, organisation: Organisation, perm: str) -> HttpResponse:
    """Refuse with an explanation, and keep a record of the attempt."""
    audit.record(
        "access.denied",
        organisation=organisation,
        request=request,
        details={"permission": str(perm), "path": request.path},
    )
    return render(request, "portal/forbidden.html", {"organisation": organisation}, status=403)


def organisation_view(perm: str = Perm.ORG_VIEW):
    """Resolve `org_slug` among the organisations the user may see (404 otherwise), then check
    `perm` (403). The view receives the organisation instead of the slug."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request: OrganisationRequest, org_slug: str, *args, **kwargs):
            organisation = reachable_or_404(
                request, Organisation.objects.for_user(request.user), slug=org_slug
            )
            if not has_perm(request.user, perm, organisation):
                return forbidden(request, organisation, perm)
            # The page's organisation leads the top bar (portal.context_processors); the
            # session's current organisation changes only through the switcher's POST, so that
            # a GET (an <img> in a post, a prefetch) never changes it.
            request.organisation = organisation
            return view(request, organisation, *args, **kwargs)

        return wrapper

    return decorator


@login_required
def dashboard_redirect(request: SignedInRequest) -> HttpResponse:
    """Send the user to the organisation they used last, or their first one."""
    orgs = Organisation.objects.for_member(request.user)
    slug = request.session.get(CURRENT_ORG_SESSION_KEY)
    organisation = orgs.filter(slug=slug).first() if slug else None
    organisation = organisation or orgs.first()
    if organisation is None:
        if request.user.is_staff:
            return redirect("wagtailadmin_home")
        # Someone who left an invitation half-way finds it here instead of a dead end.
        invitations = (
            Invitation.objects.pending()
            .filter(email__iexact=request.user.email)
            .select_related("organisation", "invited_by")
            .order_by("-created_at")
        )
        return render(request, "portal/no_organisation.html", {"invitations": invitations})
    return redirect("portal:org_dashboard", org_slug=organisation.slug)


@organisation_view()
def org_dashboard(request: OrganisationRequest, organisation: Organisation) -> HttpResponse:
    panels = [(p, p.render(request, organisation)) for p in panels_for(request, organisation)]
    return render(
        request,
        "portal/dashboard.html",
        {
            "organisation": organisation,
            "panels": panels,
            "can_manage": has_perm(request.user, Perm.ORG_MANAGE_MEMBERS, organisation),
        },
    )


@organisation_view()
def members(request: OrganisationRequest, organisation: Organisation) -> HttpResponse:
    memberships = organisation.memberships.select_related("user").order_by("user__email")
    can_manage = has_perm(request.user, Perm.ORG_MANAGE_MEMBERS, organisation)
    invitations = (
        organisation.invitations.pending().select_related("invited_by") if can_manage else []
    )
    return render(
        request,
        "portal/members.html",
        {
            "organisation": organisation,
            "memberships": memberships,
            "invitations": invitations,
            "can_manage": can_manage,
            "invite_form": InvitationForm(),
            "role_form": RoleForm(),
        },
    )


def _fail(request: HttpRequest, error: PortalError) -> None:
    messages.error(request, error.message)


@require_POST
@organisation_view(Perm.ORG_MANAGE_MEMBERS)
def invite(request: OrganisationRequest, organisation: Organisation) -> HttpResponse:
    form = InvitationForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(
                request,
                _("%(field)s: %(errors)s")
                % {"field": form.fields[field].label, "errors": " ".join(str(e) for e in errors)},
            )
        return redirect("portal:members", org_slug=organisation.slug)
    try:
        invitation = actions.invite_member(
            organisation,
            form.cleaned_data["email"],
            form.cleaned_data["role"],
            by=request.user,
            request=request,
        )
    except PortalError as error:
        _fail(request, error)
    else:
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
    return redirect("portal:members", org_slug=organisation.slug)


@require_POST
@organisation_view(Perm.ORG_MANAGE_MEMBERS)
def revoke_invitation(
    request: OrganisationRequest, organisation: Organisation, pk: int
) -> HttpResponse:
    invitation = reachable_or_404(request, organisation.invitations.all(), pk=pk)
    try:
        actions.revoke_invitation(invitation, by=request.user, request=request)
    except PortalError as error:
        _fail(request, error)
    else:
        messages.success(request, _("Invitation withdrawn."))
    return redirect("portal:members", org_slug=organisation.slug)


@require_POST
@organisation_view(Perm.ORG_MANAGE_MEMBERS)
def change_role(request: OrganisationRequest, organisation: Organisation, pk: int) -> HttpResponse:
    membership = reachable_or_404(request, organisation.memberships.select_related("user"), pk=pk)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            actions.change_role(
                membership, form.cleaned_data["role"], by=request.user, request=request
            )
        except PortalError as error:
            _fail(request, error)
        else:
            messages.success(request, _("Role updated for %(user)s.") % {"user": membership.user})
    else:
        messages.error(request, _("Choose a valid role."))
    return redirect("portal:members", org_slug=organisation.slug)


@require_POST
@organisation_view()
def remove_member(
    request: OrganisationRequest, organisation: Organisation, pk: int
) -> HttpResponse:
    membership = reachable_or_404(request, organisation.memberships.select_related("user"), pk=pk)
    leaving = membership.user_id == request.user.pk
    if not leaving and not has_perm(request.user, Perm.ORG_MANAGE_MEMBERS, organisation):
        return forbidden(request, organisation, Perm.ORG_MANAGE_MEMBERS)
    try:
        actions.remove_member(membership, by=request.user, request=request)
    except PortalError as error:
        _fail(request, error)
        return redirect("portal:members", org_slug=organisation.slug)
    if leaving:
        messages.success(request, _("You have left %(org)s.") % {"org": organisation})
        request.session.pop(CURRENT_ORG_SESSION_KEY, None)
        return redirect("portal:dashboard")
    messages.success(request, _("%(user)s was removed.") % {"user": membership.user})
    return redirect("portal:members", org_slug=organisation.slug)


@organisation_view(Perm.ORG_MANAGE_TOKENS)
def tokens(request: OrganisationRequest, organisation: Organisation) -> HttpResponse:
    return render(
        request,
        "portal/tokens.html",
        {
            "organisation": organisation,
            "tokens": organisation.api_tokens.select_related("created_by"),
            "form": ApiTokenForm(),
        },
    )


@require_POST
@organisation_view(Perm.ORG_MANAGE_TOKENS)
@reauthentication_required
def issue_token(request: OrganisationRequest, organisation: Organisation) -> HttpResponse:
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "portal/tokens.html",
            {"organisation": organisation, "tokens": organisation.api_tokens.all(), "form": form},
            status=400,
        )
    try:
        token, plaintext = actions.issue_api_token(
            organisation,
            form.cleaned_data["name"],
            form.cleaned_data["scopes"],
            by=request.user,
            expires_in_days=form.cleaned_data["expires_in_days"],
            request=request,
        )
    except PortalError as error:
        form.add_error(error.field, error.message)
        return render(
            request,
            "portal/tokens.html",
            {"organisation": organisation, "tokens": organisation.api_tokens.all(), "form": form},
            status=400,
        )
    # The plaintext is rendered once, in this response, and never stored.
    return render(
        request,
        "portal/token_issued.html",
        {"organisation": organisation, "token": token, "plaintext": plaintext},
    )


@require_POST
@organisation_view(Perm.ORG_MANAGE_TOKENS)
def revoke_token(request: OrganisationRequest, organisation: Organisation, pk: int) -> HttpResponse:
    token = reachable_or_404(request, ApiToken.objects.filter(organisation=organisation), pk=pk)
    actions.revoke_api_token(token, by=request.user, request=request)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("portal:tokens", org_slug=organisation.slug)


@require_http_methods(["GET", "POST"])
@organisation_view(Perm.ORG_EDIT_SETTINGS)
def org_settings(request: OrganisationRequest, organisation: Organisation) -> HttpResponse:
    form = OrganisationSettingsForm(
        request.POST or None, initial={"require_mfa": organisation.require_mfa}
    )
    if request.method == "POST" and form.is_valid():
        actions.set_require_mfa(
            organisation, form.cleaned_data["require_mfa"], by=request.user, request=request
        )
        messages.success(request, _("Settings saved."))
        return redirect("portal:org_settings", org_slug=organisation.slug)
    return render(
        request,
        "portal/org_settings.html",
        {"organisation": organisation, "form": form, "sites": organisation.sites.all()},
    )


AUDIT_PAGE_SIZE = 50


@organisation_view(Perm.ORG_VIEW_AUDIT)
def audit_log(request: OrganisationRequest, organisation: Organisation) -> HttpResponseBase:
    events = AuditEvent.objects.filter(organisation=organisation).select_related("actor")
    action = request.GET.get("action", "").strip()
    if action:
        events = events.filter(action__startswith=action)
    if request.GET.get("format") == "csv":
        return _audit_csv(events, f"audit-{organisation.slug}.csv")
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    # The filter offers the actions this organisation's trail holds, by their names.
    recorded = (
        AuditEvent.objects.filter(organisation=organisation)
        .order_by()
        .values_list("action", flat=True)
        .distinct()
    )
    names = audit_actions.action_names()
    for event in page:
        event.action_name = audit_actions.action_name(event.action, names)
    return render(
        request,
        "portal/audit_log.html",
        {
            "organisation": organisation,
            "page": page,
            "action": action,
            # An older link's prefix ("?action=membership") stays selected as typed.
            "action_choices": audit_actions.action_choices(
                [*recorded, action] if action else recorded
            ),
        },
    )


AUDIT_CSV_COLUMNS = [
    "occurred_at",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "ip_address",
    "user_agent",
    "details",
]


def _audit_csv(events, filename: str) -> StreamingHttpResponse:
    def rows():
        yield AUDIT_CSV_COLUMNS
        for event in events.iterator(chunk_size=1000):
            row = [getattr(event, c) for c in AUDIT_CSV_COLUMNS]
            row[-1] = json.dumps(event.details, ensure_ascii=False, sort_keys=True)
            yield row

    return streaming_csv_response(rows(), filename)


def invitation(request: HttpRequest, key: str) -> HttpResponse:
    """Landing page of an invitation link: explain, then accept (creating the account if needed)."""
    try:
        invitation = actions.check_invitation(key)
    except PortalError as error:
        known = Invitation.objects.filter(key=key).select_related("organisation").first()
        if known is not None:
            audit.record(
                "invitation.refused",
                organisation=known.organisation,
                obj=known,
                request=request,
                details={"reason": error.code},
            )
        request.session.pop(INVITATION_SESSION_KEY, None)
        status = 404 if known is None else 410
        return render(request, "portal/invitation_invalid.html", {"error": error}, status=status)

    if not request.user.is_authenticated:
        request.session[INVITATION_SESSION_KEY] = key
        account_exists = User.objects.filter(email__iexact=invitation.email).exists()
        if not account_exists:
            # Following the e-mailed link proves the address, so sign-up needs no second e-mail.
            from allauth.account.adapter import get_adapter

            get_adapter(request).stash_verified_email(request, invitation.email)
        return render(
            request,
            "portal/invitation.html",
            {"invitation": invitation, "account_exists": account_exists},
        )

    if request.method == "POST":
        try:
            membership = actions.accept_invitation(key, request.user, request=request)
        except PortalError as error:
            return render(request, "portal/invitation_invalid.html", {"error": error}, status=403)
        request.session.pop(INVITATION_SESSION_KEY, None)
        messages.success(request, _("Welcome to %(org)s.") % {"org": membership.organisation.name})
        return redirect("portal:org_dashboard", org_slug=membership.organisation.slug)
    return render(request, "portal/invitation.html", {"invitation": invitation})


@require_POST
@login_required
def switch_organisation(request: SignedInRequest) -> HttpResponse:
    """Make another of the person's organisations the current one. POST only (with CSRF):
    a GET, e.g. an image URL in a community post, must never switch anyone."""
    slug = request.POST.get("organisation", "")
    organisation = Organisation.objects.for_member(request.user).filter(slug=slug).first()
    if organisation is None:
        raise Http404(_("No such organisation."))
    request.session[CURRENT_ORG_SESSION_KEY] = organisation.slug
    return redirect(reverse("portal:org_dashboard", kwargs={"org_slug": organisation.slug}))


def _privacy_page(
    request: SignedInRequest, form: ErasureForm | None = None, status: int = 200
) -> HttpResponse:
    context = {
        "form": form or ErasureForm(),
        "refusal": privacy.erasure_refusal(request.user),
    }
    return render(request, "portal/privacy.html", context, status=status)


@login_required
def privacy_page(request: SignedInRequest) -> HttpResponse:
    """The account's privacy page: download your data, or have it erased."""
    return _privacy_page(request)


@require_POST
@login_required
@reauthentication_required
def export_personal_data(request: SignedInRequest) -> HttpResponse:
    data = privacy.export_personal_data(request.user, request=request)
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    filename = f"greenloop-personal-data-{timezone.now():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@login_required
@reauthentication_required
def erase_personal_data(request: SignedInRequest) -> HttpResponse:
    form = ErasureForm(request.POST)
    if not form.is_valid():
        return _privacy_page(request, form, status=400)
    try:
        privacy.erase_personal_data(request.user, request=request)
    except PortalError as error:
        # The page states the refusal (portal.privacy.erasure_refusal) next to the form.
        return _privacy_page(request, form, status=error.status)
    # The session row is gone already; this also forgets the signed-in user in this request.
    logout(request)
    messages.success(request, _("Your account and personal data have been erased."))
    return redirect("account_login")


def rate_limited(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """allauth's answer when a rate limit refuses a whole view (`handler429` in portal.urls):
    audited, aggregated per client IP and minute."""
    record_rate_limited(request, "http_429")
    return render(request, "429.html", status=429)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A forged or stale form post: refuse it, say what to do, and keep a record."""
    audit.record(
        "security.csrf_rejected",
        request=request,
        details={"path": request.path[:200], "reason": reason[:200]},
    )
    return render(request, "403_csrf.html", {"reason": reason}, status=403)
