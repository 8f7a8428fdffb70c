"""The ideas page blocks ("top ideas", "recently shipped"): rendered for the viewer's
organisation, listing only ideas it sees; signed-out visitors get a sign-in prompt."""

from __future__ import annotations

import datetime

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from wagtail.models import Page

from beta_program.boards import actions
from beta_program.boards.blocks import RecentlyShippedBlock, TopIdeasBlock
from beta_program.boards.changelog import ChangelogEntryPage, ChangelogIndexPage
from beta_program.boards.models import Idea, IdeaStatus, IdeaStatusChange
from portal.home.models import plugin_blocks


def _render(block, value: dict, rf, user) -> str:
    request = rf.get("/")
    request.user = user
    request.session = {}
    return block.render(block.to_python(value), context={"request": request})


def test_top_ideas_lists_the_most_voted_and_never_another_organisations_private_idea(
    rf, public_board, private_board, org_a, org_b, admin_a, member_a, admin_b, propose
):
    # given a private Acme idea with two votes and public ideas with one and none
    secret = propose(private_board, org_a, admin_a, title="Acme secret inverter")
    actions.vote(secret, org_a, admin_a, 2)
    actions.vote(secret, org_a, member_a, 2)
    liked = propose(public_board, org_b, admin_b, title="Dark mode")
    actions.vote(liked, org_a, admin_a, 3)
    propose(public_board, org_b, admin_b, title="Quiet idea")
    value = {"heading": "", "board": "", "count": 5}

    # when each organisation's person looks at the block
    acme = _render(TopIdeasBlock(), value, rf, admin_a)
    globex = _render(TopIdeasBlock(), value, rf, admin_b)

    # then
    assert acme.index("Acme secret inverter") < acme.index("Dark mode") < acme.index("Quiet idea")
    assert "Top ideas" in acme
    assert f"/o/acme/ideas/{secret.pk}/" in acme
    assert "Acme secret inverter" not in globex
    assert "Dark mode" in globex
    # a board named in the block narrows it; a board Globex cannot see lists nothing
    only_private = {"heading": "Co-development", "board": "acme-codev", "count": 5}
    assert "Acme secret inverter" in _render(TopIdeasBlock(), only_private, rf, admin_a)
    foreign = _render(TopIdeasBlock(), only_private, rf, admin_b)
    assert "Acme secret inverter" not in foreign
    assert "No ideas yet." in foreign


def test_signed_out_visitors_get_a_sign_in_prompt(rf, public_board, org_a, admin_a, propose):
    propose(public_board, org_a, admin_a, title="Dark mode")
    for block, value in [
        (TopIdeasBlock(), {"count": 5}),
        (RecentlyShippedBlock(), {"days": 30, "count": 5}),
    ]:
        html = _render(block, value, rf, AnonymousUser())
        assert "Sign in to see the ideas your organisation can vote on." in html
        assert "/accounts/login/?next=%2F" in html
        assert "Dark mode" not in html


def test_recently_shipped_lists_ideas_shipped_lately_with_their_changelog_entry(
    rf, public_board, private_board, org_a, admin_a, admin_b, product, propose
):
    # given a public and a private idea shipped through an entry today, and one shipped long ago
    home = Page.objects.get(depth=2, slug="home")
    index = ChangelogIndexPage(title="Changelog", slug="changelog")
    home.add_child(instance=index)
    entry = ChangelogEntryPage(title="Release 4.2", slug="release-4-2")
    index.add_child(instance=entry)
    shipped = IdeaStatus.objects.get(key="shipped")
    now = timezone.now()
    for board, title, when in [
        (public_board, "Shared CSV export", now),
        (private_board, "Acme secret inverter", now),
        (public_board, "Old news", now - datetime.timedelta(days=90)),
    ]:
        idea = propose(board, org_a, admin_a, title=title)
        Idea.objects.filter(pk=idea.pk).update(status=shipped, shipped_at=when)
        IdeaStatusChange.objects.create(
            idea=idea,
            from_status=IdeaStatus.objects.get(key="in_progress"),
            to_status=shipped,
            changelog_page=entry,
            changed_by=product,
        )
    value = {"heading": "", "days": 30, "count": 5}

    # when
    acme = _render(RecentlyShippedBlock(), value, rf, admin_a)
    globex = _render(RecentlyShippedBlock(), value, rf, admin_b)

    # then
    assert "Recently shipped" in acme
    assert "Shared CSV export" in acme
    assert "Acme secret inverter" in acme
    assert "Old news" not in acme
    assert 'href="/changelog/release-4-2/"' in acme
    assert "Shared CSV export" in globex
    assert "Acme secret inverter" not in globex


def test_the_blocks_are_offered_for_portal_pages():
    names = [name for name, _block in plugin_blocks()]
    assert "ideas_top" in names
    assert "ideas_recently_shipped" in names
