"""Figures and countries as people read them in each language: thousands grouped on Chinese pages
too (portal/formats/zh_Hans), country names instead of ISO codes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from portal.templatetags.portal_format import country_name


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "94,086.2 · 3,150,000 · 12,345"), ("zh-hans", "94,086.2 · 3,150,000 · 12,345")],
)
def test_thousands_are_grouped_in_every_language(language, expected):
    template = Template(
        '{% load humanize %}{{ tkm|floatformat:"1g" }} · {{ kwh|floatformat:"0g" }} · '
        "{{ points|intcomma }}"
    )
    context = Context({"tkm": Decimal("94086.2"), "kwh": Decimal("3150000"), "points": 12345})
    with translation.override(language):
        assert template.render(context) == expected


def test_ids_in_templates_are_never_grouped():
    # Grouping is asked for where figures are shown; a plain {{ id }} stays a plain number, so
    # that links such as /community/t/1024/ keep working.
    with translation.override("zh-hans"):
        assert Template("/community/t/{{ id }}/").render(Context({"id": 1024})) == (
            "/community/t/1024/"
        )


@pytest.mark.parametrize(
    ("language", "code", "expected"),
    [
        ("en", "CN", "China"),
        ("zh-hans", "CN", "中国"),
        ("en", "de", "Germany"),
        ("zh-hans", "DE", "德国"),
        ("en", "XX", "XX"),
        ("en", "", ""),
    ],
)
def test_country_codes_are_shown_as_names(language, code, expected):
    with translation.override(language):
        assert country_name(code) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "name"), [("en", "Germany"), ("zh-hans", "德国")])
def test_the_dashboard_names_the_organisation_country(client, member_a, org_a, language, name):
    # given a member of Acme (country DE)
    client.force_login(member_a)
    # when they open the dashboard
    response = client.get(
        reverse("portal:org_dashboard", kwargs={"org_slug": org_a.slug}),
        headers={"accept-language": language},
    )
    # then the country is named, not coded
    assert f'<span class="badge badge--muted">{name}</span>' in response.content.decode()
