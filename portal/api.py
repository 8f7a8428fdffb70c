"""The REST API under /api/v1/: authentication, error format, and the portal's own endpoints.

Plugins add routers with `api.add_router("/carbon/", router)` in their `api.py`; `portal.urls`
imports every app's `api` module before the URLs are built. Every endpoint scopes its queries
with `caller.organisations()` so a token never reaches another organisation's data.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI, Router, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, SessionAuth

from portal import audit
from portal.api_contract import document_common_responses
from portal.exceptions import PortalError
from portal.models import ApiToken, Membership, Organisation, User
from portal.models.tokens import TOKEN_PREFIX, hash_secret
from portal.permissions import is_vendor_staff, role_in

# Recording every request's time would turn each read into a write; a minute's precision is enough.
LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass
class Caller:
    """Who is calling: a signed-in user (browser session) or an organisation's API token."""

    user: User | None = None
    token: ApiToken | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    def organisations(self) -> QuerySet[Organisation]:
        if self.token is not None:
            return Organisation.objects.filter(pk=self.token.organisation_id, is_active=True)
        return Organisation.objects.for_user(self.user)

    def has_scope(self, scope: str) -> bool:
        # Session users act through their roles; scopes narrow what a token may do.
        return self.token is None or scope in self.scopes

    def require_scope(self, scope: str) -> None:
        if not self.has_scope(scope):
            raise ApiError(403, "insufficient_scope", f"This token lacks the '{scope}' scope.")


class ApiError(HttpError):
    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        super().__init__(status, message)
        self.code = code
        self.field = field


def _reject(request: HttpRequest, token: ApiToken | None, reason: str) -> None:
    if token is not None:
        audit.record(
            "api_token.rejected",
            organisation=token.organisation,
            obj=token,
            request=request,
            details={"reason": reason},
        )


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Caller | None:
        if not token.startswith(TOKEN_PREFIX) or token.count("_") < 2:
            return None
        lookup = token[len(TOKEN_PREFIX) :].split("_", 1)[0]
        stored = ApiToken.objects.select_related("organisation").filter(lookup=lookup).first()
        if stored is None:
            return None
        if not hmac.compare_digest(stored.token_hash, hash_secret(token)):
            _reject(request, stored, "wrong_secret")
            return None
        if not stored.is_active or not stored.organisation.is_active:
            _reject(request, stored, "revoked" if stored.revoked_at else "expired")
            return None
        now = timezone.now()
        if stored.last_used_at is None or now - stored.last_used_at > LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=stored.pk).update(last_used_at=now)
        return Caller(token=stored, scopes=frozenset(stored.scopes))


class PortalSessionAuth(SessionAuth):
    def authenticate(self, request: HttpRequest, key: str | None) -> Caller | None:
        user = super().authenticate(request, key)
        return Caller(user=user) if user else None


class PortalApi(NinjaAPI):
    def get_openapi_schema(self, **kwargs) -> dict:
        # The framework's own refusals (401, 400, 422) belong in every operation's document.
        return document_common_responses(super().get_openapi_schema(**kwargs))


api = PortalApi(
    title="GreenLoop API",
    version="1",
    description=(
        "Customer-facing API of the GreenLoop portal. Authenticate with "
        "`Authorization: Bearer <token>` using a token issued by a customer admin. "
        "Errors are JSON objects with `code`, `message` and `field`."
    ),
    urls_namespace="api-v1",
    auth=[TokenAuth(), PortalSessionAuth()],
)


def caller(request: HttpRequest) -> Caller:
    return request.auth  # type: ignore[attr-defined,no-any-return]


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None


def error_response(
    request: HttpRequest, status: int, code: str, message: str, field: str | None = None
) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "field": field}, status=status
    )


@api.exception_handler(ApiError)
def _api_error(request, exc: ApiError):
    return error_response(request, exc.status_code, exc.code, exc.message, exc.field)


@api.exception_handler(PortalError)
def _portal_error(request, exc: PortalError):
    return error_response(request, exc.status, exc.code, exc.message, exc.field)


@api.exception_handler(AuthenticationError)
def _auth_error(request, exc):
    response = error_response(
        request,
        401,
        "not_authenticated",
        "Missing, invalid, expired or revoked credentials. Send 'Authorization: Bearer <token>'.",
    )
    response["WWW-Authenticate"] = 'Bearer realm="greenloop"'
    return response


@api.exception_handler(NinjaValidationError)
def _validation_error(request, exc: NinjaValidationError):
    first = exc.errors[0] if exc.errors else {}
    loc = [str(part) for part in first.get("loc", []) if part not in ("body", "query", "path")]
    field_name = ".".join(loc) or None
    message = first.get("msg", "Invalid request.")
    if field_name:
        message = f"{field_name}: {message}"
    return error_response(request, 422, "validation_error", message, field_name)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error_response(request, 404, "not_found", "Not found.")


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return error_response(request, exc.status_code, f"http_{exc.status_code}", exc.message)


# --- the portal's own endpoints


class UserOut(Schema):
    id: int
    email: str
    name: str


class OrganisationRef(Schema):
    slug: str
    name: str
    tier: str
    country: str
    role: str | None


class TokenOut(Schema):
    name: str
    prefix: str
    scopes: list[str]
    expires_at: datetime | None


class MeOut(Schema):
    kind: str
    user: UserOut | None
    token: TokenOut | None
    organisations: list[OrganisationRef]


class SiteOut(Schema):
    id: int
    name: str
    country: str
    region: str
    crm_external_id: str


class OrganisationOut(OrganisationRef):
    crm_external_id: str | None
    require_mfa: bool
    sites: list[SiteOut]
    member_count: int


router = Router(tags=["account"])


def _role(c: Caller, organisation: Organisation) -> str | None:
    if c.token is not None:
        return None
    return role_in(c.user, organisation) or ("vendor_staff" if is_vendor_staff(c.user) else None)


def _ref(c: Caller, organisation: Organisation) -> dict:
    return {
        "slug": organisation.slug,
        "name": organisation.name,
        "tier": organisation.tier,
        "country": organisation.country,
        "role": _role(c, organisation),
    }


@router.get("/me", response=MeOut, summary="Who is calling, and which organisations they reach")
def me(request: HttpRequest):
    c = caller(request)
    if c.token is not None:
        return {
            "kind": "token",
            "user": None,
            "token": {
                "name": c.token.name,
                "prefix": c.token.display_prefix,
                "scopes": c.token.scopes,
                "expires_at": c.token.expires_at,
            },
            "organisations": [_ref(c, c.token.organisation)],
        }
    user = c.user
    organisations = Organisation.objects.for_member(user)
    return {
        "kind": "user",
        "user": {"id": user.pk, "email": user.email, "name": user.get_full_name()},
        "token": None,
        "organisations": [_ref(c, o) for o in organisations],
    }


@router.get(
    "/organisations/{slug}",
    response={200: OrganisationOut, 404: ErrorOut, 403: ErrorOut},
    summary="An organisation's profile and sites",
)
def organisation_detail(request: HttpRequest, slug: str):
    c = caller(request)
    c.require_scope("account:read")
    organisation = c.organisations().prefetch_related("sites").filter(slug=slug).first()
    if organisation is None:
        raise Http404
    return {
        **_ref(c, organisation),
        "crm_external_id": organisation.crm_external_id,
        "require_mfa": organisation.require_mfa,
        "sites": list(organisation.sites.all()),
        "member_count": Membership.objects.filter(organisation=organisation).count(),
    }


api.add_router("/", router)
