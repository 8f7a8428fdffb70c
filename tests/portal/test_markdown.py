"""The portal's Markdown (every app's posts, ideas and announcements): script never survives
rendering, whatever the writer types; @mentions link only when allowed; images load only from a
route the app names, spelt canonically.

The HTML is parsed (not searched as text) for elements, attributes and URLs that could run."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.attachments import is_route_path
from portal.markdown import Markdown, mentioned_handles, quote, render
from tests.xss_payloads import PAYLOADS, URL_ATTRIBUTES

RUNNABLE = {"script", "iframe", "frame", "svg", "object", "embed", "math", "base", "style"}


class Elements(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {name: value or "" for name, value in attrs}))

    def handle_data(self, data):
        self.text.append(data)


def scheme(value: str) -> str:
    # A browser ignores whitespace and control characters inside a scheme, and its case.
    return re.sub(r"[\x00-\x20]", "", value).lower()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_nothing_that_runs_survives_rendering(payload):
    # given a text carrying script / when it is rendered
    parsed = Elements(render(f"Before\n\n{payload}\n\nAfter"))
    # then no element that runs script, no event handler, no script URL, no image that loads
    for tag, attributes in parsed.elements:
        assert tag not in RUNNABLE | {"div", "form", "input", "link", "meta"}, tag
        assert tag != "img" or "src" not in attributes, attributes
        for name, value in attributes.items():
            assert not name.startswith("on"), (tag, name, value)
            if name in URL_ATTRIBUTES:
                named = re.match(r"([a-z][a-z0-9+.\-]*):", scheme(value))
                assert named is None or named.group(1) in {"http", "https", "mailto"}, value
    # and the words around it still show
    assert "Before" in "".join(parsed.text)
    assert "After" in "".join(parsed.text)


def test_raw_html_is_shown_as_text():
    # given raw HTML / when rendered / then it is escaped text, not markup
    assert render("<b>bold</b> & more") == "<p>&lt;b&gt;bold&lt;/b&gt; &amp; more</p>\n"


def test_links_get_rel_and_keep_web_urls():
    assert render("[site](https://example.com/a)") == (
        '<p><a href="https://example.com/a" rel="nofollow ugc noopener noreferrer">site</a></p>\n'
    )


def test_tables_keep_only_alignment_styles():
    # given a GFM table with a centred column / when rendered
    html = render("| a | b |\n|:-:|---|\n| 1 | 2 |")
    # then the alignment stays and nothing else carries a style
    assert '<th style="text-align:center">a</th>' in html
    assert "<td>2</td>" in html


def test_mentions_link_only_allowed_handles_and_only_with_a_link_rule():
    # given a Markdown that links mentions to /people/<handle>/
    md = Markdown(mention_href=lambda handle: f"/people/{handle}/")
    # when a text mentions one allowed and one unknown handle
    html = md.render("Hi @Ana and @bob", mentions=["ana"])
    # then only the allowed one links; without a link rule nothing does
    assert html == (
        '<p>Hi <a href="/people/ana/" class="mention" rel="nofollow ugc noopener noreferrer">'
        "@ana</a> and @bob</p>\n"
    )
    assert Markdown().render("Hi @ana", mentions=["ana"]) == "<p>Hi @ana</p>\n"


def test_mentioned_handles_skip_code_and_links():
    body = "@ana `@code` [@link](https://x.example) mail@host.example @Bob."
    assert mentioned_handles(body) == {"ana", "bob"}


def test_quote_attributes_the_quoted_post():
    assert quote("one\n\ntwo", "ana", 3) == "> **@ana** (#3):\n>\n> one\n>\n> two\n\n"


def test_images_load_only_where_the_app_allows():
    # given a Markdown that allows images from one path
    md = Markdown(image_src=lambda value: value == "/files/1/")
    # when two images are rendered / then only the allowed one keeps its source
    assert Elements(md.render("![a](/files/1/) ![b](/files/2/)")).elements == [
        ("p", {}),
        ("img", {"src": "/files/1/", "alt": "a"}),
        ("img", {"alt": "b"}),
    ]


# The route path check, on a portal route with an object id: /o/<slug>/tokens/<id>/revoke/.
ROUTE = "portal:revoke_token"
CANONICAL = re.compile(r"/o/[-a-zA-Z0-9_]+/tokens/(?:0|[1-9][0-9]*)/revoke/")

ESCAPES = [
    "/o/acme/tokens/1/revoke/../../../../switch/",
    "/o/acme/tokens/%2e%2e/%2e%2e/switch/",
    "/o/acme/tokens/1/revoke/..%2f..%2fswitch/",
    "/o/acme/tokens/1/revoke\\..\\..\\..\\switch/",
    "//evil.example/o/acme/tokens/1/revoke/",
    "\\\\evil.example/o/acme/tokens/1/revoke/",
    "https://evil.example/o/acme/tokens/1/revoke/",
    "HTTPS://greenloop.invalid/o/acme/tokens/1/revoke/",
    "/o/acme/tokens/1/revoke/?x=1",
    "/o/acme/tokens/1/revoke/#x",
    "/o/acme/tokens/1/revoke/\n../../switch/",
    "/o/acme/tokens/01/revoke/",
    "/o/acme/tokens/1/revoke",
    "o/acme/tokens/1/revoke/",
    "/o/acme/tokens/",
    "/switch/",
    "",
]


@pytest.mark.parametrize("url", ESCAPES)
def test_a_url_that_is_not_the_canonical_route_path_fails(url):
    assert is_route_path(url, ROUTE) is False


def test_the_canonical_route_path_passes():
    assert is_route_path("/o/acme/tokens/42/revoke/", ROUTE) is True
    # and another route's canonical path does not
    assert is_route_path("/o/acme/tokens/", ROUTE) is False


URL_PIECES = st.sampled_from(
    [
        "/", "//", "\\", ".", "..", "%2e", "%2E", "%2f", "%2F", "%5c", "%00", "%20", " ", "\t",
        "\n", "o", "O", "acme", "tokens", "TOKENS", "revoke", "1", "42", "0", "007",
        "switch", "?", "#", "=", "x=1", "http:", "HTTPS:", "javascript:",
        "evil.example", "greenloop.invalid", "@", ";", ":",
        "/o/acme/tokens/", "/revoke/", "/o/acme/tokens/1/revoke/",
    ]
)  # fmt: skip


@given(st.lists(URL_PIECES, max_size=8).map("".join))
def test_only_the_canonical_path_passes(url):
    # given any URL assembled from the pieces escapes are made of
    # then it passes exactly when it is the canonical path of one object of the route
    assert is_route_path(url, ROUTE) == bool(CANONICAL.fullmatch(url)), url


@given(st.text(max_size=40).map(lambda tail: f"/o/acme/tokens/{tail}"))
def test_any_text_after_the_prefix_passes_only_as_the_canonical_path(url):
    assert is_route_path(url, ROUTE) == bool(CANONICAL.fullmatch(url)), url
