"""Shared R&D-board fixtures: a public board, a private co-development board of org_a, and a
helper proposing ideas through the action (as the pages and the API do)."""

from __future__ import annotations

import pytest

from beta_program.boards import actions
from beta_program.boards.models import Board, Visibility
from tests.beta_program.conftest import confidential, make_programme, product  # noqa: F401


@pytest.fixture
def public_board(db):
    return Board.objects.create(name="Product ideas", name_zh="产品创意", slug="product-ideas")


@pytest.fixture
def private_board(org_a):
    board = Board.objects.create(
        name="Acme co-development", slug="acme-codev", visibility=Visibility.PRIVATE
    )
    board.organisations.set([org_a])
    board.save()  # a ParentalManyToManyField is written when the board is saved
    return board


@pytest.fixture
def propose():
    def make(board, organisation, user, title="Export the dashboard as CSV", **fields):
        fields.setdefault("problem", "We copy numbers by hand every month.")
        return actions.propose(board, organisation, user, actions.Proposal(title=title, **fields))

    return make
