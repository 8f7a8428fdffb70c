"""Images in posts load only our own attachments, however the URL is spelt (the URL check for
any route is tested in tests/portal/test_markdown.py).

A reader's browser fetches every <img src> with the reader's cookies, so an image URL that
escapes the attachment prefix (dot segments, percent escapes, backslashes, another host) would
make each reader GET any page of the portal. Only the canonical attachment path passes.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from community import actions
from community.attachments import is_attachment_src
from community.markdown import POSTS
from tests.community.conftest import settled

ESCAPES = [
    "/community/attachments/../../switch/?organisation=huadong-pv",
    "/community/attachments/1/../../../switch/",
    "/community/attachments/%2e%2e/%2e%2e/switch/",
    "/community/attachments/%2E%2E/%2E%2E/switch/",
    "/community/attachments/..%2f..%2fswitch/",
    "/community/attachments/1/..\\..\\..\\switch/",
    "/community/attachments\\..\\..\\switch/",
    "\\\\evil.example/community/attachments/1/",
    "//evil.example/community/attachments/1/",
    "https://evil.example/community/attachments/1/",
    "HTTPS://greenloop.invalid/community/attachments/1/",
    "/community/attachments/1/?organisation=huadong-pv",
    "/community/attachments/1/#x",
    "/community/attachments/1/\n../../../switch/",
    "/community/attachments/1/\t../../../switch/",
    "/community/attachments/1",
    "/community/attachments/01/",
    "/Community/Attachments/1/",
    "/community/attachments/1/%00",
    "community/attachments/1/",
    "./attachments/1/",
    "/community/attachments/",
    "/switch/",
]


class Images(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.sources: list[str | None] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources.append(dict(attrs).get("src"))


@pytest.mark.parametrize("url", ESCAPES)
def test_an_image_url_that_is_not_an_attachment_is_dropped(url):
    # given a post with an image pointing at the URL / when it is rendered
    html = POSTS.render(f"![x](<{url}>)")
    # then no image has a source, so no reader's browser fetches anything
    assert [source for source in Images(html).sources if source is not None] == []
    assert is_attachment_src(url) is False


def test_an_attachment_image_keeps_its_source():
    # given an image of attachment 42 / when rendered / then it loads that attachment
    assert Images(POSTS.render("![plan](/community/attachments/42/)")).sources == [
        "/community/attachments/42/"
    ]


@pytest.mark.django_db
def test_reading_a_post_with_an_escaping_image_switches_nobody(
    client, org_a, org_b, consultant, public_space
):
    # given someone in two organisations, working in Acme
    from portal.context_processors import CURRENT_ORG_SESSION_KEY

    client.force_login(consultant)
    client.post(reverse("portal:switch_organisation"), {"organisation": org_a.slug})
    # and a post whose image points at the switcher for Globex
    author = settled(consultant)
    topic = actions.create_topic(
        author,
        public_space,
        title="Look at this",
        body=f"![x](/community/attachments/../../switch/?organisation={org_b.slug})",
    )
    # when they read it, and their browser fetches what the page's images point at
    page = client.get(reverse("community:topic", kwargs={"topic_id": topic.pk}))
    sources = [s for s in Images(page.content.decode()).sources if s and "switch" in s]
    fetched = client.get(f"/switch/?organisation={org_b.slug}")
    # then the page points no image at the switcher, and a GET of it switches nothing
    assert page.status_code == 200
    assert sources == []
    assert fetched.status_code == 405
    assert client.session[CURRENT_ORG_SESSION_KEY] == org_a.slug
