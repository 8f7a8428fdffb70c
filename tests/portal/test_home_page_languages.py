"""The landing page in the visitor's language: Wagtail serves the translation of the home page
(the home app's migrations create the English page and its Simplified Chinese translation) for
the language LocaleMiddleware chose, from the browser or from the language menu."""

from __future__ import annotations

import pytest
from wagtail.models import Locale

from portal.home.models import HomePage

pytestmark = pytest.mark.django_db


def test_the_chinese_home_page_is_a_translation_of_the_english_one():
    english = HomePage.objects.get(slug="home")
    chinese = HomePage.objects.get(locale__language_code="zh-hans")
    assert english.locale == Locale.objects.get(language_code="en")
    assert chinese.translation_key == english.translation_key
    assert chinese.get_parent() == english.get_parent()
    assert chinese.live


def test_an_english_browser_gets_the_english_home_page(client):
    response = client.get("/", headers={"accept-language": "en"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Carbon footprint and rewards for your orders · GreenLoop</title>" in html
    assert "<h1>Your orders&#x27; carbon footprint, and rewards for greener choices</h1>" in html
    assert '<a class="btn" href="/accounts/login/">Sign in</a>' in html
    assert "<h2>What you can do here</h2>" in html
    assert "<h3>Carbon footprint per order</h3>" in html
    assert 'src="/static/portal/img/hero-product.svg"' in html
    assert "您可以在这里做什么" not in html


def test_a_chinese_browser_gets_the_chinese_home_page(client):
    response = client.get("/", headers={"accept-language": "zh-CN,zh;q=0.9"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>订单碳足迹与绿色奖励 · GreenLoop</title>" in html
    assert "<h1>查看订单的碳足迹，绿色选择赢取奖励</h1>" in html
    assert '<a class="btn" href="/accounts/login/">登录</a>' in html
    assert "<h2>您可以在这里做什么</h2>" in html
    assert "<h3>每笔订单的碳足迹</h3><p>" in html
    assert "<h3>碳积分</h3>" in html
    assert "<h3>社区与测试项目</h3>" in html
    assert 'src="/static/portal/img/hero-product.svg"' in html
    assert "What you can do here" not in html


def test_switching_language_switches_the_home_page(client):
    # given a visitor whose browser asks for English
    english = client.get("/", headers={"accept-language": "en"}).content.decode()
    assert "<h2>What you can do here</h2>" in english
    # when they choose 简体中文 in the language menu
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    # then the same address shows the Chinese page, and back again
    chinese = client.get("/", headers={"accept-language": "en"}).content.decode()
    assert "<h2>您可以在这里做什么</h2>" in chinese
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    again = client.get("/", headers={"accept-language": "en"}).content.decode()
    assert "<h2>What you can do here</h2>" in again


def test_the_hero_illustration_draws_the_product():
    from pathlib import Path

    svg = (
        Path(__file__).resolve().parent.parent.parent / "portal/static/portal/img/hero-product.svg"
    ).read_text()
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert (
        '<title id="t">GreenLoop: orders with their carbon footprint, carbon points and the '
        "community</title>"
    ) in svg
    assert "href=" not in svg  # no external asset
