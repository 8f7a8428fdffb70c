"""How community posts use the portal's Markdown (`portal.markdown`, which renders and sanitises
for every app): @mentions link to the person's community page, and images load only from the
community's own attachments."""

from __future__ import annotations

from django.urls import reverse

from community.attachments import is_attachment_src
from portal.markdown import Markdown


def person_href(handle: str) -> str:
    return reverse("community:person", kwargs={"handle": handle})


POSTS = Markdown(mention_href=person_href, image_src=is_attachment_src)
