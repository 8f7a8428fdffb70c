"""R&D boards' entries for the authorisation walk (merged by tests/beta_program/authz_samples.py).

The walk's foreign organisation co-develops on a private board of its own, with an idea that has
an attachment, a comment, a milestone and a shared document: nobody else's organisation can see
the board, so its slug, the idea's id and each object's id under the caller's own
/o/<slug>/ideas/ URL, and in the API, must answer 404. Parameter names are the boards' own
(`idea_attachment_id`, not the feedback's `attachment_id`): the walk's samples are keyed by name.
"""

from __future__ import annotations


def foreign_board(org):
    from beta_program.boards.models import Board, Visibility

    slug = f"walk-board-{org.slug}"
    board = Board.objects.filter(slug=slug).first()
    if board is None:
        board = Board.objects.create(
            slug=slug, name=f"Co-development of {org.name}", visibility=Visibility.PRIVATE
        )
        board.organisations.set([org])
        board.save()
    return board


def foreign_idea(org):
    import datetime

    from django.core.files.base import ContentFile

    from beta_program.boards.models import (
        Comment,
        Idea,
        IdeaAttachment,
        IdeaStatus,
        Milestone,
        SharedDocument,
    )

    board = foreign_board(org)
    idea = Idea.objects.filter(board=board, merged_into__isnull=True).order_by("pk").first()
    if idea is None:
        idea = Idea.objects.create(
            board=board,
            organisation=org,
            title="Secret pump controller",
            problem="Confidential plans",
            status=IdeaStatus.objects.initial(),
        )
        Comment.objects.create(idea=idea, organisation=org, body="Secret comment")
        Milestone.objects.create(
            idea=idea, title="Secret prototype", due_on=datetime.date(2027, 1, 1)
        )
        document = SharedDocument(
            idea=idea,
            title="Secret spec",
            name="spec.pdf",
            content_type="application/pdf",
            size=5,
            sha256="0" * 64,
            organisation=org,
        )
        document.file.save("spec.pdf", ContentFile(b"%PDF-"), save=False)
        document.save()
        attachment = IdeaAttachment(idea=idea, name="plan.png", content_type="image/png", size=4)
        attachment.file.save("plan.png", ContentFile(b"\x89PNG"), save=False)
        attachment.save()
    return idea


def foreign_merge(org):
    """A merge of a second idea of the foreign board into its first (the admin's undo screen
    names merges by id; only product staff open it, whatever the merge)."""
    from beta_program.boards.models import Idea, IdeaMerge

    primary = foreign_idea(org)
    record = IdeaMerge.objects.filter(primary=primary).first()
    if record is None:
        duplicate = Idea.objects.create(
            board=primary.board,
            organisation=org,
            title="Secret pump controller, again",
            problem="Confidential plans",
            status=primary.status,
            merged_into=primary,
        )
        record = IdeaMerge.objects.create(
            duplicate=duplicate, primary=primary, previous_status=primary.status
        )
    return record


NESTED_PARAM_SAMPLES: dict = {
    "board_slug": lambda org: foreign_board(org).slug,
    "idea_id": lambda org: foreign_idea(org).pk,
    "idea_attachment_id": lambda org: foreign_idea(org).attachments.get().pk,
    "comment_id": lambda org: foreign_idea(org).comments.first().pk,
    "milestone_id": lambda org: foreign_idea(org).milestones.first().pk,
    "document_id": lambda org: foreign_idea(org).documents.first().pk,
    "merge_id": lambda org: foreign_merge(org).pk,
}
API_PARAM_SAMPLES: dict = dict(NESTED_PARAM_SAMPLES)
# /ideas/<idea_id>/ (the notification link) has no organisation in its path: it is walked with
# the foreign idea's id and must answer 404 to everyone outside the board.
URL_PARAM_SAMPLES: dict = {"idea_id": lambda org: foreign_idea(org).pk}
WRITE_BODIES: dict = {
    "beta:idea_milestone_add": lambda own, foreign: {"title": "Walk", "due_on": "2027-01-01"},
    "beta:idea_milestone_update": lambda own, foreign: {
        f"m{foreign_idea(foreign).milestones.first().pk}-status": "done",
        f"m{foreign_idea(foreign).milestones.first().pk}-due_on": "2027-01-01",
    },
    "beta:idea_document_share": lambda own, foreign: {"title": "Walk"},
    "beta:idea_co_owners": lambda own, foreign: {},
    "beta:ideas_propose": lambda own, foreign: {"title": "Walk", "problem": "Walk"},
    "beta:idea_vote": lambda own, foreign: {"importance": "3", "reason": "Walk"},
    "beta:idea_unvote": lambda own, foreign: {},
    "beta:idea_comment": lambda own, foreign: {"body": "Walk"},
    "beta:idea_comment_hide": lambda own, foreign: {},
    "beta:idea_subscribe": lambda own, foreign: {"subscribed": "1"},
}


# --- the staff screens (tests/authz.py, ADMIN_SCREENS)


def walk_tag():
    from beta_program.boards.models import Tag

    return Tag.objects.get_or_create(slug="walk-tag", defaults={"name": "Walk tag"})[0]


def walk_status():
    """A status nothing uses yet, so its delete screen opens (one in use refuses deletion)."""
    from beta_program.boards.models import IdeaStatus

    return IdeaStatus.objects.get_or_create(
        key="walk-status", defaults={"name": "Walk status", "kind": "open", "position": 90}
    )[0]


def row_counts() -> tuple:
    from beta_program.boards.models import Board, Category, Idea, IdeaStatus, IdeaStatusChange, Tag

    return tuple(
        model.objects.count()
        for model in (Board, Category, Tag, IdeaStatus, Idea, IdeaStatusChange)
    ) + (Idea.tags.through.objects.count(),)


IDEAS_API = "/api/v1/organisations/{slug}/ideas"
# Valid bodies: the idea's lookup must answer 404 before any of them is read.
API_BODIES: dict = {
    ("post", IDEAS_API): lambda own, foreign: {
        "board": foreign_board(foreign).slug,
        "title": "Walk",
        "problem": "Walk",
    },
    ("put", IDEAS_API + "/{idea_id}/vote"): lambda own, foreign: {"importance": 2},
    ("put", IDEAS_API + "/{idea_id}/subscription"): lambda own, foreign: {"subscribed": True},
    ("post", IDEAS_API + "/{idea_id}/comments"): lambda own, foreign: {"body": "Walk"},
}
