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
    from django.core.files.base import ContentFile

    from beta_program.boards.models import Comment, Idea, IdeaAttachment, IdeaStatus

    board = foreign_board(org)
    idea = Idea.objects.filter(board=board).first()
    if idea is None:
        idea = Idea.objects.create(
            board=board,
            organisation=org,
            title="Secret pump controller",
            problem="Confidential plans",
            status=IdeaStatus.objects.initial(),
        )
        Comment.objects.create(idea=idea, organisation=org, body="Secret comment")
        attachment = IdeaAttachment(idea=idea, name="plan.png", content_type="image/png", size=4)
        attachment.file.save("plan.png", ContentFile(b"\x89PNG"), save=False)
        attachment.save()
    return idea


NESTED_PARAM_SAMPLES: dict = {
    "board_slug": lambda org: foreign_board(org).slug,
    "idea_id": lambda org: foreign_idea(org).pk,
    "idea_attachment_id": lambda org: foreign_idea(org).attachments.get().pk,
    "comment_id": lambda org: foreign_idea(org).comments.first().pk,
}
API_PARAM_SAMPLES: dict = dict(NESTED_PARAM_SAMPLES)
# /ideas/<idea_id>/ (the notification link) has no organisation in its path: it is walked with
# the foreign idea's id and must answer 404 to everyone outside the board.
URL_PARAM_SAMPLES: dict = {"idea_id": lambda org: foreign_idea(org).pk}
WRITE_BODIES: dict = {}
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
}
