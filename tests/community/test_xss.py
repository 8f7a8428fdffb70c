"""Script never reaches a community page: post bodies and titles carrying script, frames, event
handlers and javascript:/data: URLs are rendered, and the HTML the browser would get is parsed
(not searched as text) for elements, attributes and URLs that could run. The words themselves
still show, escaped."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from community import actions
from tests.community.conftest import settled
from tests.xss_payloads import PAYLOADS, URL_ATTRIBUTES

pytestmark = pytest.mark.django_db

TITLE = "<script>alert('title')</script> inverter & <b>bold</b>"
# Elements that run script or load another document, anywhere on a page.
RUNNABLE_ELEMENTS = {"script", "iframe", "frame", "svg", "object", "embed", "math", "base"}
BAD_SCHEMES = ("javascript:", "data:", "vbscript:")


class Page(HTMLParser):
    """The elements of a page, each marked whether it sits inside a post (<article class=post>),
    and the text inside posts."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str], bool]] = []
        self.post_text: list[str] = []
        self.all_text: list[str] = []
        self._in_post = 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        if tag == "article" and "post" in attributes.get("class", "").split():
            self._in_post += 1
        self.elements.append((tag, attributes, self._in_post > 0))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "article" and self._in_post:
            self._in_post -= 1

    def handle_data(self, data):
        self.all_text.append(data)
        if self._in_post:
            self.post_text.append(data)

    def in_posts(self) -> list[tuple[str, dict[str, str]]]:
        return [(tag, attributes) for tag, attributes, inside in self.elements if inside]

    def text(self) -> str:
        return "".join(self.post_text)


def scheme(value: str) -> str:
    """What a browser would take as the URL's scheme: it ignores whitespace and control
    characters inside it and case."""
    return re.sub(r"[\x00-\x20]", "", value).lower()


def assert_page_runs_nothing(parsed: Page) -> None:
    """Anywhere on the page: only the portal's own script file, no frames or inline SVG, no
    event-handler attribute, no javascript:/data:/vbscript: URL."""
    for tag, attributes, _inside in parsed.elements:
        if tag == "script":
            assert attributes.get("src", "").startswith("/static/"), attributes
        else:
            assert tag not in RUNNABLE_ELEMENTS, (tag, attributes)
        for name, value in attributes.items():
            assert not name.startswith("on"), (tag, name, value)
            if name in URL_ATTRIBUTES:
                assert not scheme(value).startswith(BAD_SCHEMES), (tag, name, value)


def assert_posts_run_nothing(parsed: Page) -> None:
    """Inside posts, beyond the page rules: no script at all, no style element, images only
    from our own attachments (no remote trackers, no data: images), links only to the web."""
    elements = parsed.in_posts()
    assert elements, "the page has no posts to check"
    for tag, attributes in elements:
        assert tag not in RUNNABLE_ELEMENTS | {"style", "link", "meta"}, (tag, attributes)
        if tag == "img" and "src" in attributes:
            assert attributes["src"].startswith("/community/attachments/"), attributes
        if tag == "a" and "href" in attributes:
            # A URL with a scheme must be a web or mail link; without one it is relative.
            named = re.match(r"([a-z][a-z0-9+.\-]*):", scheme(attributes["href"]))
            assert named is None or named.group(1) in {"http", "https", "mailto"}, attributes
        if tag == "form":
            assert attributes.get("action", "").startswith("/community/"), attributes


@pytest.fixture
def hostile(member_a, member_b, engineer, public_space):
    """A topic whose title and posts carry every payload, written through the real actions."""
    settled(member_a)
    settled(member_b)
    topic = actions.create_topic(member_a, public_space, title=TITLE, body="\n\n".join(PAYLOADS))
    for payload in PAYLOADS:
        actions.reply(engineer, topic, body=payload)
    actions.reply(member_b, topic, body="Everything at once:\n\n" + "\n\n".join(PAYLOADS))
    return topic


def test_topic_page_runs_no_script_from_posts(client, hostile, member_b):
    # given a topic full of hostile posts / when a reader opens it
    client.force_login(member_b)
    response = client.get(hostile.get_absolute_url())
    assert response.status_code == 200
    parsed = Page(response.content.decode())
    # then no post contains an element, attribute or URL that could run
    assert len([tag for tag, attributes in parsed.in_posts() if tag == "article"]) == (
        len(PAYLOADS) + 2
    )
    assert_posts_run_nothing(parsed)
    assert_page_runs_nothing(parsed)
    # and the text people wrote is still there, shown as text
    text = parsed.text()
    assert "<script>alert(1)</script>" in text
    assert "<img src=x onerror=alert(1)>" in text
    assert '<a href="javascript:alert(1)">raw link</a>' in text
    assert "<svg onload=alert(1)>" in text
    assert "<script>alert('in code')</script>" in text
    assert "plain" in text
    assert "mixed case" in text


def test_title_with_script_is_shown_as_text(client, hostile, member_b):
    client.force_login(member_b)
    parsed = Page(client.get(hostile.get_absolute_url()).content.decode())
    # the title appears as text in the heading and the page title, never as markup
    assert not [tag for tag, _a, _i in parsed.elements if tag == "b"]
    heading = Heading(client.get(hostile.get_absolute_url()).content.decode())
    assert TITLE in heading.h1
    assert TITLE in heading.title


class Heading(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self._current: str | None = None
        self.h1 = ""
        self.title = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag in {"h1", "title"}:
            self._current = tag

    def handle_endtag(self, tag):
        if tag == self._current:
            self._current = None

    def handle_data(self, data):
        if self._current == "h1":
            self.h1 += data
        elif self._current == "title":
            self.title += data


@pytest.mark.parametrize("view", ["history", "edit_post", "flag", "delete_post"])
def test_other_post_pages_run_no_script(client, hostile, member_a, member_b, view):
    # given the hostile opening post edited once (so its history holds the payloads too)
    opening = hostile.posts.get(number=1)
    actions.edit_post(member_a, opening, body="Cleaned up.\n\n" + PAYLOADS[0])
    reader = member_b if view == "flag" or view == "history" else member_a
    client.force_login(reader)
    # when the page about the post is opened
    response = client.get(reverse(f"community:{view}", kwargs={"post_id": opening.pk}))
    # then nothing on it could run
    assert response.status_code == 200
    parsed = Page(response.content.decode())
    assert_page_runs_nothing(parsed)
    assert "<script>alert(1)</script>" in "".join(parsed.all_text)
