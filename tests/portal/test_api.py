"""The REST API under /api/v1/: session and token authentication, scopes, errors, the schema."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from ninja.errors import ValidationError as NinjaValidationError

from portal import actions
from portal.api import LAST_USED_PRECISION, api
from portal.models import ApiToken, AuditEvent, OutboxEvent, Role
from portal.models.tokens import hash_secret
from tests.factories import MembershipFactory, SiteFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"


def _bearer(plaintext: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {plaintext}"}


def _issue(org, scopes=("account:read",), **kwargs):
    return actions.issue_api_token(org, "ERP export", list(scopes), by=None, **kwargs)


def _assert_401(response) -> None:
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response["WWW-Authenticate"] == 'Bearer realm="greenloop"'
    body = response.json()
    assert set(body) == {"code", "message", "field"}
    assert body["code"] == "not_authenticated"
    assert body["field"] is None


# --- /me


def test_me_with_a_session(client, org_a, org_b, admin_a):
    # given Acme's admin who is also a viewer of Globex, signed in in the browser
    MembershipFactory(user=admin_a, organisation=org_b, role=Role.VIEWER)
    client.force_login(admin_a)
    # when the browser calls /me
    response = client.get(ME)
    # then it names the user and both organisations with their roles
    assert response.status_code == 200
    assert response.json() == {
        "kind": "user",
        "user": {"id": admin_a.pk, "email": "admin@acme.example", "name": admin_a.get_full_name()},
        "token": None,
        "organisations": [
            {
                "slug": "acme",
                "name": "Acme Solar",
                "tier": "standard",
                "country": "DE",
                "role": "admin",
            },
            {
                "slug": "globex",
                "name": "Globex Power",
                "tier": "standard",
                "country": "CN",
                "role": "viewer",
            },
        ],
    }


def test_me_with_a_token(client, org_a, org_b):
    # given a token of Acme
    token, plaintext = _issue(org_a)
    # when the ERP calls /me with it
    response = client.get(ME, headers=_bearer(plaintext))
    # then the caller is the token, reaching only Acme
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "token"
    assert body["user"] is None
    assert body["token"]["name"] == "ERP export"
    assert body["token"]["prefix"] == f"glp_{token.lookup}_…"
    assert body["token"]["scopes"] == ["account:read"]
    assert body["token"]["expires_at"] is not None
    assert body["organisations"] == [
        {"slug": "acme", "name": "Acme Solar", "tier": "standard", "country": "DE", "role": None}
    ]
    # and the plaintext appears nowhere in the answer beyond what the caller sent
    assert plaintext not in response.content.decode()


def test_anonymous_me_is_401(client, db):
    _assert_401(client.get(ME))


# --- organisation detail and scopes


def test_organisation_detail_with_a_scoped_token(client, org_a):
    SiteFactory(organisation=org_a, name="Werk Hamburg", country="DE", region="DE")
    _, plaintext = _issue(org_a)
    response = client.get("/api/v1/organisations/acme", headers=_bearer(plaintext))
    assert response.status_code == 200
    body = response.json()
    assert body["slug"] == "acme"
    assert body["member_count"] == 0
    assert [s["name"] for s in body["sites"]] == ["Werk Hamburg"]


def test_token_lacking_the_scope_gets_403(client, org_a, monkeypatch):
    # given a token that holds some other scope, not account:read
    from portal import api_scopes

    monkeypatch.setitem(api_scopes.SCOPES, "orders:read", "Read orders")
    _, plaintext = _issue(org_a, scopes=["orders:read"])
    # when it asks for the organisation's profile
    response = client.get("/api/v1/organisations/acme", headers=_bearer(plaintext))
    # then it is refused with a machine code saying why
    assert response.status_code == 403
    assert response.json() == {
        "code": "insufficient_scope",
        "message": "This token lacks the 'account:read' scope.",
        "field": None,
    }


def test_unknown_organisation_is_404_json(client, org_a):
    _, plaintext = _issue(org_a)
    response = client.get("/api/v1/organisations/nowhere", headers=_bearer(plaintext))
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found.", "field": None}


# --- rejected tokens


def test_revoked_token_is_401_and_audited(client, org_a, admin_a, frozen_minute):
    # given a token that the admin revoked
    token, plaintext = _issue(org_a)
    actions.revoke_api_token(token, by=admin_a)
    # when it is used
    response = client.get(ME, headers={**_bearer(plaintext), "User-Agent": "SAP/1.0"})
    # then the call is refused and the attempt is on Acme's audit trail
    _assert_401(response)
    event = AuditEvent.objects.get(action="api_token.rejected")
    assert event.organisation == org_a
    assert event.object_id == str(token.pk)
    assert event.details == {
        "reason": "revoked",
        "principal": f"token:{token.lookup}",
        "minute": "2026-03-02T10:10Z",
    }
    assert event.ip_address == "127.0.0.1"
    assert event.user_agent == "SAP/1.0"
    assert event.actor is None


def test_a_token_revoked_by_its_admin_is_refused_at_once(client, org_a, admin_a):
    # given a token that has just been used (so its process keeps it for a few seconds)
    token, plaintext = _issue(org_a)
    assert client.get(ME, headers=_bearer(plaintext)).status_code == 200
    # when the admin revokes it
    actions.revoke_api_token(token, by=admin_a)
    # then the very next call is refused
    _assert_401(client.get(ME, headers=_bearer(plaintext)))


def test_a_token_revoked_in_another_process_is_refused_within_five_seconds(
    client, org_a, monkeypatch
):
    # given a token just used here, at second 100 of this process's clock
    clock = {"now": 100.0}
    monkeypatch.setattr("portal.api._clock", lambda: clock["now"])
    token, plaintext = _issue(org_a)
    assert client.get(ME, headers=_bearer(plaintext)).status_code == 200
    # when another process revokes it (a database write this process hears nothing about)
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    # then this process may answer from its copy for under 5 seconds
    clock["now"] = 104.9
    assert client.get(ME, headers=_bearer(plaintext)).status_code == 200
    # and refuses it from 5 seconds on
    clock["now"] = 105.0
    _assert_401(client.get(ME, headers=_bearer(plaintext)))


def test_a_token_used_again_within_seconds_is_not_read_again(client, org_a):
    # given a token used once
    _token, plaintext = _issue(org_a)
    assert client.get(ME, headers=_bearer(plaintext)).status_code == 200
    # when it is used again at once
    with CaptureQueriesContext(connection) as queries:
        response = client.get(ME, headers=_bearer(plaintext))
    # then it answers without reading the token table
    assert response.status_code == 200
    assert [q["sql"] for q in queries if 'FROM "portal_apitoken"' in q["sql"]] == []


def test_expired_token_is_401_and_audited(client, org_a, frozen_minute):
    token, plaintext = _issue(org_a)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    _assert_401(client.get(ME, headers=_bearer(plaintext)))
    assert AuditEvent.objects.get(action="api_token.rejected").details == {
        "reason": "expired",
        "principal": f"token:{token.lookup}",
        "minute": "2026-03-02T10:10Z",
    }


def test_token_with_a_wrong_secret_is_401_and_audited(client, org_a, frozen_minute):
    # given someone who knows a token's public prefix but not its secret
    token, plaintext = _issue(org_a)
    forged = f"glp_{token.lookup}_{'x' * 43}"
    assert forged != plaintext
    # when they call the API with it
    _assert_401(client.get(ME, headers=_bearer(forged)))
    # then the attempt is recorded against the token, and the forged secret is not stored
    event = AuditEvent.objects.get(action="api_token.rejected")
    assert event.details == {
        "reason": "wrong_secret",
        "principal": f"token:{token.lookup}",
        "minute": "2026-03-02T10:10Z",
    }
    assert forged not in json.dumps(list(AuditEvent.objects.values()), default=str)


def test_token_of_an_inactive_organisation_is_401(client, org_a):
    _, plaintext = _issue(org_a)
    org_a.is_active = False
    org_a.save(update_fields=["is_active"])
    _assert_401(client.get(ME, headers=_bearer(plaintext)))


@pytest.mark.parametrize(
    ("header", "recorded"),
    [
        ("Bearer nonsense", ["malformed"]),
        ("Bearer glp_unknown_secret", ["unknown"]),
        # not a bearer token at all: no token was offered
        ("Token abc", []),
    ],
)
def test_garbage_credentials_are_401_and_audited_as_unknown(client, db, header, recorded):
    _assert_401(client.get(ME, headers={"Authorization": header}))
    assert [
        e.details["reason"] for e in AuditEvent.objects.filter(action="api_token.unknown")
    ] == recorded
    assert AuditEvent.objects.count() == len(recorded)


# --- bookkeeping


def test_last_used_is_recorded_at_most_once_a_minute(client, org_a, monkeypatch):
    # given a fresh token
    token, plaintext = _issue(org_a)
    assert token.last_used_at is None
    # when it is used
    client.get(ME, headers=_bearer(plaintext))
    # then its last use is recorded
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    assert timezone.now() - first < timedelta(seconds=30)
    # and a second call within the minute does not write again
    client.get(ME, headers=_bearer(plaintext))
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    # but one after the precision window does (the minute passes: the stored time ages, and so
    # does this process's copy of the token)
    stale = timezone.now() - LAST_USED_PRECISION - timedelta(seconds=5)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=stale)
    later = time.monotonic() + LAST_USED_PRECISION.total_seconds() + 5
    monkeypatch.setattr("portal.api._clock", lambda: later)
    client.get(ME, headers=_bearer(plaintext))
    assert ApiToken.objects.get(pk=token.pk).last_used_at > stale


def test_token_is_stored_only_hashed(org_a, admin_a):
    # given a freshly issued token
    token, plaintext = actions.issue_api_token(
        org_a, "ERP export", ["account:read"], by=admin_a, expires_in_days=30
    )
    # then the database holds its hash and public lookup, never the plaintext or its secret
    stored = ApiToken.objects.get()
    assert stored.token_hash == hash_secret(plaintext)
    assert plaintext.startswith(f"glp_{stored.lookup}_")
    # (the secret itself may contain "_": cut the known prefix, do not split on the last "_")
    secret = plaintext.removeprefix(f"glp_{stored.lookup}_")
    dump = json.dumps(
        [
            list(ApiToken.objects.values()),
            list(AuditEvent.objects.values()),
            list(OutboxEvent.objects.values()),
        ],
        default=str,
    )
    assert plaintext not in dump
    assert secret not in dump
    # and the issue is audited
    event = AuditEvent.objects.get(action="api_token.issued")
    assert event.actor == admin_a
    assert event.details["scopes"] == ["account:read"]


# --- schema, docs, errors


def test_openapi_schema(client, db):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "GreenLoop API"
    assert "/api/v1/me" in schema["paths"]
    assert "/api/v1/organisations/{slug}" in schema["paths"]
    assert schema["components"]["securitySchemes"]["TokenAuth"] == {
        "type": "http",
        "scheme": "bearer",
    }
    assert {"TokenAuth": []} in schema["paths"]["/api/v1/me"]["get"]["security"]


def test_docs_page_uses_no_cdn(client, db):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode().lower()
    for marker in ("cdn", "jsdelivr", "unpkg", "cloudflare", "googleapis"):
        assert marker not in html, marker
    # Swagger UI is served from our own static files and reads our own schema
    assert '<script src="/static/ninja/swagger-ui-bundle.js">' in html
    assert '"url": "/api/v1/openapi.json"' in html


def test_validation_errors_name_the_field(db):
    # given the API's handler for request validation errors
    request = RequestFactory().post("/api/v1/anything")
    error = NinjaValidationError(
        [{"loc": ("body", "payload", "quantity"), "msg": "Input should be a valid integer"}]
    )
    # when it formats one
    response = api.on_exception(request, error)
    # then the error names the offending field
    assert response.status_code == 422
    assert json.loads(response.content) == {
        "code": "validation_error",
        "message": "payload.quantity: Input should be a valid integer",
        "field": "payload.quantity",
    }


def test_errors_from_actions_keep_their_code_and_field(db):
    from portal.exceptions import TokenError

    request = RequestFactory().get("/api/v1/anything")
    response = api.on_exception(request, TokenError("Choose at least one scope.", field="scopes"))
    assert response.status_code == 400
    assert json.loads(response.content) == {
        "code": "token_invalid",
        "message": "Choose at least one scope.",
        "field": "scopes",
    }


# --- what the framework answers, as the schema documents it


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/orders/not-a-number"),
        ("get", "/api/v1/no-such-endpoint"),
        ("post", "/api/v1/redemptions/1.5/cancel"),
    ],
)
def test_an_api_url_that_names_no_operation_is_a_json_404(client, org_a, method, path):
    # given a token (which sends no CSRF cookie)
    _, plaintext = _issue(org_a)
    # when it calls a URL under /api/v1/ that matches no operation
    response = getattr(client, method)(path, headers=_bearer(plaintext))
    # then the answer is the documented JSON error, not the portal's HTML page
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "not_found", "message": "No such endpoint.", "field": None}


def test_the_schema_documents_the_refusals_every_operation_can_give(client, db):
    # when the schema is read
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    # then every operation documents 401 and 429; those with a body also 400 and 422 (ErrorOut)
    for path_item in paths.values():
        for operation in path_item.values():
            assert {"401", "429"} <= set(operation["responses"])
            if "requestBody" in operation:
                assert {"400", "422"} <= set(operation["responses"])
    assert set(paths["/api/v1/me"]["get"]["responses"]) == {"200", "401", "429"}
    put = paths["/api/v1/organisations/{slug}/orders/{external_id}"]["put"]
    assert put["responses"]["400"]["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}
    }
