"""State changes of the portal domain: invitations, memberships, API tokens.

Each action checks permission, changes rows in one transaction, records the audit event and
publishes its domain event in that same transaction.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal import audit, tasks
from portal.api_scopes import validate_scopes
from portal.events import publish
from portal.exceptions import InvitationError, MembershipError, PermissionDeniedError, TokenError
from portal.models import ApiToken, Invitation, Membership, Organisation, Role, User
from portal.models.tokens import new_token_parts
from portal.permissions import Perm, forget_cached_roles, has_perm


def _require(user, perm: str, obj) -> None:
    if not has_perm(user, perm, obj):
        raise PermissionDeniedError(_("You do not have permission to do that."))


def invite_member(
    organisation: Organisation,
    email: str,
    role: str,
    *,
    by: User,
    request: HttpRequest | None = None,
) -> Invitation:
    """Invite an address and e-mail the link. At most one open invitation per address."""
    _require(by, Perm.ORG_MANAGE_MEMBERS, organisation)
    return send_invitation(organisation, email, role, by=by, request=request)


def send_invitation(
    organisation: Organisation,
    email: str,
    role: str,
    *,
    by: User | None,
    request: HttpRequest | None = None,
    details: dict | None = None,
) -> Invitation:
    """`invite_member` once permission is settled; `by=None` is the CRM's push of a contact
    (portal.crm.inbound), audited with `details` saying so."""
    email = email.strip().lower()
    if role not in Role.values:
        raise InvitationError(_("Unknown role."), field="role")
    if Membership.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        raise InvitationError(
            _("%(email)s is already a member of %(org)s.") % {"email": email, "org": organisation},
            field="email",
        )
    try:
        with transaction.atomic():
            # An expired invitation still counts as open for the uniqueness constraint; close it,
            # or the address could never be invited again (its page tells them to ask for one).
            Invitation.objects.filter(
                organisation=organisation,
                email__iexact=email,
                accepted_at__isnull=True,
                revoked_at__isnull=True,
                expires_at__lte=timezone.now(),
            ).update(revoked_at=timezone.now())
            invitation = Invitation.objects.create(
                organisation=organisation, email=email, role=role, invited_by=by
            )
            audit.record(
                "invitation.sent",
                actor=by,
                organisation=organisation,
                obj=invitation,
                request=request,
                details={"email": email, "role": role, **(details or {})},
            )
            publish(
                "greenloop.account.member_invited",
                organisation,
                f"invitations/{invitation.pk}",
                {"invitation_id": invitation.pk, "role": role},
            )
    except IntegrityError as exc:
        raise InvitationError(
            _("%(email)s already has an open invitation.") % {"email": email}, field="email"
        ) from exc
    path = reverse("portal:invitation", kwargs={"key": invitation.key})
    accept_url = (
        request.build_absolute_uri(path) if request else settings.WAGTAILADMIN_BASE_URL + path
    )
    language = translation.get_language() or settings.LANGUAGE_CODE
    transaction.on_commit(
        lambda: tasks.send_invitation_email.delay(invitation.pk, accept_url, language)
    )
    return invitation


def revoke_invitation(invitation: Invitation, *, by: User, request: HttpRequest | None = None):
    _require(by, Perm.ORG_MANAGE_MEMBERS, invitation.organisation)
    withdraw_invitation(invitation, by=by, request=request)


def withdraw_invitation(
    invitation: Invitation,
    *,
    by: User | None,
    request: HttpRequest | None = None,
    details: dict | None = None,
) -> None:
    """`revoke_invitation` once permission is settled; `by=None` is the CRM's push of a contact
    whose address or organisation changed (portal.crm.inbound), audited with `details`."""
    with transaction.atomic():
        # Checked under the row lock: an acceptance at the same moment is history, kept.
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.status != "pending":
            raise InvitationError(_("Only pending invitations can be revoked."))
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit.record(
            "invitation.revoked",
            actor=by,
            organisation=invitation.organisation,
            obj=invitation,
            request=request,
            details=details or {},
        )


def change_invitation_role(
    invitation: Invitation,
    role: str,
    *,
    by: User | None,
    request: HttpRequest | None = None,
    details: dict | None = None,
) -> bool:
    """Give a pending invitation another role (the CRM changed its contact's role, `by=None`):
    the person joins with it when they accept. An accepted, withdrawn or expired invitation is
    history and never changes (InvitationError). Returns whether anything changed."""
    if role not in Role.values:
        raise InvitationError(_("Unknown role."), field="role")
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.status != "pending":
            raise InvitationError(_("Only pending invitations can be changed."))
        if invitation.role == role:
            return False
        previous = invitation.role
        invitation.role = role
        invitation.save(update_fields=["role"])
        audit.record(
            "invitation.role_changed",
            actor=by,
            organisation=invitation.organisation,
            obj=invitation,
            request=request,
            details={"from": previous, "to": role, **(details or {})},
        )
    return True


def check_invitation(key: str, *, lock: bool = False) -> Invitation:
    """The invitation behind a link, or a clear refusal saying why it cannot be used.

    With `lock=True` (inside a transaction) the row is locked before it is checked, so a
    concurrent acceptance is seen as "already used".
    """
    invitations = Invitation.objects.select_related("organisation")
    if lock:
        invitations = invitations.select_for_update(of=("self",))
    invitation = invitations.filter(key=key).first()
    if invitation is None:
        raise InvitationError(_("This invitation link is not valid."), code="invitation_unknown")
    if invitation.accepted_at:
        raise InvitationError(_("This invitation has already been used."), code="invitation_used")
    if invitation.revoked_at:
        raise InvitationError(_("This invitation was withdrawn."), code="invitation_revoked")
    if invitation.is_expired:
        raise InvitationError(
            _("This invitation expired on %(date)s. Ask your administrator for a new one.")
            % {"date": invitation.expires_at.date().isoformat()},
            code="invitation_expired",
        )
    return invitation


def accept_invitation(key: str, user: User, *, request: HttpRequest | None = None) -> Membership:
    """Join the organisation. The signed-in address must be the invited one."""
    invitation = check_invitation(key)
    if user.email.lower() != invitation.email.lower():
        # Recorded outside the transaction below, which the refusal would roll back.
        audit.record(
            "invitation.refused_foreign",
            actor=user,
            organisation=invitation.organisation,
            obj=invitation,
            request=request,
        )
        raise InvitationError(
            _(
                "This invitation was sent to a different e-mail address. Sign out and "
                "sign in as the invited person to accept it."
            ),
            code="invitation_foreign",
        )
    with transaction.atomic():
        # Check again under a row lock so that two concurrent accepts cannot both succeed.
        invitation = check_invitation(key, lock=True)
        membership, created = Membership.objects.get_or_create(
            user=user, organisation=invitation.organisation, defaults={"role": invitation.role}
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        audit.record(
            "invitation.accepted",
            actor=user,
            organisation=invitation.organisation,
            obj=invitation,
            request=request,
            details={"role": membership.role, "new_member": created},
        )
        if created:
            publish(
                "greenloop.account.member_joined",
                invitation.organisation,
                f"users/{user.pk}",
                {"user_id": user.pk, "role": membership.role},
            )
    forget_cached_roles(user)
    return membership


def _admin_count(organisation: Organisation) -> int:
    return Membership.objects.filter(organisation=organisation, role=Role.ADMIN).count()


def change_role(
    membership: Membership, role: str, *, by: User, request: HttpRequest | None = None
) -> Membership:
    _require(by, Perm.ORG_MANAGE_MEMBERS, membership.organisation)
    if role not in Role.values:
        raise MembershipError(_("Unknown role."), field="role")
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        old = membership.role
        if old == role:
            return membership
        if old == Role.ADMIN and _admin_count(membership.organisation) <= 1:
            raise MembershipError(
                _("An organisation needs at least one admin."), field="role", code="last_admin"
            )
        membership.role = role
        membership.save(update_fields=["role"])
        audit.record(
            "membership.role_changed",
            actor=by,
            organisation=membership.organisation,
            obj=membership,
            request=request,
            details={"user": membership.user.email, "from": old, "to": role},
        )
        publish(
            "greenloop.account.member_role_changed",
            membership.organisation,
            f"users/{membership.user_id}",
            {"user_id": membership.user_id, "from": old, "to": role},
        )
    forget_cached_roles(membership.user)
    return membership


def remove_member(membership: Membership, *, by: User, request: HttpRequest | None = None) -> None:
    """An admin removes a colleague, or a member leaves (by == membership.user)."""
    leaving = by.pk == membership.user_id
    if not leaving:
        _require(by, Perm.ORG_MANAGE_MEMBERS, membership.organisation)
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.role == Role.ADMIN and _admin_count(membership.organisation) <= 1:
            raise MembershipError(
                _("The last admin cannot leave; make someone else admin first."),
                code="last_admin",
            )
        organisation = membership.organisation
        user = membership.user
        membership.delete()
        audit.record(
            "membership.left" if leaving else "membership.removed",
            actor=by,
            organisation=organisation,
            obj=user,
            request=request,
            details={"user": user.email},
        )
        publish(
            "greenloop.account.member_removed",
            organisation,
            f"users/{user.pk}",
            {"user_id": user.pk, "left": leaving, "erased": False},
        )
    forget_cached_roles(user)


def issue_api_token(
    organisation: Organisation | None,
    name: str,
    scopes: list[str],
    *,
    by: User | None,
    expires_in_days: int | None = 90,
    request: HttpRequest | None = None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its plaintext, which is never stored or shown again.

    `by=None` is for the management command run by an operator on the server, the only way to
    issue an integration token (`organisation=None`, integration scopes only).
    """
    if organisation is None:
        if by is not None:
            raise PermissionDeniedError(_("Integration tokens are issued on the server."))
    elif by is not None:
        _require(by, Perm.ORG_MANAGE_TOKENS, organisation)
    name = name.strip()
    if not name:
        raise TokenError(_("Give the token a name."), field="name")
    validate_scopes(scopes, integration=organisation is None)
    max_days = settings.GREENLOOP_API_TOKEN_MAX_DAYS
    if expires_in_days is not None and not 1 <= expires_in_days <= max_days:
        raise TokenError(
            _("Expiry must be between 1 and %(max)d days.") % {"max": max_days},
            field="expires_in_days",
        )
    lookup, plaintext, token_hash = new_token_parts()
    with transaction.atomic():
        token = ApiToken.objects.create(
            organisation=organisation,
            name=name,
            lookup=lookup,
            token_hash=token_hash,
            scopes=sorted(set(scopes)),
            created_by=by,
            expires_at=(
                timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
            ),
        )
        audit.record(
            "api_token.issued",
            actor=by,
            organisation=organisation,
            obj=token,
            request=request,
            details={"name": name, "scopes": token.scopes, "expires_at": str(token.expires_at)},
        )
    return token, plaintext


def revoke_api_token(token: ApiToken, *, by: User, request: HttpRequest | None = None) -> None:
    _require(by, Perm.ORG_MANAGE_TOKENS, token.organisation)
    if token.revoked_at:
        return
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(
            "api_token.revoked",
            actor=by,
            organisation=token.organisation,
            obj=token,
            request=request,
        )


def set_require_mfa(
    organisation: Organisation, required: bool, *, by: User, request: HttpRequest | None = None
) -> None:
    _require(by, Perm.ORG_EDIT_SETTINGS, organisation)
    with transaction.atomic():
        organisation.require_mfa = required
        organisation.save(update_fields=["require_mfa"])
        audit.record(
            "organisation.mfa_requirement_changed",
            actor=by,
            organisation=organisation,
            obj=organisation,
            request=request,
            details={"require_mfa": required},
        )
