"""Personal data: a member downloads theirs as JSON and may have it erased.

Plugins add their part through two Wagtail hooks, so the portal never imports a plugin:

    @hooks.register("greenloop_personal_data")
    def community_personal_data(user) -> dict[str, Any]:
        return {"community": {...}}  # JSON-able; only this person's data, nobody else's

    @hooks.register("greenloop_erase_personal_data")
    def erase_community_data(user) -> dict[str, int]:
        ...  # inside the erasure's transaction, before the user row is anonymised
        return {"community_subscriptions_deleted": 3}

Erasure keeps the user row and its id: posts, ledger entries, redemptions and audit events go on
pointing at it, but it names nobody any more (e-mail replaced by a non-routable placeholder,
name cleared, password unusable, inactive, `erased_at` set; `User.get_full_name()` then reads
"Deleted user"). Audit events are append-only evidence and are not rewritten: rows written
before the erasure keep the e-mail they recorded as the actor's label, with IP address and user
agent, as security records (legitimate interest). New rows name only the placeholder.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from wagtail import hooks

from portal import audit
from portal.events import publish
from portal.exceptions import ErasureError
from portal.models import (
    ApiToken,
    AuditEvent,
    CrmContact,
    Invitation,
    Membership,
    Notification,
    Organisation,
    Role,
    User,
)
from portal.permissions import forget_cached_roles

PERSONAL_DATA_HOOK = "greenloop_personal_data"
ERASE_HOOK = "greenloop_erase_personal_data"
EXPORT_FORMAT = "greenloop.personal-data/1"
# The .invalid top-level domain never resolves (RFC 2606): nothing can be sent to it.
ERASED_EMAIL = "erased-{pk}@erased.invalid"
# Session engines that keep sessions in the database, where a person's can be found and ended.
DB_SESSION_ENGINES = {
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cached_db",
    "portal.sessions",
}


# --- export


def personal_data(user: User) -> dict[str, Any]:
    """Everything the portal and its plugins hold about `user`, as JSON-able data."""
    data: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "generated_at": timezone.now(),
        "user_id": user.pk,
        "portal": _portal_data(user),
    }
    for exporter in hooks.get_hooks(PERSONAL_DATA_HOOK):
        for section, content in exporter(user).items():
            if section in data:
                raise ValueError(f"Two exporters wrote the section {section!r}.")
            data[section] = content
    return data


def export_personal_data(user: User, *, request: HttpRequest | None = None) -> dict[str, Any]:
    """The person's data for download; the export is audited and the CRM told of it."""
    data = personal_data(user)
    with transaction.atomic():
        for organisation in _organisations_or_none(user):
            audit.record(
                "privacy.data_exported",
                actor=user,
                organisation=organisation,
                obj=user,
                request=request,
                details={"sections": sorted(k for k in data if isinstance(data[k], dict))},
            )
            publish(
                "greenloop.account.personal_data_exported",
                organisation,
                f"users/{user.pk}",
                {"user_id": user.pk},
            )
    return data


def _portal_data(user: User) -> dict[str, Any]:
    memberships = Membership.objects.filter(user=user).select_related("organisation")
    tokens = ApiToken.objects.filter(created_by=user).select_related("organisation")
    return {
        "profile": {
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "preferred_language": user.preferred_language,
            "time_zone": user.time_zone,
            "notification_email": user.notification_email,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
        },
        "email_addresses": [
            {"email": a.email, "verified": a.verified, "primary": a.primary}
            for a in EmailAddress.objects.filter(user=user).order_by("email")
        ],
        # Which kinds of second factor are set up; never their secrets.
        "two_factor": [
            {"type": a.type, "created_at": a.created_at, "last_used_at": a.last_used_at}
            for a in Authenticator.objects.filter(user=user).order_by("created_at")
        ],
        "memberships": [
            {
                "organisation": m.organisation.name,
                "organisation_slug": m.organisation.slug,
                "role": m.role,
                "since": m.joined_at,
            }
            for m in memberships
        ],
        "invitations_received": [
            {
                "organisation": i.organisation.name,
                "role": i.role,
                "sent_at": i.created_at,
                "expires_at": i.expires_at,
                "accepted_at": i.accepted_at,
                "withdrawn_at": i.revoked_at,
            }
            for i in Invitation.objects.filter(email__iexact=user.email).select_related(
                "organisation"
            )
        ],
        # What the vendor's CRM pushed about this address (portal.crm.inbound): kept to invite.
        "crm_contacts": [
            {
                "organisation": c.organisation.name,
                "external_id": c.external_id,
                "role": c.role,
                "received_at": c.created_at,
                "updated_at": c.updated_at,
            }
            for c in CrmContact.objects.filter(email__iexact=user.email).select_related(
                "organisation"
            )
        ],
        # Name and public prefix only: the secret was shown once and only its hash is stored.
        "api_tokens_issued": [
            {
                "organisation": t.organisation.slug if t.organisation else None,
                "name": t.name,
                "prefix": t.display_prefix,
                "scopes": t.scopes,
                "created_at": t.created_at,
                "expires_at": t.expires_at,
                "last_used_at": t.last_used_at,
                "revoked_at": t.revoked_at,
            }
            for t in tokens
        ],
        # The in-app notifications (kind and parameters; the text is worded when shown).
        "notifications": [
            {
                "kind": n.kind,
                "params": n.params,
                "link": n.link,
                "created_at": n.created_at,
                "read_at": n.read_at,
            }
            for n in Notification.objects.filter(recipient=user).order_by("pk")
        ],
        # No terms, NDA or marketing consent is recorded by the portal yet.
        "consents": [],
        "audit_entries": _audit_entries(user),
    }


def _audit_entries(user: User) -> list[dict[str, Any]]:
    """Audit events the person did or that were about them: their account, or naming their
    address (failed sign-ins, invitations, role changes and removals record it in `details`).
    Details and object labels are left out: they may name other people."""
    about = Q(actor=user) | Q(object_type=user._meta.label_lower, object_id=str(user.pk))
    about |= Q(details__email__iexact=user.email) | Q(details__user__iexact=user.email)
    events = AuditEvent.objects.filter(about).select_related("organisation").order_by("pk")
    return [
        {
            "time": e.occurred_at,
            "action": e.action,
            "you_were": "actor" if e.actor_id == user.pk else "subject",
            "organisation": e.organisation.slug if e.organisation else None,
            "object_type": e.object_type,
            "object_id": e.object_id,
            "ip_address": e.ip_address,
            "user_agent": e.user_agent,
        }
        for e in events.iterator(chunk_size=1000)
    ]


# --- erasure


def erasure_refusal(user: User, *, lock: bool = False) -> ErasureError | None:
    """Why the person cannot have their data erased now, or None.

    An organisation always keeps an admin, so its last admin must hand over first. Vendor staff
    accounts belong to the vendor and are closed by an administrator. With `lock=True` (inside
    a transaction) the admin memberships involved are locked first, so two admins of one
    organisation erasing at once cannot both pass.
    """
    if user.erased_at is not None:
        return ErasureError(_("This account has already been erased."), code="already_erased")
    if user.is_staff or user.is_superuser:
        return ErasureError(
            _("Vendor staff accounts are closed by an administrator, not erased here."),
            code="staff_account",
        )
    admin_of = Membership.objects.filter(user=user, role=Role.ADMIN).values("organisation")
    admins = Membership.objects.filter(organisation__in=admin_of, role=Role.ADMIN)
    if lock:
        admins = admins.select_for_update()
    counts: dict[int, int] = {}
    for organisation_id in admins.values_list("organisation_id", flat=True):
        counts[organisation_id] = counts.get(organisation_id, 0) + 1
    last = [org_id for org_id, count in counts.items() if count <= 1]
    if last:
        names = Organisation.objects.filter(pk__in=last).order_by("name")
        return ErasureError(
            _(
                "You are the last admin of %(orgs)s. Make someone else an admin there first, "
                "then erase your account."
            )
            % {"orgs": ", ".join(o.name for o in names)},
            code="last_admin",
        )
    return None


def erase_personal_data(user: User, *, request: HttpRequest | None = None) -> dict[str, int]:
    """Erase the person's data now, in one transaction; returns what was done (counts).

    Kept, without personal data: the user row and its id, their posts (shown as by "Deleted
    user"), ledger entries, redemptions and audit events. Removed: memberships, e-mail
    addresses, second factors, invitations to their address, group memberships, in-app
    notifications and sessions.
    Revoked: the API tokens they issued. Plugins erase their part through ERASE_HOOK.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        refusal = erasure_refusal(user, lock=True)
        if refusal is not None:
            raise refusal
        organisations = list(_organisations_or_none(user))
        summary: dict[str, int] = {}
        for eraser in hooks.get_hooks(ERASE_HOOK):
            summary.update(eraser(user) or {})
        revoked = _revoke_tokens(user)
        summary["api_tokens_revoked"] = len(revoked)
        summary.update(_erase_portal_data(user))
        _anonymise(user)
        # Recorded after the row is anonymised, so no new audit row names the old address; and
        # with English labels, whoever's language is active.
        with translation.override(settings.LANGUAGE_CODE):
            for token in revoked:
                audit.record(
                    "api_token.revoked",
                    actor=user,
                    organisation=token.organisation,
                    obj=token,
                    request=request,
                    details={"reason": "issuer_erased"},
                )
            for organisation in organisations:
                audit.record(
                    "privacy.erased",
                    actor=user,
                    organisation=organisation,
                    obj=user,
                    request=request,
                    details=summary,
                )
                publish(
                    "greenloop.account.personal_data_erased",
                    organisation,
                    f"users/{user.pk}",
                    {"user_id": user.pk},
                )
    forget_cached_roles(user)
    return summary


def _organisations_or_none(user: User) -> list[Organisation | None]:
    # One record per organisation, so each account's trail and CRM record learns of it.
    organisations = list(Organisation.objects.filter(memberships__user=user).order_by("pk"))
    return organisations or [None]


def _revoke_tokens(user: User) -> list[ApiToken]:
    """Revoke the live API tokens the person issued (an integration they set up stops; their
    organisation's admins issue a new one)."""
    now = timezone.now()
    tokens = list(
        ApiToken.objects.filter(created_by=user, revoked_at__isnull=True).select_related(
            "organisation"
        )
    )
    for token in tokens:
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
    return tokens


def _erase_portal_data(user: User) -> dict[str, int]:
    memberships = list(Membership.objects.filter(user=user).select_related("organisation"))
    for membership in memberships:
        membership.delete()
        publish(
            "greenloop.account.member_removed",
            membership.organisation,
            f"users/{user.pk}",
            {"user_id": user.pk, "left": True, "erased": True},
        )
    invitations = Invitation.objects.filter(email__iexact=user.email).delete()[0]
    crm_contacts = CrmContact.objects.filter(email__iexact=user.email).delete()[0]
    addresses = EmailAddress.objects.filter(user=user).delete()[0]
    factors = Authenticator.objects.filter(user=user).delete()[0]
    user.groups.clear()
    _delete_wagtail_profile(user)
    return {
        "memberships_removed": len(memberships),
        "invitations_deleted": invitations,
        "crm_contacts_deleted": crm_contacts,
        "email_addresses_deleted": addresses,
        "two_factor_deleted": factors,
        "notifications_deleted": Notification.objects.filter(recipient=user).delete()[0],
        "sessions_ended": _end_sessions(user),
    }


def _anonymise(user: User) -> None:
    user.email = ERASED_EMAIL.format(pk=user.pk)
    user.first_name = ""
    user.last_name = ""
    user.preferred_language = ""
    user.last_login = None
    user.is_active = False
    user.erased_at = timezone.now()
    user.set_unusable_password()
    user.save()


def _delete_wagtail_profile(user: User) -> None:
    from wagtail.users.models import UserProfile

    profile = UserProfile.objects.filter(user=user).first()
    if profile is None:
        return
    if profile.avatar:
        profile.avatar.delete(save=False)
    profile.delete()


def _end_sessions(user: User) -> int:
    """Delete every live session signed in as `user`. Other engines (signed cookies, cache)
    cannot be searched; there the unusable password ends them: Django checks a session's
    password hash on every request."""
    if settings.SESSION_ENGINE not in DB_SESSION_ENGINES:
        return 0
    # The configured engine's store: with cached_db, deleting through it also drops the
    # cached copy, which would otherwise keep the session alive until it expires.
    store = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    live = Session.objects.filter(expire_date__gt=timezone.now())
    for session in live.iterator(chunk_size=500):
        if session.get_decoded().get(SESSION_KEY) == str(user.pk):
            store(session_key=session.session_key).delete()
            ended += 1
    return ended
