"""Every API error is the documented JSON `{code, message, field}` (issue #10, item 4), also
where Django rather than an endpoint answers: a body over the size limit (413), a path under
/api/ that names no endpoint (404), a method an endpoint does not take (405) and an unhandled
exception (500, with production settings: DEBUG is off in tests)."""

from __future__ import annotations

import pytest
from django.test import Client

from carbon.footprint import api_estimate
from tests.api_client import api_error, token_headers
from tests.carbon.factories import published_dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def headers(org_a):
    return token_headers(org_a, ["carbon:read", "carbon:write", "account:read"])


def test_a_body_over_the_size_limit_is_413_json(client, org_a, headers, settings):
    # given a limit of 1 kB on request bodies
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = {"order_date": "2025-03-14", "lines": [], "shipments": [], "pad": "x" * 2000}
    # when a bigger body is put
    response = client.put(
        "/api/v1/organisations/acme/orders/PO-1",
        body,
        content_type="application/json",
        headers=headers,
    )
    # then it is 413 in the API's error format
    message = api_error(response, 413, "request_too_large")
    assert message == "The request body is larger than 1024 bytes."


def test_an_unknown_path_under_the_api_is_404_json(client, headers):
    for path in ("/api/v1/no-such-thing", "/api/v2/orders", "/api/"):
        api_error(client.get(path, headers=headers), 404, "not_found")


def test_a_method_an_endpoint_does_not_take_is_405_json(client, headers):
    api_error(client.delete("/api/v1/me", headers=headers), 405, "method_not_allowed")


def test_an_unhandled_exception_is_500_json(db, org_a, headers, monkeypatch):
    # given an endpoint that fails unexpectedly
    published_dataset()

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(api_estimate, "estimate_footprint", broken)
    client = Client(raise_request_exception=False)
    body = {"legs": [{"category": "road.van.diesel", "mass": "1 t", "distance": "1 km"}]}
    # when it is called
    response = client.post(
        "/api/v1/carbon/estimate", body, content_type="application/json", headers=headers
    )
    # then the answer is JSON, and says nothing about the failure
    message = api_error(response, 500, "server_error")
    assert message == "Something went wrong on our side; it has been logged."


def test_a_post_to_an_unknown_path_under_the_api_is_404_json_not_a_csrf_page(headers):
    # given an API client over HTTPS, which sends a token and no Referer or CSRF cookie
    client = Client(enforce_csrf_checks=True)
    # when it POSTs to a path that names no endpoint
    response = client.post(
        "/api/v1/no-such-thing",
        {"service": "x"},
        content_type="application/json",
        headers=headers,
        secure=True,
    )
    # then it is the API's JSON 404, not the CSRF failure page (an HTML 403)
    api_error(response, 404, "not_found")
