"""Who may see and do what on the R&D boards: permission-checked loaders and the checks views,
the API, notifications and page blocks share. Actions write; this module only reads.

The one visibility rule is `Board.objects.visible_to` (boards) and `Idea.objects.visible_to`
(ideas follow their board); everything here builds on them, so a private board cannot leak
through one channel that forgot a filter."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import Http404
from django.utils.translation import gettext as _

from beta_program.boards.models import Board, Idea, Visibility
from portal.models import Organisation, Role, User
from portal.permissions import in_staff_role, is_vendor_staff, role_in
from portal.staff_roles import StaffRole


def is_board_staff(user) -> bool:
    """Product staff run the boards; account-facing staff and superusers may look at them too
    (both with their second factor, which the portal's staff checks demand)."""
    return bool(
        user
        and user.is_authenticated
        and (in_staff_role(user, StaffRole.PRODUCT) or is_vendor_staff(user))
    )


def can_manage(user) -> bool:
    """Change statuses, merge, curate tags, vote on behalf of an organisation: Product staff."""
    return bool(user and user.is_authenticated and in_staff_role(user, StaffRole.PRODUCT))


def boards_for(user, organisation: Organisation | None):
    return Board.objects.visible_to(user, organisation)


def ideas_for(user, organisation: Organisation | None):
    """Ideas the user may see acting for `organisation` (merged duplicates included)."""
    return Idea.objects.visible_to(user, organisation)


def board_or_404(user, organisation: Organisation | None, slug: str) -> Board:
    board = boards_for(user, organisation).filter(slug=slug).first()
    if board is None:
        raise Http404("No such board.")
    return board


def idea_or_404(user, organisation: Organisation | None, idea_id: int) -> Idea:
    """The idea, if the user sees its board; 404 otherwise (never 403: an id must not tell
    whether a private board's idea exists)."""
    if not 0 < idea_id < 2**63:
        raise Http404("No such idea.")
    idea = (
        ideas_for(user, organisation)
        .select_related("board", "status", "category", "author", "organisation", "merged_into")
        .filter(pk=idea_id)
        .first()
    )
    if idea is None:
        raise Http404("No such idea.")
    return idea


def may_participate(user, organisation: Organisation | None) -> bool:
    """Propose, vote, comment: any active member of the organisation (viewers too: a vote is an
    opinion, not a change to the organisation's data)."""
    if organisation is None or not (user and user.is_authenticated and user.is_active):
        return False
    return role_in(user, organisation) is not None


def may_share_documents(user, organisation: Organisation | None, idea: Idea) -> bool:
    """Upload to a co-development idea: product staff, or a member (not a viewer) of one of the
    board's organisations."""
    if can_manage(user):
        return True
    if organisation is None or not idea.board.is_private:
        return False
    role = role_in(user, organisation)
    if role is None or Role.rank(role) < Role.rank(Role.MEMBER):
        return False
    return idea.board.organisations.filter(pk=organisation.pk).exists()


def who_may_see(idea: Idea, user_ids: Iterable[int]) -> set[int]:
    """Of `user_ids`, the people who may see `idea` acting for some organisation they belong
    to (or as staff): the filter every notification about the idea goes through, so a private
    board's idea never reaches someone outside it. The board rule is asked once per distinct
    organisation (`Board.objects.for_organisation`), the NDA once for everyone."""
    from django.contrib.auth import get_user_model

    from beta_program.programmes.access import current_nda
    from beta_program.programmes.models import NdaAcceptance
    from portal.models import Membership

    ids = set(user_ids)
    if not ids:
        return set()
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=ids, is_active=True)}
    allowed = {pk for pk, user in users.items() if is_board_staff(user)}
    members: dict[int, set[int]] = {}
    for user_id, organisation_id in Membership.objects.filter(
        user_id__in=set(users) - allowed, organisation__is_active=True
    ).values_list("user_id", "organisation_id"):
        members.setdefault(organisation_id, set()).add(user_id)
    if not members:
        return allowed
    admitted: set[int] = set()
    for organisation in Organisation.objects.filter(pk__in=members):
        if Board.objects.for_organisation(organisation).filter(pk=idea.board_id).exists():
            admitted |= members[organisation.pk]
    if idea.board.nda_programme_id is not None:
        nda = current_nda(idea.board.nda_programme)
        accepted = (
            set(
                NdaAcceptance.objects.filter(nda=nda, user_id__in=admitted).values_list(
                    "user_id", flat=True
                )
            )
            if nda is not None
            else set()
        )
        admitted &= accepted
    return allowed | admitted


def is_private(board: Board) -> bool:
    return board.visibility == Visibility.PRIVATE


def person_label(
    viewer: User, organisation: Organisation, author: User | None, author_org_id: int | None
) -> str:
    """How pages and the API name a person who wrote on the idea for the organisation
    `author_org_id` (None: the vendor team): by name to their own organisation's people and to
    staff, as "a customer" to other customers (B2B customers must not learn from a public board
    who at another customer asked for what)."""
    if author is None:
        return _("a former user")
    if author_org_id is None:
        return _("%(name)s (product team)") % {"name": author.display_name}
    if is_board_staff(viewer) or author_org_id == organisation.pk:
        return author.display_name
    return _("a customer")
