"""Community's event types in the portal's catalogue (portal.event_catalogue). Imported from
CommunityConfig.ready().

Events about spaces that are not open to every customer carry ids only: the CRM's readers may
not be in the space's audience. For open spaces they also name the topic (title, kind, space,
URL), all four or none."""

from __future__ import annotations

from community.models import FlagReason, TopicKind
from portal.event_catalogue import choice, identifier, integer, nullable, register, string

OWNER = "community"
SUBJECT = r"community/topics/\d+"
_IDS = {
    "topic_id": identifier("topic"),
    "space_id": identifier("space"),
    "post_id": identifier("post"),
    "author_id": identifier("post's author (portal user)"),
}
_PUBLIC = {
    "title": string("the topic's title (open spaces only)", maxLength=200),
    "kind": choice(TopicKind.values),
    "space": string("the space's slug (open spaces only)"),
    "url": string("the topic's path in the portal (open spaces only)"),
}
_OPTIONAL = list(_PUBLIC)
_FREE_TEXT = ["title"]

register(
    "greenloop.community.topic_created",
    version=1,
    subject=SUBJECT,
    description="A member opened a topic (question or discussion).",
    owner=OWNER,
    properties={**_IDS, **_PUBLIC},
    optional=_OPTIONAL,
    together=_OPTIONAL,
    free_text=_FREE_TEXT,
)
register(
    "greenloop.community.reply_posted",
    version=1,
    subject=SUBJECT,
    description="A member replied in a topic.",
    owner=OWNER,
    properties={**_IDS, "number": integer("the post's number in the topic", minimum=2), **_PUBLIC},
    optional=_OPTIONAL,
    together=_OPTIONAL,
    free_text=_FREE_TEXT,
)
register(
    "greenloop.community.post_flagged",
    version=1,
    subject=SUBJECT,
    description="A member flagged a post for the moderators (the note stays in the portal).",
    owner=OWNER,
    properties={
        **_IDS,
        "reason": choice(FlagReason.values),
        "flag_count": integer("open flags on the post", minimum=1),
        **_PUBLIC,
    },
    optional=_OPTIONAL,
    together=_OPTIONAL,
    free_text=_FREE_TEXT,
)
register(
    "greenloop.community.answer_accepted",
    version=1,
    subject=SUBJECT,
    description="The asker (or staff) accepted a reply as the answer.",
    owner=OWNER,
    properties={
        **_IDS,
        "accepted_by_id": identifier("person who accepted it"),
        "answer_organisation_id": nullable(
            identifier("answer author's organisation (null: staff)")
        ),
        **_PUBLIC,
    },
    optional=_OPTIONAL,
    together=_OPTIONAL,
    free_text=_FREE_TEXT,
)
