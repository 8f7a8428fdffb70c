"""The method statement on the API: what the footprint calculation covers and what it does not
(`carbon.footprint.method`), in the caller's language."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from carbon.footprint.api_schemas import READ
from carbon.footprint.method import current_method_statement
from portal.api import caller
from portal.api_common import ERRORS

router = Router(tags=["carbon"])


class MethodItemOut(Schema):
    code: str
    text: str


class MethodStatementOut(Schema):
    method_version: str
    standard: str
    covered: list[MethodItemOut]
    not_covered: list[MethodItemOut]
    datasets: list[str]


@router.get(
    "/carbon/method",
    response={200: MethodStatementOut, **ERRORS},
    summary="The calculation method: what it covers and what it does not",
    description="Generated from the engine's own tables (modes, hub defaults, fuels, energy "
    "scopes, published datasets). Needs scope carbon:read.",
    operation_id="carbon_footprint_api_method",
    url_name="carbon_method",
)
def method(request: HttpRequest):
    caller(request).require_scope(READ)
    return current_method_statement().as_json()
