"""Keeps what the API answers and what `/api/v1/openapi.json` promises in step, for the answers
that come from the framework rather than from one endpoint: every operation can refuse missing
credentials (401), an unparseable body (400), invalid parameters (422) and a client that keeps
failing to authenticate (429), and every write can meet a database busy for a moment (503,
`portal.db_busy`). (A URL under `/api/`
that names no operation is a JSON 404 from `portal.api.unknown_path`.)
`tests/portal/test_api_fuzz.py` holds the API to this document.
"""

from __future__ import annotations

from typing import Any, TypeVar

ERROR_REF = "#/components/schemas/ErrorOut"

# The highest page number a list accepts: beyond it the row offset would overflow the
# database's integer (a 500), and no list is that long.
MAX_PAGE = 100_000

COMMON_RESPONSES: dict[int, str] = {
    400: "The request body could not be parsed (not JSON, or not the declared media type)",
    401: "Missing, invalid, expired or revoked credentials",
    422: "A parameter or a body field is invalid; `field` names it",
    429: "Too many failed authentications from this client or at this token this minute "
    "(`Retry-After` says when to try again)",
    503: "The database was busy for a moment and nothing was saved; send the request again "
    "(`Retry-After` says when)",
}


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
    }


SchemaT = TypeVar("SchemaT", bound=dict[str, Any])


def document_common_responses(schema: SchemaT) -> SchemaT:
    """Add the framework's own refusals to every operation that can give them: 401 everywhere
    (no operation is public), 400 where there is a body to parse, 422 where there is anything
    to validate. An operation's own description of a status wins."""
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            responses = operation.setdefault("responses", {})
            has_body = "requestBody" in operation
            wanted = [401, 429]
            if has_body:
                wanted.append(400)
            if has_body or operation.get("parameters"):
                wanted.append(422)
            if method.lower() != "get":
                wanted.append(503)
            for status in wanted:
                if status not in responses and str(status) not in responses:
                    responses[status] = _error_response(COMMON_RESPONSES[status])
            operation["responses"] = dict(sorted(responses.items(), key=lambda kv: int(kv[0])))
    return schema
