"""Helps on the customer's carbon pages: which import columns are required and which category
codes exist (a page of their own), and a green-power form that starts from the customer's own
site and country."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from carbon.footprint.importer import COLUMN_NEEDS, KNOWN_COLUMNS
from carbon.models import GreenPowerDeclaration
from tests.factories import SiteFactory

pytestmark = pytest.mark.django_db


def url(name: str, org) -> str:
    return reverse(f"carbon:{name}", kwargs={"org_slug": org.slug})


def _cell_after(html: str, column: str) -> str:
    match = re.search(
        rf'<code class="tag">{column}</code></td><td data-label="Required\?">(.*?)</td>', html
    )
    assert match, column
    return re.sub(r"<[^>]+>", "", match.group(1))


def test_every_import_column_says_whether_it_is_required(client, org_a, member_a):
    client.force_login(member_a)
    html = client.get(url("import_orders", org_a)).content.decode()
    assert list(COLUMN_NEEDS) == KNOWN_COLUMNS
    assert _cell_after(html, "incoterm") == "Optional"
    assert _cell_after(html, "order_id") == "Required"
    assert _cell_after(html, "order_date") == "Required"
    assert _cell_after(html, "status") == "Optional"
    assert _cell_after(html, "sku") == "Required on a product line row"
    assert _cell_after(html, "mass") == "Required on a transport leg row"
    assert _cell_after(html, "category") == "Required on a transport leg row · list of codes"
    assert f'href="{url("import_categories", org_a)}"' in html


def test_the_category_page_lists_every_code_with_its_mode(client, org_a, viewer_a):
    client.force_login(viewer_a)
    response = client.get(url("import_categories", org_a))
    html = response.content.decode()
    assert response.status_code == 200
    # the 21 transport categories and the 10 hub operations, each code free to wrap before a
    # dot (the longest, hub.container_terminal.temperature_controlled, is wider than a phone)
    assert html.count("<code>") == 31
    assert '<code><span translate="no">hub<wbr>.warehouse<wbr>.ambient</span></code>' in html
    assert '<code><span translate="no">road<wbr>.hgv<wbr>.average_laden</span></code>' in html
    assert '<code><span translate="no">air<wbr>.long_haul</span></code>' in html
    assert "Freight flight, long-haul (to/from UK)" in html
    client.cookies["django_language"] = "zh-hans"
    zh = client.get(url("import_categories", org_a)).content.decode()
    assert "运输类别代码" in zh
    assert "公路" in zh


def test_the_category_page_of_another_organisation_is_404(client, org_b, member_a):
    client.force_login(member_a)
    assert client.get(url("import_categories", org_b)).status_code == 404


@pytest.mark.parametrize(
    ("name", "back", "back_label", "heading", "lead"),
    [
        (
            "import_orders",
            "/o/acme/orders/",
            "Orders",
            "Import orders",
            "Upload a CSV file with one row per transport leg. We check every row first: if "
            "anything is wrong you get the full list of problems and nothing is stored.",
        ),
        (
            "import_categories",
            "/o/acme/orders/import/",
            "Import orders",
            "Transport category codes",
            "Write one of these codes, exactly as shown, in the category column of an import "
            "file (or a leg's category in the API).",
        ),
    ],
)
def test_the_import_pages_head_links_back_above_the_heading_and_lead(
    client, org_a, member_a, name, back, back_label, heading, lead
):
    # given a member of Acme (slug "acme")
    client.force_login(member_a)
    # when the page opens
    html = client.get(url(name, org_a)).content.decode()
    # then its head is the link back, the heading and the lead, once
    head = (
        '<div class="page-head">\n  <div>\n'
        f'    <p class="muted"><a href="{back}">{back_label}</a></p>\n'
        f"    <h1>{heading}</h1>\n"
        f'    <p class="lead">{lead}</p>\n'
        "  </div>\n</div>\n<section"
    )
    assert html.count(head) == 1


def _form(client, org):
    return client.get(url("green_power", org)).context


def test_a_chinese_company_with_one_site_starts_from_that_site_and_a_gec(client, org_a, member_a):
    # given the organisation's only site, in China
    site = SiteFactory(organisation=org_a, name="苏州工厂", country="CN")
    client.force_login(member_a)
    context = _form(client, org_a)
    html = client.get(url("green_power", org_a)).content.decode()
    # then the site is chosen with no empty choice, the certificate is a GEC generated in CN
    choices = [(value.value, label) for value, label in context["form"].fields["site"].choices]
    assert choices == [(site.pk, f"苏州工厂 ({org_a.name})")]
    assert context["form"]["site"].value() == site.pk
    assert "---------" not in html
    instrument = context["formset"].forms[0]
    assert instrument["kind"].value() == "GEC"
    assert instrument["country"].value() == "CN"
    assert GreenPowerDeclaration.objects.count() == 0


@pytest.mark.parametrize(
    ("countries", "expected"),
    [(["DE"], "GO"), (["GB"], "REGO"), (["US"], "REC"), (["BR"], "I-REC"), (["CN", "CN"], "GEC")],
)
def test_the_certificate_type_follows_the_sites_country(
    client, org_a, member_a, countries, expected
):
    for i, country in enumerate(countries):
        SiteFactory(organisation=org_a, name=f"Site {i}", country=country)
    client.force_login(member_a)
    assert _form(client, org_a)["formset"].forms[0]["kind"].value() == expected


def test_with_several_sites_the_person_picks_one(client, org_a, member_a):
    SiteFactory(organisation=org_a, name="A", country="DE")
    SiteFactory(organisation=org_a, name="B", country="CN")
    client.force_login(member_a)
    html = client.get(url("green_power", org_a)).content.decode()
    # the empty choice asks for a site instead of Django's "---------"
    assert '<option value="" selected>Choose a site…</option>' in html
    assert "---------" not in html
