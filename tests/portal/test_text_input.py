"""Text that cannot be stored (a NUL, a lone surrogate) is refused as a 4xx wherever it comes
in (issue #10, item 4): page paths and query strings (400), API bodies, parameters and query
strings (422 naming the field), and the shared rule itself."""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from community import api as community_api  # noqa: F401 - registers the community scopes
from portal.text import check_text, storable, text_problem
from tests.api_client import api_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/community/?tag=%00",
        "/community/tags/%00/",
        "/community/people/a%00b/",
        "/invitations/%00/",
        "/switch/?organisation=%00",
        "/o/acme/orders/?site=1&%00=x",
    ],
)
def test_a_page_with_a_nul_in_its_path_or_query_is_400(member_a, path):
    client = Client(raise_request_exception=False)
    client.force_login(member_a)
    assert client.get(path).status_code == 400


def test_api_query_strings_with_a_nul_are_422_naming_the_parameter(client, member_a):
    client.force_login(member_a)
    response = client.get("/api/v1/community/topics", {"tag": "x\x00"})
    message = api_error(response, 422, "validation_error", "tag")
    assert message == "tag: contains a NUL character (\\0), which text cannot hold"


@given(st.text())
def test_the_rule_refuses_exactly_nul_and_lone_surrogates(text):
    unstorable = "\x00" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text)
    assert (text_problem(text) is not None) == unstorable
    assert text_problem(storable(text)) is None
    if not unstorable:
        assert check_text(text) == text == storable(text)
