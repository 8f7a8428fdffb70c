"""The inbound CRM API under /api/v1/crm/ (README, "CRM bridge" > "Inbound"): PUT by external
id for accounts and contacts (carbon adds products and orders on the same prefix), and the
signed webhook that carries any of them as a CloudEvent. All of it through
`portal.crm.inbound.upsert`, for the vendor's integration token only (scope `crm:write`)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Body, Router, Status

from portal.api import ErrorOut, requires
from portal.api_common import ERRORS
from portal.crm import inbound
from portal.crm.inbound import (
    CRM_WRITE,
    CloudEventIn,
    ContactIn,
    ContactUpsertOut,
    OrganisationIn,
    OrganisationUpsertOut,
    WebhookAuth,
    WebhookOut,
)
from portal.text import Text

# Checked before the body is read (portal.api.Access): scope, then "integration token only".
INTEGRATION_ACCESS = requires(CRM_WRITE, load=inbound.require_integration)

router = Router(tags=["crm"])

IDEMPOTENT = (
    "Idempotent by the CRM's key: the same body twice changes nothing (no row, no audit "
    "record, no event). 201 when created, 200 otherwise. Only the vendor's integration token "
    "(scope crm:write) may call it; a customer's token or a person gets 403."
)


def put_answer(kind: str, key: tuple[str, ...], payload, request: HttpRequest) -> Status:
    """Run the upsert `kind` with a PUT's body: 201 created, 200 otherwise."""
    data = payload.model_dump(mode="json", exclude_unset=True) if payload is not None else {}
    done = inbound.upsert(kind, key, data, request)
    return Status(201 if done.created else 200, done.body)


@router.put(
    "/organisations/{external_id}",
    response={200: OrganisationUpsertOut, 201: OrganisationUpsertOut, **ERRORS},
    summary="Create or update an organisation from a CRM account (by its CRM id)",
    description=IDEMPOTENT,
    openapi_extra={"requestBody": {"required": True}},
    auth=INTEGRATION_ACCESS,
)
def put_organisation(
    request: HttpRequest, external_id: Text, payload: Body[OrganisationIn | None] = None
):
    return put_answer("organisation", (external_id,), payload, request)


@router.put(
    "/contacts/{external_id}",
    response={200: ContactUpsertOut, 201: ContactUpsertOut, 409: ErrorOut, **ERRORS},
    summary="Invite a CRM contact to their organisation (by the contact's CRM id)",
    description=IDEMPOTENT + " A contact becomes an invitation, sent once; the person decides "
    "whether to accept. A changed address withdraws the pending invitation and invites the new "
    "one. No account is created.",
    openapi_extra={"requestBody": {"required": True}},
    auth=INTEGRATION_ACCESS,
)
def put_contact(request: HttpRequest, external_id: Text, payload: Body[ContactIn | None] = None):
    return put_answer("contact", (external_id,), payload, request)


@router.post(
    "/webhook",
    response={200: WebhookOut, 409: ErrorOut, 503: ErrorOut, **ERRORS},
    summary="Receive a CRM upsert as a signed CloudEvent (Standard Webhooks)",
    description=(
        "Structured-mode CloudEvent (`application/cloudevents+json`) of type "
        f"{', '.join(f'`{t}`' for t in sorted(inbound.EVENT_TYPES))}, signed as Standard "
        "Webhooks 1.0 prescribes with the shared `whsec_` secret "
        "(`GREENLOOP_CRM_INBOUND_SECRET`); the event's `id` is the `webhook-id`. A bad signature, "
        "a `webhook-timestamp` more than 5 minutes old or ahead is 401; a `webhook-id` received "
        "before is 409 (a replay; nothing is done again). The data runs the same upsert as the "
        "matching PUT."
    ),
    auth=[WebhookAuth()],
)
def webhook(request: HttpRequest, event: CloudEventIn):
    return inbound.receive(request.auth, event, request)  # type: ignore[attr-defined]
