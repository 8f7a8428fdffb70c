"""Helpers for tests that call the REST API: a token's headers and the error format."""

from __future__ import annotations

from portal import actions


def token_headers(org, scopes) -> dict[str, str]:
    """`Authorization` headers of a new token of `org` with `scopes`."""
    _, plaintext = actions.issue_api_token(org, "Test client", list(scopes), by=None)
    return {"Authorization": f"Bearer {plaintext}"}


def api_error(response, status: int, code: str, field: str | None = None) -> str:
    """Assert that `response` is the API's error `{code, message, field}`; return the message."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "field"}
    assert (body["code"], body["field"]) == (code, field)
    return body["message"]
