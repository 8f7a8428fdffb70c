"""Markdown for community posts: markdown-it-py renders, nh3 sanitises.

Raw HTML is off in the parser (it is shown as text), and whatever the renderer produces then
passes nh3's allow-list, so no tag, event-handler attribute or `javascript:` URL that could run
script reaches a page even if the parser had a bug. @mentions become links only for the handles
the caller allows (people who can see the space); other @words stay plain text.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from urllib.parse import unquote, urljoin, urlsplit

import nh3
from django.urls import Resolver404, resolve, reverse
from markdown_it import MarkdownIt
from markdown_it.token import Token

MENTION = re.compile(r"(?<![\w@/.])@([a-z0-9][a-z0-9._-]{0,38}[a-z0-9]|[a-z0-9])", re.IGNORECASE)
ATTACHMENT_ROUTE = "community:attachment"

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


def _parser() -> MarkdownIt:
    # "js-default" is markdown-it's safe preset (html off, linkify, typographer off) with tables
    # and strikethrough enabled as in GitHub-flavoured Markdown.
    md = MarkdownIt("js-default", {"html": False, "linkify": False, "breaks": True})
    md.enable(["table", "strikethrough"])
    return md


_md = _parser()


# A stand-in origin for resolving URLs the way a reader's browser would; it never leaves here.
_ORIGIN = "https://greenloop.invalid"


def is_attachment_src(value: str) -> bool:
    """True only for the canonical path of one attachment, `/community/attachments/<id>/`.

    A prefix check is not enough: `/community/attachments/../../switch/` starts with the prefix,
    and the reader's browser fetches `/switch/` with their cookies. So the URL is first resolved
    as a browser would (backslashes read as slashes, `//host`, scheme in any case, dot segments),
    then percent-decoded as the server would and resolved against the URL patterns; only the
    attachment route passes, and only when the value is already that route's canonical spelling
    (any other spelling is a place where browser and server might disagree).
    """
    if not value or any(ch.isspace() or not ch.isprintable() for ch in value):
        # Browsers drop tabs and newlines inside URLs, which would reassemble a hidden path.
        return False
    resolved = urlsplit(urljoin(f"{_ORIGIN}/community/", value.replace("\\", "/")))
    if f"{resolved.scheme}://{resolved.netloc}" != _ORIGIN or resolved.query or resolved.fragment:
        return False
    # Decoding can reveal more dot segments or slashes (%2e%2e, %2f): normalise once more.
    path = unquote(resolved.path)
    normalised = posixpath.normpath(path) + ("/" if path.endswith("/") else "")
    try:
        match = resolve(normalised)
    except Resolver404:
        return False
    if match.view_name != ATTACHMENT_ROUTE:
        return False
    return value == reverse(ATTACHMENT_ROUTE, kwargs=match.kwargs)


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src" and not is_attachment_src(value):
        # Remote images would let a poster track readers, and a URL of ours that is not an
        # attachment would make every reader's browser GET it: only our own attachments show.
        return None
    if attribute == "class" and tag == "a" and value != "mention":
        return None
    if attribute == "class" and tag == "code" and not value.startswith("language-"):
        return None
    if attribute == "class" and tag == "span" and value != "mention-unknown":
        return None
    if attribute == "style" and value not in {
        "text-align:left",
        "text-align:center",
        "text-align:right",
    }:
        return None
    return value


def sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_attribute_filter,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow ugc noopener noreferrer",
        strip_comments=True,
    )


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


def render(body: str, *, mentions: Iterable[str] = ()) -> str:
    """Sanitised HTML for a post. `mentions` are the handles that may be linked."""
    allowed = {handle.lower() for handle in mentions}
    tokens = _md.parse(body)
    for children, index in reversed(list(_text_children(tokens))):
        text = children[index]
        parts = _split_mentions(text.content, allowed)
        if len(parts) > 1:
            children[index : index + 1] = parts
    html = _md.renderer.render(tokens, _md.options, {})
    return sanitise(html)


def _split_mentions(content: str, allowed: set[str]) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    for match in MENTION.finditer(content):
        handle = match.group(1).lower()
        if handle not in allowed:
            continue
        if match.start() > position:
            tokens.append(_text(content[position : match.start()]))
        link = Token("link_open", "a", 1)
        link.attrs = {"href": f"/community/people/{handle}/", "class": "mention"}
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
