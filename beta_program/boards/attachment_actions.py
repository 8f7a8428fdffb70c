"""Ideas with their screenshots and PDFs: the files are checked by content (portal.attachments)
before anything is written, then stored in private storage in the same transaction as the idea,
so an idea never exists with half its files, nor a file without its idea."""

from __future__ import annotations

from django.core.files import File
from django.db import transaction
from django.http import HttpRequest

from beta_program.boards import actions
from beta_program.boards.exceptions import IdeaRefused
from beta_program.boards.models import Board, Idea, IdeaAttachment
from beta_program.programmes.feedback_actions import check_attachments
from portal.models import Organisation, User


def propose_with_attachments(
    board: Board,
    organisation: Organisation,
    user: User,
    proposal: actions.Proposal,
    files: list[File],
    *,
    request: HttpRequest | None = None,
) -> Idea:
    """`actions.propose`, and the idea's attachments stored in the same transaction (the
    files are checked first: a refused file leaves no idea behind)."""
    # The beta programmes' rule (5 files, 5 MB each, checked by content), with the boards' error.
    checked = check_attachments(files, error=IdeaRefused)
    with transaction.atomic():
        idea = actions.propose(board, organisation, user, proposal, request=request)
        for upload, info in zip(files, checked, strict=True):
            IdeaAttachment.objects.create(
                idea=idea,
                file=upload,
                name=(getattr(upload, "name", "") or "file")[-200:],
                content_type=info.content_type,
                size=info.size,
                uploaded_by=user,
            )
    return idea
