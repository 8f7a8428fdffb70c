"""Inbound from the CRM: idempotent upserts by external id, and the signed webhook that carries
the same upserts as CloudEvents (README, "CRM bridge" > "Inbound").

One registry of upsert kinds: the portal's own (`organisation`: a CRM account; `contact`: which
becomes an invitation, never an account) and the plugins' (carbon registers `product` and
`order` from its AppConfig.ready(), so that `portal` does not import it). The PUT endpoints
(`portal.crm.api`, the plugins' routers) and the webhook call the same `upsert()`.

A handler takes the key (from the URL, or from the CloudEvent's data) and the body as plain
data, validates it itself and answers `Upserted(created, body)`; every refusal is an ApiError
naming the field (422), never a database error. Handlers run with row-level security lifted:
an integration token belongs to no organisation, and writes for the one its data names.
Same data twice changes nothing: no row, no audit record, no event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.text import slugify
from ninja import Field, Schema
from ninja.security import APIKeyHeader
from pydantic import StringConstraints
from pydantic import ValidationError as PydanticValidationError
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from portal import actions, audit, tenancy
from portal.api import ApiError, Caller, Input
from portal.exceptions import InvitationError
from portal.models import CrmContact, InboundWebhook, Invitation, Membership, Organisation, Role
from portal.models.organisations import Tier
from portal.text import text_problem

CRM_WRITE = "crm:write"


@dataclass(frozen=True)
class Upserted:
    created: bool
    body: dict[str, Any]


Handler = Callable[[tuple[str, ...], dict[str, Any], HttpRequest | None], Upserted]


@dataclass(frozen=True)
class Kind:
    name: str
    # The key's parts, in URL order; a CloudEvent's data carries them under these names.
    keys: tuple[str, ...]
    handler: Handler


_kinds: dict[str, Kind] = {}
# CloudEvent type -> upsert kind.
EVENT_TYPES = {
    "crm.account.upserted": "organisation",
    "crm.contact.upserted": "contact",
    "crm.product.upserted": "product",
    "crm.order.upserted": "order",
}


def register_upsert(kind: str, handler: Handler, *, keys: tuple[str, ...]) -> None:
    """Let an app handle the CRM's upserts of `kind` (the same handler twice is harmless)."""
    _kinds[kind] = Kind(kind, keys, handler)


def upsert(
    kind: str, key: tuple[str, ...], data: Mapping[str, Any], request: HttpRequest | None = None
) -> Upserted:
    """Create or update one `kind` by `key` from `data` (the one code path of the PUT
    endpoints and the webhook)."""
    found = _kinds.get(kind)
    if found is None:
        raise ApiError(422, "unknown_kind", f"Nothing handles CRM {kind}s here.", "type")
    with tenancy.all_organisations():
        return found.handler(key, dict(data), request)


def require_integration(c: Caller, params: Mapping[str, Any]) -> None:
    """The `load` of every inbound operation: only the vendor's integration token (no
    organisation) may push CRM data; a customer's token or a person is refused (403)."""
    if c.token is None or c.token.organisation_id is not None:
        raise ApiError(
            403,
            "integration_only",
            "Only the vendor's integration token may push CRM data.",
        )


S = TypeVar("S", bound=Schema)


def validated(schema: type[S], data: Mapping[str, Any], prefix: str = "payload") -> S:
    """`data` read by `schema`; the first problem is a 422 naming the field as the API does."""
    try:
        return schema.model_validate(data)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        field = ".".join([prefix, *(str(part) for part in first["loc"])])
        message = first["msg"].removeprefix("Value error, ")
        raise ApiError(422, "validation_error", f"{field}: {message}", field) from exc


def key_text(value: str, field: str, max_length: int = 100) -> str:
    """A key from the URL or the data: storable text of at most `max_length` characters."""
    problem = text_problem(value) if isinstance(value, str) else "must be a string"
    if not problem and not value.strip():
        problem = "must not be empty"
    if not problem and len(value) > max_length:
        problem = f"at most {max_length} characters"
    if problem:
        raise ApiError(422, "validation_error", f"{field}: {problem}", field)
    return value


def organisation_by_external_id(external_id: str, field: str) -> Organisation:
    organisation = Organisation.objects.filter(crm_external_id=external_id).first()
    if organisation is None:
        raise ApiError(
            422,
            "unknown_organisation",
            f"{field}: no organisation has the CRM id '{external_id}'; push the account first.",
            field,
        )
    return organisation


# --- organisations (CRM accounts)

Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class OrganisationIn(Input):
    name: str = Field(..., min_length=1, max_length=200, examples=["Acme Solar GmbH"])
    country: str = Field(
        ..., pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2", examples=["DE"]
    )
    tier: Tier = Tier.STANDARD
    region: str = Field("", max_length=50, description="Sales region", examples=["EMEA"])
    owner: str = Field("", max_length=200, description="The account manager", examples=["Mei"])
    contract_value: Decimal | None = Field(
        None, ge=0, max_digits=16, decimal_places=2, examples=["125000.00"]
    )
    contract_currency: Currency | None = Field(None, examples=["EUR"])


class OrganisationUpsertOut(Schema):
    external_id: str
    slug: str
    name: str
    country: str
    tier: str
    region: str
    owner: str
    contract_value: str | None
    contract_currency: str
    created: bool


def _organisation_fields(data: OrganisationIn) -> dict[str, Any]:
    return {
        "name": data.name.strip(),
        "country": data.country,
        "tier": data.tier.value,
        "region": data.region.strip(),
        "account_owner": data.owner.strip(),
        "contract_value": data.contract_value,
        "contract_currency": data.contract_currency or "",
    }


def _free_slug(name: str) -> str:
    base = (slugify(name) or "organisation")[:70].strip("-") or "organisation"
    slug, n = base, 1
    while Organisation.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _organisation_out(organisation: Organisation, created: bool) -> dict[str, Any]:
    value = organisation.contract_value
    return {
        "external_id": organisation.crm_external_id,
        "slug": organisation.slug,
        "name": organisation.name,
        "country": organisation.country,
        "tier": organisation.tier,
        "region": organisation.region,
        "owner": organisation.account_owner,
        "contract_value": None if value is None else f"{Decimal(value):.2f}",
        "contract_currency": organisation.contract_currency,
        "created": created,
    }


def upsert_organisation(
    key: tuple[str, ...], raw: dict[str, Any], request: HttpRequest | None
) -> Upserted:
    (external_id,) = key
    key_text(external_id, "external_id")
    data = validated(OrganisationIn, raw)
    if data.contract_value is not None and not data.contract_currency:
        raise ApiError(
            422,
            "validation_error",
            "payload.contract_currency: required with a contract value",
            "payload.contract_currency",
        )
    fields = _organisation_fields(data)
    try:
        return _write_organisation(external_id, fields, request)
    except IntegrityError:
        # Two pushes of a new account at once: the other created it; this one updates it.
        return _write_organisation(external_id, fields, request)


def _write_organisation(
    external_id: str, fields: dict[str, Any], request: HttpRequest | None
) -> Upserted:
    with transaction.atomic():
        organisation = (
            Organisation.objects.select_for_update().filter(crm_external_id=external_id).first()
        )
        if organisation is None:
            organisation = Organisation.objects.create(
                crm_external_id=external_id, slug=_free_slug(fields["name"]), **fields
            )
            audit.record(
                "crm.organisation_created",
                organisation=organisation,
                obj=organisation,
                request=request,
                details={"external_id": external_id, **audit_values(fields)},
            )
            return Upserted(True, _organisation_out(organisation, True))
        changed = save_changes(organisation, fields)
        if changed:
            audit.record(
                "crm.organisation_updated",
                organisation=organisation,
                obj=organisation,
                request=request,
                details={"external_id": external_id, **audit_values(changed)},
            )
    return Upserted(False, _organisation_out(organisation, False))


def save_changes(obj: Any, fields: Mapping[str, Any]) -> dict[str, Any]:
    """Set on `obj` the `fields` whose value differs and save only those; returns what changed
    (empty: nothing was written, so a repeated push leaves no trace)."""
    changed = {name: value for name, value in fields.items() if getattr(obj, name) != value}
    if changed:
        for name, value in changed.items():
            setattr(obj, name, value)
        obj.save(update_fields=list(changed))
    return changed


def audit_values(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Upserted values as an audit record keeps them: decimals as text."""
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in fields.items()}


# --- contacts (invitations, never accounts)


class ContactIn(Input):
    organisation_external_id: str = Field(..., min_length=1, max_length=100)
    email: str = Field(..., max_length=254, examples=["li.wei@acme.example"])
    role: Role = Role.MEMBER


class ContactUpsertOut(Schema):
    external_id: str
    organisation_external_id: str
    email: str
    role: str
    invitation_id: int | None
    invitation_status: str | None = Field(
        None, description="pending, accepted, revoked or expired; null when none was sent"
    )
    member: bool = Field(..., description="The address is already a member")
    created: bool


def _valid_email(email: str) -> str:
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ApiError(
            422, "validation_error", "payload.email: not an e-mail address", "payload.email"
        ) from exc
    return email


def upsert_contact(
    key: tuple[str, ...], raw: dict[str, Any], request: HttpRequest | None
) -> Upserted:
    """A contact becomes an invitation to its organisation, sent once: the same contact again
    sends nothing; a changed address or organisation withdraws the pending invitation and
    invites the new one; a changed role changes the pending invitation's role (an accepted one
    is history: the member's role is the organisation's admins' to change). The person decides
    whether to accept; no account is ever created."""
    (external_id,) = key
    key_text(external_id, "external_id")
    data = validated(ContactIn, raw)
    email = _valid_email(data.email)
    organisation = organisation_by_external_id(
        data.organisation_external_id, "payload.organisation_external_id"
    )
    with transaction.atomic():
        contact = CrmContact.objects.select_for_update().filter(external_id=external_id).first()
        created = contact is None
        if contact is None:
            contact = CrmContact(external_id=external_id)
        moved = created or (contact.organisation_id, contact.email) != (organisation.pk, email)
        if not moved and contact.role == data.role.value:
            return Upserted(False, _contact_out(contact, data.organisation_external_id, False))
        pending = contact.invitation
        if pending is not None and pending.status != "pending":
            pending = None
        crm = {"source": "crm", "contact": external_id}
        # An invitation accepted meanwhile is history and stays as it is (InvitationError).
        if moved and pending is not None:
            with suppress(InvitationError):
                actions.withdraw_invitation(pending, by=None, request=request, details=crm)
        contact.organisation = organisation
        contact.email = email
        contact.role = data.role.value
        if moved:
            contact.invitation = _invite(organisation, email, data.role.value, external_id, request)
        elif pending is not None:
            with suppress(InvitationError):
                actions.change_invitation_role(
                    pending, data.role.value, by=None, request=request, details=crm
                )
            pending.refresh_from_db()
        contact.save()
        audit.record(
            "crm.contact_created" if created else "crm.contact_updated",
            organisation=organisation,
            obj=contact,
            request=request,
            details={
                "external_id": external_id,
                "invitation": contact.invitation_id,
                "role": contact.role,
            },
        )
    return Upserted(created, _contact_out(contact, data.organisation_external_id, created))


def _invite(
    organisation: Organisation, email: str, role: str, external_id: str, request
) -> Invitation | None:
    """The open invitation of `email` to `organisation`, sent now unless one is open already;
    None when the address is a member (nothing to invite to)."""
    if Membership.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        return None
    open_one = Invitation.objects.pending().filter(organisation=organisation, email=email).first()
    if open_one is not None:
        return open_one
    try:
        return actions.send_invitation(
            organisation,
            email,
            role,
            by=None,
            request=request,
            details={"source": "crm", "contact": external_id},
        )
    except InvitationError as exc:
        raise ApiError(409, exc.code, exc.message, f"payload.{exc.field or 'email'}") from exc


def _contact_out(contact: CrmContact, organisation_external_id: str, created: bool) -> dict:
    invitation = contact.invitation
    return {
        "external_id": contact.external_id,
        "organisation_external_id": organisation_external_id,
        "email": contact.email,
        "role": contact.role,
        "invitation_id": invitation.pk if invitation else None,
        "invitation_status": invitation.status if invitation else None,
        "member": Membership.objects.filter(
            organisation_id=contact.organisation_id, user__email__iexact=contact.email
        ).exists(),
        "created": created,
    }


register_upsert("organisation", upsert_organisation, keys=("external_id",))
register_upsert("contact", upsert_contact, keys=("external_id",))


# --- the signed webhook


class CloudEventIn(Input):
    """A CloudEvent 1.0 in structured mode, as the CRM sends it."""

    specversion: str = Field(..., examples=["1.0"])
    id: str = Field(..., description="Equals the webhook-id header", examples=["evt_01"])
    source: str = Field(..., examples=["crm://acme-crm"])
    type: str = Field(..., description=", ".join(sorted(EVENT_TYPES)))
    data: dict[str, Any] = Field(
        ...,
        description="The body of the matching PUT, plus its key: `external_id` (accounts, "
        "contacts), `sku` (products), `organisation_external_id` and `external_id` (orders)",
    )


class WebhookOut(Schema):
    id: str
    type: str
    created: bool
    result: dict[str, Any]


class WebhookAuth(APIKeyHeader):
    """The webhook's authentication: a Standard Webhooks signature with
    `GREENLOOP_CRM_INBOUND_SECRET` (headers webhook-id, webhook-timestamp, webhook-signature),
    checked before the body is read. No signature headers at all is a plain 401 like any
    unauthenticated call; a wrong one says what was wrong."""

    param_name = "webhook-signature"
    # What `portal.api.requires` gives every other write: the caller is settled (here, by the
    # signature over the raw bytes) before the body is parsed (tests/portal/test_api_input_rules).
    access = "standard-webhooks-signature"

    def authenticate(self, request: HttpRequest, key: str | None) -> str | None:
        names = ("webhook-id", "webhook-timestamp", "webhook-signature")
        if not any(request.headers.get(name) for name in names):
            return None
        secret = settings.GREENLOOP_CRM_INBOUND_SECRET
        if not secret:
            raise ApiError(
                503, "webhook_not_configured", "The inbound CRM webhook has no secret set."
            )
        try:
            Webhook(secret).verify(
                request.body,
                {name: request.headers.get(name, "") for name in names},
                json_parse=False,
            )
        except (WebhookVerificationError, ValueError) as exc:
            reason = str(exc)
            if "too old" in reason:
                raise ApiError(
                    401,
                    "webhook_timestamp_too_old",
                    "webhook-timestamp is more than 5 minutes old.",
                    "webhook-timestamp",
                ) from exc
            if "too new" in reason:
                raise ApiError(
                    401,
                    "webhook_timestamp_too_new",
                    "webhook-timestamp is more than 5 minutes in the future.",
                    "webhook-timestamp",
                ) from exc
            raise ApiError(
                401,
                "invalid_signature",
                "The webhook-signature does not match the body with the shared secret.",
                "webhook-signature",
            ) from exc
        return request.headers["webhook-id"]


def receive(webhook_id: str, event: CloudEventIn, request: HttpRequest | None = None) -> dict:
    """Run a verified CloudEvent's upsert once: its id is stored with the change, so a replay
    (the same webhook-id again, even re-signed) is refused with 409 and changes nothing; a
    refused event stores nothing, so the CRM may send it again once corrected."""
    if event.id != webhook_id:
        raise ApiError(422, "validation_error", "id: must equal the webhook-id header", "id")
    kind_name = EVENT_TYPES.get(event.type)
    if kind_name is None or kind_name not in _kinds:
        raise ApiError(
            422,
            "unknown_event_type",
            f"type: one of {', '.join(sorted(EVENT_TYPES))}",
            "type",
        )
    kind = _kinds[kind_name]
    data = dict(event.data)
    key = tuple(key_text(data.pop(part, ""), f"data.{part}") for part in kind.keys)
    try:
        with transaction.atomic():
            with tenancy.all_organisations():
                InboundWebhook.objects.create(webhook_id=webhook_id[:200], event_type=event.type)
            result = _as_data_fields(lambda: upsert(kind_name, key, data, request))
    except IntegrityError as exc:
        if InboundWebhook.objects.filter(webhook_id=webhook_id[:200]).exists():
            raise ApiError(
                409, "webhook_replayed", "This webhook-id was received before.", "webhook-id"
            ) from exc
        raise
    return {"id": event.id, "type": event.type, "created": result.created, "result": result.body}


def _as_data_fields(run: Callable[[], Upserted]) -> Upserted:
    # The handlers name body fields `payload.x` as the PUT endpoints do; here they are `data.x`.
    try:
        return run()
    except ApiError as exc:
        if exc.field and exc.field.startswith("payload."):
            field = "data." + exc.field.removeprefix("payload.")
            message = str(exc.message).replace(exc.field, field, 1)
            raise ApiError(exc.status_code, exc.code, message, field) from exc
        raise


def purge_inbound_webhook_ids(hours: float | None = None) -> int:
    """Delete the ids of inbound webhooks accepted more than `hours` (default: the retention
    setting) ago; a replay that old is refused by its timestamp. Returns how many went."""
    if hours is None:
        hours = settings.GREENLOOP_RETENTION["inbound_webhook_hours"]
    cutoff = timezone.now() - dt.timedelta(hours=hours)
    deleted, _by_model = InboundWebhook.objects.filter(received_at__lt=cutoff).delete()
    return deleted
