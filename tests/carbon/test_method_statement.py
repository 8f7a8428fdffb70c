"""The method statement: generated from the engine's tables, on a page, the API and reports."""

from __future__ import annotations

import pytest
from django.urls import reverse

from carbon.footprint import api as carbon_api  # noqa: F401 - registers the carbon scopes
from carbon.footprint.engine import METHOD_VERSION
from carbon.footprint.method import method_statement
from portal import actions


def test_the_statement_lists_what_is_and_is_not_covered():
    # when built for one published dataset
    statement = method_statement(["desnz-2025@1"]).as_json()
    # then the version says "aligned", not ISO 14083 in full
    assert statement["method_version"] == "greenloop-iso14083-aligned-2026.2"
    assert METHOD_VERSION == "greenloop-iso14083-aligned-2026.2"
    covered = {item["code"]: item["text"] for item in statement["covered"]}
    not_covered = {item["code"]: item["text"] for item in statement["not_covered"]}
    assert list(covered) == [
        "modes",
        "energy_scopes",
        "fuel_based",
        "distance_basis",
        "hub_operations",
        "radiative_forcing",
        "scope2",
        "data_quality",
    ]
    assert covered["modes"] == "Transport modes: Road, Rail, Sea, Air (21 transport categories)"
    assert covered["fuel_based"].endswith(
        ": Diesel (average biofuel blend), Heavy fuel oil, Aviation turbine fuel, Electricity"
    )
    assert "Warehouse, ambient" in covered["hub_operations"]
    assert list(not_covered) == [
        "modes",
        "hub_operations",
        "empty_running",
        "refrigeration",
        "hub_measured_energy",
        "distance_adjustment",
        "infrastructure",
        "tkm_allocation",
    ]
    assert not_covered["modes"] == (
        "Transport modes without a category: Inland waterway, Pipeline, Cable car"
    )
    assert not_covered["hub_operations"] == (
        "Hub operations without a published default: Airport cargo terminal"
    )
    assert statement["datasets"] == ["desnz-2025@1"]


@pytest.mark.django_db
def test_the_api_serves_the_statement_to_a_reading_token(
    client, org_a, django_assert_max_num_queries
):
    _, plaintext = actions.issue_api_token(org_a, "ERP", ["carbon:read"], by=None)
    # when asked with carbon:read / then the statement, in a bounded number of queries
    with django_assert_max_num_queries(8):
        response = client.get(
            "/api/v1/carbon/method", headers={"Authorization": f"Bearer {plaintext}"}
        )
    assert response.status_code == 200
    assert response.json()["method_version"] == "greenloop-iso14083-aligned-2026.2"
    # and without a token it is refused
    assert client.get("/api/v1/carbon/method").status_code == 401


@pytest.mark.django_db
def test_the_page_shows_the_statement_in_chinese_and_not_to_another_organisation(
    client, member_a, org_b, django_assert_max_num_queries
):
    client.force_login(member_a)
    # when a member opens her organisation's method page in Chinese
    with django_assert_max_num_queries(15):
        page = client.get(
            reverse("carbon:method_statement", kwargs={"org_slug": "acme"}),
            headers={"Accept-Language": "zh-hans"},
        )
    # then it lists what is covered and what is not, translated
    assert page.status_code == 200
    text = page.content.decode()
    assert "greenloop-iso14083-aligned-2026.2" in text
    assert "未涵盖的内容" in text
    # with Chinese list punctuation: the enumeration comma and the full-width semicolon
    assert "运输方式：公路、铁路、海运、空运" in text
    assert "柴油（平均生物燃料掺混比例）、重质燃料油、航空涡轮燃料、电力" in text
    assert "转运场站，常温；" in text
    # and another organisation's page is 404 under its slug
    other = client.get(reverse("carbon:method_statement", kwargs={"org_slug": org_b.slug}))
    assert other.status_code == 404
