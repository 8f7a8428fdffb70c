"""Markdown for what customers write (community posts, board ideas, beta announcements):
markdown-it-py renders, nh3 sanitises. One rule for every app.

Raw HTML is off in the parser (it is shown as text), and whatever the renderer produces then
passes nh3's allow-list, so no tag, event-handler attribute or `javascript:` URL that could run
script reaches a page even if the parser had a bug. What differs between apps is configuration,
not rules: a `Markdown` says where an allowed @mention links to and which image sources load
(by default none: remote images would let a writer track readers).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

MENTION = re.compile(r"(?<![\w@/.])@([a-z0-9][a-z0-9._-]{0,38}[a-z0-9]|[a-z0-9])", re.IGNORECASE)

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td", "img", "span",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "class"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
    "code": {"class"},
    "span": {"class"},
}
TABLE_ALIGNMENTS = {"text-align:left", "text-align:center", "text-align:right"}


def _parser() -> MarkdownIt:
    # "js-default" is markdown-it's safe preset (html off, linkify, typographer off) with tables
    # and strikethrough enabled as in GitHub-flavoured Markdown.
    md = MarkdownIt("js-default", {"html": False, "linkify": False, "breaks": True})
    md.enable(["table", "strikethrough"])
    return md


_md = _parser()


def no_images(value: str) -> bool:
    return False


@dataclass(frozen=True)
class Markdown:
    """One app's Markdown. `mention_href(handle)` is the link of an allowed @mention (None: no
    mention links); `image_src(value)` says whether an <img src> may load (an app passes the
    canonical-path check of its own attachment route, `portal.attachments.is_route_path`)."""

    mention_href: Callable[[str], str] | None = None
    image_src: Callable[[str], bool] = no_images

    def _attribute_filter(self, tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src" and not self.image_src(value):
            # A URL of ours that is not an attachment would make every reader's browser GET it,
            # and a remote one would tell its host who read the text.
            return None
        if attribute == "class" and tag == "a" and value != "mention":
            return None
        if attribute == "class" and tag == "code" and not value.startswith("language-"):
            return None
        if attribute == "class" and tag == "span" and value != "mention-unknown":
            return None
        if attribute == "style" and value not in TABLE_ALIGNMENTS:
            return None
        return value

    def sanitise(self, html: str) -> str:
        return nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            attribute_filter=self._attribute_filter,
            url_schemes={"http", "https", "mailto"},
            link_rel="nofollow ugc noopener noreferrer",
            strip_comments=True,
        )

    def render(self, body: str, *, mentions: Iterable[str] = ()) -> str:
        """Sanitised HTML for `body`. `mentions` are the handles that may be linked."""
        tokens = _md.parse(body)
        href = self.mention_href
        allowed = {handle.lower() for handle in mentions}
        if href is not None and allowed:
            for children, index in reversed(list(_text_children(tokens))):
                parts = _split_mentions(children[index].content, allowed, href)
                if len(parts) > 1:
                    children[index : index + 1] = parts
        return self.sanitise(_md.renderer.render(tokens, _md.options, {}))


PLAIN = Markdown()


def render(body: str) -> str:
    """Sanitised HTML for text without mentions or images (announcements, notes)."""
    return PLAIN.render(body)


def _text_children(tokens: list[Token]) -> Iterable[tuple[list[Token], int]]:
    """Inline text tokens outside links (a mention inside a link's text stays the link's)."""
    for block in tokens:
        if block.type != "inline" or not block.children:
            continue
        depth = 0
        for index, child in enumerate(block.children):
            if child.type == "link_open":
                depth += 1
            elif child.type == "link_close":
                depth -= 1
            elif child.type == "text" and depth == 0:
                yield block.children, index


def mentioned_handles(body: str) -> set[str]:
    """Handles written as @handle in the text (outside code and links), lower-cased."""
    tokens = _md.parse(body)
    found: set[str] = set()
    for children, index in _text_children(tokens):
        found.update(m.group(1).lower() for m in MENTION.finditer(children[index].content))
    return found


def _split_mentions(content: str, allowed: set[str], href: Callable[[str], str]) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    for match in MENTION.finditer(content):
        handle = match.group(1).lower()
        if handle not in allowed:
            continue
        if match.start() > position:
            tokens.append(_text(content[position : match.start()]))
        link = Token("link_open", "a", 1)
        link.attrs = {"href": href(handle), "class": "mention"}
        tokens += [link, _text(f"@{handle}"), Token("link_close", "a", -1)]
        position = match.end()
    if position < len(content):
        tokens.append(_text(content[position:]))
    return tokens


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


def quote(body: str, handle: str, number: int) -> str:
    """Markdown that quotes a post in a reply: an attribution line and the quoted text."""
    lines = body.strip().splitlines() or [""]
    quoted = "\n".join(f"> {line}" if line else ">" for line in lines)
    return f"> **@{handle}** (#{number}):\n>\n{quoted}\n\n"
