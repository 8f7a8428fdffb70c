"""The REST API under /api/v1/: authentication, error format, and the portal's own endpoints.

Plugins add routers with `api.add_router("/carbon/", router)` in their `api.py`; `portal.urls`
imports every app's `api` module before the URLs are built. Every endpoint scopes its queries
with `caller.organisations()` so a token never reaches another organisation's data.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import OperationalError
from django.db.models import QuerySet
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Router, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.security import HttpBearer, SessionAuth
from pydantic import field_validator, model_validator

from portal import audit, db_busy, tenancy
from portal.access import reachable_or_404
from portal.api_contract import document_common_responses
from portal.exceptions import PortalError, RateLimitedError
from portal.models import ApiToken, Membership, Organisation, User
from portal.models.tokens import TOKEN_PREFIX, hash_secret
from portal.permissions import is_vendor_staff, role_in
from portal.request_meta import client_ip
from portal.text import Text, check_text

# Recording every request's time would turn each read into a write; a minute's precision is enough.
LAST_USED_PRECISION = timedelta(minutes=1)
# A token read from the database is reused by its process for this long: a revocation (or an
# expiry date moved, or its organisation deactivated) in another process takes effect within
# it; the process that revokes forgets the token at once (`forget_token`). The secret is
# checked against the stored hash and the expiry against the clock on every request.
TOKEN_CACHE_SECONDS = 5.0
TOKEN_CACHE_SIZE = 1000
_tokens: dict[str, tuple[float, ApiToken]] = {}


def _clock() -> float:
    return time.monotonic()


def _stored_token(lookup: str) -> ApiToken | None:
    now = _clock()
    cached = _tokens.get(lookup)
    if cached is not None and now - cached[0] < TOKEN_CACHE_SECONDS:
        return cached[1]
    stored = ApiToken.objects.select_related("organisation").filter(lookup=lookup).first()
    if stored is not None:
        if len(_tokens) >= TOKEN_CACHE_SIZE:
            _tokens.clear()  # a burst of distinct tokens: start again rather than track ages
        _tokens[lookup] = (now, stored)
    return stored


def forget_token(lookup: str) -> None:
    """Read the token from the database on its next use in this process (after a revocation)."""
    _tokens.pop(lookup, None)


@receiver([post_save, post_delete], sender=ApiToken, dispatch_uid="portal.api.forget_token")
def _forget_changed_token(sender: type[ApiToken], instance: ApiToken, **kwargs: Any) -> None:
    # Every write of a token (a revocation by an admin, by erasure, in the admin) goes through
    # save(): the writing process never answers from its stale copy.
    forget_token(instance.lookup)


@dataclass
class Caller:
    """Who is calling: a signed-in user (browser session) or an organisation's API token."""

    user: User | None = None
    token: ApiToken | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    # What the operation's `Access.load` found (e.g. the organisation named in the path).
    target: Any = None
    # The request being served, so loaders can audit what the caller asked for (portal.access).
    request: HttpRequest | None = field(default=None, repr=False, compare=False)

    def organisations(self) -> QuerySet[Organisation]:
        if self.token is not None:
            if self.token.organisation_id is None:  # the vendor's integration token
                return Organisation.objects.none()
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


TOO_MANY_FAILURES = "Too many failed authentication attempts. Wait a minute, then try again."


def _refuse(request: HttpRequest, reason: str, token: ApiToken | None = None) -> None:
    """Count and audit a failed token authentication; 429 once the client address, or the known
    token it names, has failed `GREENLOOP_API_AUTH_FAILURES_PER_MINUTE` times this minute.

    Rows are aggregated (`audit.record_aggregated`): a known token's rejections once per token,
    reason and minute in its organisation's trail (so its prefix cannot flood that trail);
    unknown and malformed tokens once per client address, reason and minute (staff trail)."""
    limit = settings.GREENLOOP_API_AUTH_FAILURES_PER_MINUTE
    ip = client_ip(request) or "-"
    client_failures = audit.count_hit(f"api-auth-failed:ip:{ip}")
    if token is not None:
        failures = audit.record_aggregated(
            "api_token.rejected",
            principal=f"token:{token.lookup}",
            variant=reason,
            organisation=token.organisation,
            obj=token,
            request=request,
            details={"reason": reason},
        )
    else:
        failures = audit.record_aggregated(
            "api_token.unknown",
            principal=f"ip:{ip}",
            variant=reason,
            request=request,
            details={"reason": reason},
        )
    if client_failures > limit or failures > limit:
        raise RateLimitedError(TOO_MANY_FAILURES)


PathParams = dict[str, Any]


@dataclass(frozen=True)
class Access:
    """What an operation requires of its caller before its parameters and body are read.

    django-ninja runs the authentication callables before it parses anything else, so checking
    here means an invalid body never answers before the caller is authorised: a missing scope
    is 403 and a tenant the caller does not reach is 404, whatever the body (a 422 would tell
    a stranger that the organisation exists and what its endpoint expects). `load(caller,
    path_params)` finds the object the path names, raising Http404 when the caller does not
    reach it and ApiError(403) when they may not act on it; the view reads it from
    `caller(request).target`.
    """

    scope: str
    load: Callable[[Caller, PathParams], Any] | None = None

    def check(self, request: HttpRequest, c: Caller) -> Caller:
        c.require_scope(self.scope)
        if self.load is not None:
            params = dict(request.resolver_match.kwargs) if request.resolver_match else {}
            c.target = self.load(c, params)
        return c


def requires(scope: str, load: Callable[[Caller, PathParams], Any] | None = None) -> list:
    """The `auth=` of an operation that needs `scope` (and, with `load`, an object of the
    caller's own), checked before the body is read. Same schemes as the API's default."""
    access = Access(scope, load)
    return [TokenAuth(access), PortalSessionAuth(access)]


class TokenAuth(HttpBearer):
    def __init__(self, access: Access | None = None) -> None:
        super().__init__()
        self.access = access

    def authenticate(self, request: HttpRequest, token: str) -> Caller | None:
        ip = client_ip(request) or "-"
        if audit.hits_so_far(f"api-auth-failed:ip:{ip}") >= (
            settings.GREENLOOP_API_AUTH_FAILURES_PER_MINUTE
        ):
            # Refused before any lookup: a flooding client costs a cache read, not a query.
            audit.record_aggregated("api_token.throttled", principal=f"ip:{ip}", request=request)
            raise RateLimitedError(TOO_MANY_FAILURES)
        if not token.startswith(TOKEN_PREFIX) or token.count("_") < 2:
            _refuse(request, "malformed")
            return None
        lookup = token[len(TOKEN_PREFIX) :].split("_", 1)[0]
        stored = _stored_token(lookup)
        if stored is None:
            _refuse(request, "unknown")
            return None
        if not hmac.compare_digest(stored.token_hash, hash_secret(token)):
            _refuse(request, "wrong_secret", stored)
            return None
        if not stored.is_active or (stored.organisation and not stored.organisation.is_active):
            _refuse(request, "revoked" if stored.revoked_at else "expired", stored)
            return None
        # The rest of the request sees the token's organisation only (row-level security); an
        # integration token none (the CRM's upserts lift the scope for their own work).
        tenancy.set_scope([stored.organisation_id] if stored.organisation_id else [])
        now = timezone.now()
        if stored.last_used_at is None or now - stored.last_used_at > LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=stored.pk).update(last_used_at=now)
            stored.last_used_at = now  # the cached copy too: one write a minute, not a request
        c = Caller(token=stored, scopes=frozenset(stored.scopes), request=request)
        return self.access.check(request, c) if self.access else c


class PortalSessionAuth(SessionAuth):
    def __init__(self, access: Access | None = None) -> None:
        super().__init__()
        self.access = access

    def authenticate(self, request: HttpRequest, key: str | None) -> Caller | None:
        user = super().authenticate(request, key)
        if not user:
            return None
        c = Caller(user=user, request=request)
        return self.access.check(request, c) if self.access else c


class PortalApi(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        # The framework's own refusals (401, 400, 422) belong in every operation's document.
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return document_common_responses(schema)


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
    return request.auth  # type: ignore[attr-defined]


class Input(Schema):
    """Base of every request schema (body and query): each string in it, also inside lists and
    dicts, follows the text rule of `portal.text`, so a NUL or a lone surrogate is a 422 naming
    the field, never a database error. Loose string parameters use `portal.text.Text`."""

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, value: Any) -> Any:
        # django-ninja reads a schema's fields by attribute from whatever it is given, so a body
        # of `5` or `"x"` would pass as "every field at its default"; a request schema is a JSON
        # object or nothing.
        if not isinstance(getattr(value, "_obj", value), Mapping):  # unwrap ninja's DjangoGetter
            raise ValueError("Expected a JSON object.")
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        _check_strings(value)
        return value


def _check_strings(value: Any) -> None:
    if isinstance(value, str):
        check_text(value)
    elif isinstance(value, list | tuple | set):
        for item in value:
            _check_strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key)
            _check_strings(item)


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


@api.exception_handler(RateLimitedError)
def _rate_limited(request, exc: RateLimitedError):
    response = error_response(request, exc.status, exc.code, exc.message, exc.field)
    response["Retry-After"] = str(exc.retry_after)
    return response


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
    # A multipart part's location starts with "file" or "form", which names no field.
    if loc[:1] in (["file"], ["form"]):
        loc = loc[1:]
    field_name = ".".join(loc) or None
    message = first.get("msg", "Invalid request.").removeprefix("Value error, ")
    if field_name:
        message = f"{field_name}: {message}"
    return error_response(request, 422, "validation_error", message, field_name)


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return error_response(
        request, 413, "request_too_large", f"The request body is larger than {limit} bytes."
    )


@api.exception_handler(OperationalError)
def _database_error(request, exc: OperationalError):
    # Without this, django-ninja answers every exception itself when DEBUG is on (the demo).
    # Any other database error is Django's 500 (JSON under /api/, ApiErrorMiddleware).
    if db_busy.is_transient(exc):
        return db_busy.busy_response(request, exc)
    raise exc


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error_response(request, 404, "not_found", "Not found.")


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return error_response(request, exc.status_code, f"http_{exc.status_code}", exc.message)


@csrf_exempt
def unknown_path(request: HttpRequest, path: str = "") -> HttpResponse:
    """Any path under /api/ that names no endpoint (mounted after the API's URLs, so that it is
    a JSON 404, not the site's page or a redirect to a trailing slash). Exempt from CSRF like
    the API's own views: an API client's POST carries a token and no Referer, and would get the
    CSRF failure page (a 403, or a 500 where that HTML page cannot render) instead of the 404;
    this view reads and writes nothing."""
    return JsonResponse(
        {"code": "not_found", "message": "No such endpoint.", "field": None}, status=404
    )


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
            "organisations": [_ref(c, c.token.organisation)] if c.token.organisation else [],
        }
    user = c.user
    if user is None:
        # Authentication gives every caller a token or a person; none is a 401 like any other.
        raise AuthenticationError
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
def organisation_detail(request: HttpRequest, slug: Text):
    c = caller(request)
    c.require_scope("account:read")
    organisation = reachable_or_404(request, c.organisations().prefetch_related("sites"), slug=slug)
    return {
        **_ref(c, organisation),
        "crm_external_id": organisation.crm_external_id,
        "require_mfa": organisation.require_mfa,
        "sites": list(organisation.sites.all()),
        "member_count": Membership.objects.filter(organisation=organisation).count(),
    }


@router.get(
    "/events/schema",
    response=dict[str, Any],
    tags=["events"],
    summary="The catalogue of event types and the JSON Schema of each one's data",
)
def event_schema(request: HttpRequest):
    """Every CloudEvent type the portal publishes to the CRM bridge, with its version, subject
    pattern, description and the JSON Schema (draft 2020-12) of its `data`; an event's
    `dataschema` attribute is the `$id` of its schema here. Any authenticated caller may read it
    (any token scope, or a browser session): it describes payloads and holds no customer data,
    but it is not published to anonymous visitors."""
    from portal import event_catalogue

    return event_catalogue.document()


api.add_router("/", router)
