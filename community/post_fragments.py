"""The posts and the reply box of a topic page, each rendered once and kept in the cache.

A post (includes/post.html) shows its stored, sanitised text, its author's name, handle and
organisation, when it was written and edited, the post it answers, its attachments, its reaction
counts, and what the reader may do with it: react (and whether they did), accept, quote, flag,
edit and delete. Its HTML is filed under a fingerprint of exactly those values, the viewer's
language, time zone and script prefix and the templates' own source, so an edit, a reaction, a
moderator's decision, an accepted answer or a renamed author files the post under a new key and
nothing needs to be deleted; what the kept HTML holds is a function of its key alone. What is
personal is a handful of yes/no values, so most readers of a topic share its entries.

The reply box without a quoted post, a preview or a refused reply is the same for every reader
allowed to post, in one language, whatever the topic: its one topic's value, the address it posts
to, is a stand-in in the kept HTML. One entry serves every topic, so a reader who opens a topic
nobody opened lately does not render the form's widgets (a template each) again.

The CSRF token of the forms, which differs per session, is kept out the same way: the kept HTML
holds a stand-in, replaced by the request's token each time it is shown.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence

import django
from django.core.cache import cache
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template import Engine
from django.template.loader import get_template, render_to_string
from django.urls import get_script_prefix, reverse
from django.utils import timezone, translation
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from community.models import Post, Topic
from community.rows import Links

TIMEOUT = 24 * 60 * 60
POST_TEMPLATE = "community/includes/post.html"
COMPOSER_TEMPLATE = "community/includes/composer.html"
_COMPOSER_PARTS = (
    COMPOSER_TEMPLATE,
    "community/includes/preview.html",
    "portal/includes/form_fields.html",
)
# Stands in for the request's CSRF token in the kept HTML ({% csrf_token %} prints it escaped).
_CSRF = "\x00csrf\x00"
# Stands in for the topic's reply address in the kept reply box.
_REPLY_URL = "\x00reply\x00"
# The per-post actions linked from includes/post.html.
_POST_LINKS = ("history", "react", "accept", "quote", "flag", "edit_post", "delete_post")


@functools.cache
def _templates_version() -> str:
    """The kept HTML is only valid for the templates (and Django's form widgets) that rendered
    it: a deployment that changes them must not be served older entries from the shared cache."""
    engine = Engine.get_default()
    sources = [engine.get_template(name).source for name in (POST_TEMPLATE, *_COMPOSER_PARTS)]
    sources.append(django.get_version())
    return hashlib.blake2b("\x00".join(sources).encode(), digest_size=8).hexdigest()


def _viewer_context() -> tuple[str, str, str, str]:
    return (
        translation.get_language() or "",
        timezone.get_current_timezone_name(),
        get_script_prefix(),
        _templates_version(),
    )


def _digest(kind: str, shown: tuple) -> str:
    digest = hashlib.blake2b(repr(shown).encode(), digest_size=16).hexdigest()
    return f"community:{kind}:{digest}"


def _post_shown(post: Post, refused: bool) -> tuple:
    """Everything includes/post.html prints for `post` (community.topic_page.decorated_posts)."""
    author = post.author
    return (
        post.pk,
        post.number,
        post.status,
        post.html,
        post.created_at.isoformat(),
        post.edited_at.isoformat() if post.edited_at else None,
        None if author is None else (author.get_full_name(), author.is_staff),
        post.handle,
        post.organisation_shown,
        post.reply_to_number,
        post.is_accepted,
        tuple((f.pk, f.name, f.is_image, f.size) for f in post.files),
        tuple((r["kind"], r["label"], r["count"], r["on"]) for r in post.reactions_shown),
        post.can_react,
        post.can_accept,
        post.can_flag,
        post.can_edit,
        refused,
    )


def _with_token(html: str, token: str) -> SafeString:
    """`html` with the request's CSRF token, escaped, in place of the stand-in."""
    if _CSRF in html:
        html = html.replace(_CSRF, token)
    return mark_safe(html)  # noqa: S308 - rendered by the template engine, the token escaped


def _token(request: HttpRequest) -> str:
    # Read once per page: each get_token() call masks the secret anew.
    token = getattr(request, "_community_fragment_token", None)
    if token is None:
        token = conditional_escape(get_token(request))
        request._community_fragment_token = token  # type: ignore[attr-defined]
    return token


def topic_html(
    request: HttpRequest, topic: Topic, posts: Sequence[Post], composer: dict
) -> tuple[list[SafeString], SafeString]:
    """The HTML of each of `posts`, in order, and of the reply box, from the cache where they
    are there (one round trip for all of them); the missing ones are rendered and kept.
    `composer` is the reply box's context (`reply_form`, `reply_to`, `preview`, `refusal`)."""
    context = _viewer_context()
    refused = bool(composer["refusal"])
    keys = [_digest("post", (_post_shown(post, refused), context)) for post in posts]
    composer_key = _composer_key(composer, context)
    found = cache.get_many([*keys, composer_key] if composer_key else keys)
    rendered = _render_missing(posts, keys, found, refused)
    reply_url = reverse("community:reply", kwargs={"topic_id": topic.pk})
    if composer_key is None:
        full = {**composer, "topic": topic, "reply_url": reply_url, "csrf_token": _CSRF}
        box = str(render_to_string(COMPOSER_TEMPLATE, full))
    elif composer_key in found:
        box = _with_reply_url(found[composer_key], reply_url)
    else:
        full = {**composer, "topic": topic, "reply_url": _REPLY_URL, "csrf_token": _CSRF}
        rendered[composer_key] = str(render_to_string(COMPOSER_TEMPLATE, full))
        box = _with_reply_url(rendered[composer_key], reply_url)
    if rendered:
        cache.set_many(rendered, TIMEOUT)
        found.update(rendered)
    token = _token(request)
    return [_with_token(found[key], token) for key in keys], _with_token(box, token)


def _with_reply_url(html: str, url: str) -> str:
    # Escaped as the template would have printed it: the stand-in sits in an attribute.
    return html.replace(_REPLY_URL, conditional_escape(url))


def _render_missing(
    posts: Sequence[Post], keys: list[str], found: dict, refused: bool
) -> dict[str, str]:
    rendered = {}
    links = None
    template = get_template(POST_TEMPLATE)
    for post, key in zip(posts, keys, strict=True):
        if key in found:
            continue
        if links is None:
            links = Links()  # one reverse per kind of link for all the missing posts
        rendered[key] = template.render(
            {"post": _post_view(post, links), "refusal": refused, "csrf_token": _CSRF}
        )
    return rendered


def _post_view(post: Post, links: Links) -> dict:
    """What includes/post.html prints of `post` (the values `_post_shown` keys it by), as plain
    dicts and text. A model instance costs the template a caught exception per lookup and its
    filters (date, localize, yesno) a dozen calls per value; a post's render took half as long
    again, paid for every post of a topic nobody opened lately. The text is the same as
    `date:'c'`, `date:"Y-m-d H:i"` in the reader's time zone and an unlocalised integer
    (USE_THOUSAND_SEPARATOR is off) would print."""
    created = timezone.localtime(post.created_at)
    author = post.author
    url = links.url
    shown_links = {name: url(f"community:{name}", post_id=post.pk) for name in _POST_LINKS}
    if post.handle:
        shown_links["person"] = links.for_person(post.handle)
    return {
        "number": str(post.number),
        "status": str(post.status),
        "html": post.html,
        "created_iso": created.isoformat(),
        "created_shown": created.strftime("%Y-%m-%d %H:%M"),
        "edited": post.edited_at is not None,
        "author": None
        if author is None
        else {"name": author.get_full_name(), "is_staff": author.is_staff},
        "handle": post.handle,
        "organisation_shown": post.organisation_shown,
        "reply_to_number": "" if post.reply_to_number is None else str(post.reply_to_number),
        "is_accepted": post.is_accepted,
        "files": [
            {
                "name": file.name,
                "is_image": file.is_image,
                "size": file.size,
                "url": url("community:attachment", attachment_id=file.pk),
                "original_url": url("community:attachment_original", attachment_id=file.pk),
            }
            for file in post.files
        ],
        "reactions": [
            {
                "kind": reaction["kind"],
                "label": reaction["label"],
                "count": str(reaction["count"]),
                "counted": bool(reaction["count"]),
                "pressed": "true" if reaction["on"] else "false",
            }
            for reaction in post.reactions_shown
        ],
        "can_react": post.can_react,
        "can_accept": post.can_accept,
        "can_flag": post.can_flag,
        "can_edit": post.can_edit,
        "links": shown_links,
    }


def _composer_key(composer: dict, context: tuple) -> str | None:
    """The reply box is kept only in its everyday state: an empty form, nothing quoted or
    previewed; a refusal message (which may name a date) is part of the key. The topic is not:
    the box shows nothing of it but the address it posts to, a stand-in in the kept HTML."""
    form = composer["reply_form"]
    everyday = (
        not form.is_bound
        and not form.initial
        and not composer["reply_to"]
        and not composer["preview"]
    )
    if not everyday:
        return None
    return _digest("composer", (str(composer["refusal"] or ""), context))
