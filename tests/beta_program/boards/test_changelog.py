"""Changelog entries are Wagtail pages: publishing one ships the ideas it links (once: a second
publish or a new revision ships nothing more), tells every voter with a link to the entry, and
the CRM events carry the entry's id. Readers are signed in, see the Chinese text when they read
Chinese, and see only the linked ideas their organisation sees."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.utils import translation
from wagtail.models import Page

from beta_program.boards import actions
from beta_program.boards.changelog import (
    ChangelogEntryPage,
    ChangelogIdea,
    ChangelogIndexPage,
    report_unshipped,
    ship_linked_ideas,
)
from beta_program.boards.models import Idea, IdeaStatus, IdeaStatusChange
from portal import notifications
from portal.models import Notification, OutboxEvent


def _move(idea: Idea, key: str) -> None:
    Idea.objects.filter(pk=idea.pk).update(status=IdeaStatus.objects.get(key=key))


@pytest.fixture
def changelog(db) -> ChangelogIndexPage:
    home = Page.objects.get(depth=2, slug="home")
    index = ChangelogIndexPage(title="Changelog", title_zh="更新日志", slug="changelog")
    home.add_child(instance=index)
    index.save_revision().publish(skip_permission_checks=True)
    return index


@pytest.fixture
def make_entry(changelog):
    def make(ideas, slug="release-4-2", user=None) -> ChangelogEntryPage:
        entry = ChangelogEntryPage(
            title="Release 4.2",
            title_zh="4.2 版",
            slug=slug,
            body="<p>CSV export and more.</p>",
            body_zh="<p>可导出 CSV。</p>",
            live=False,
        )
        entry.shipped_ideas = [ChangelogIdea(idea=idea) for idea in ideas]
        changelog.add_child(instance=entry)
        return entry

    return make


def _publish(entry: ChangelogEntryPage, user) -> None:
    # Page permissions are Wagtail groups' business; this is about what publishing does.
    entry.save_revision(user=user).publish(user=user, skip_permission_checks=True)


def test_publishing_an_entry_ships_its_ideas_and_tells_every_voter(
    public_board, org_a, org_b, admin_a, member_a, admin_b, product, propose, make_entry
):
    # given two ideas in progress, with voters in both organisations
    first = propose(public_board, org_a, admin_a, title="CSV export")
    second = propose(public_board, org_b, admin_b, title="Dark mode")
    actions.vote(first, org_b, admin_b, 3)
    actions.vote(second, org_a, member_a, 1)
    for idea in (first, second):
        _move(idea, "in_progress")
    entry = make_entry([first, second])

    # when product staff publish the entry
    _publish(entry, product)

    # then both ideas are shipped, through the entry
    for idea in (first, second):
        idea.refresh_from_db()
        assert idea.status.key == "shipped"
        change = IdeaStatusChange.objects.get(idea=idea)
        assert change.changelog_page_id == entry.pk
        assert change.changed_by == product
    # every voter and author is notified, linking to the entry
    assert sorted(Notification.objects.values_list("recipient_id", "link")) == sorted(
        [
            (admin_a.pk, "/changelog/release-4-2/"),
            (admin_b.pk, "/changelog/release-4-2/"),
            (admin_b.pk, "/changelog/release-4-2/"),
            (member_a.pk, "/changelog/release-4-2/"),
        ]
    )
    note = Notification.objects.get(recipient=member_a)
    with translation.override("en"):
        assert (
            notifications.message(note)
            == f"“Dark mode” (#{second.pk}) has shipped: read what changed"
        )
    # the CRM events name the entry
    shipped = OutboxEvent.objects.filter(type="greenloop.boards.idea_shipped")
    assert shipped.count() == 4  # two asking organisations per idea
    assert {event.data["changelog_page_id"] for event in shipped} == {entry.pk}


def test_publishing_again_ships_nothing_new(
    public_board, org_a, admin_a, admin_b, org_b, product, propose, make_entry
):
    # given an entry published once
    idea = propose(public_board, org_a, admin_a)
    actions.vote(idea, org_b, admin_b, 2)
    _move(idea, "in_progress")
    entry = make_entry([idea])
    _publish(entry, product)
    counts = (
        IdeaStatusChange.objects.count(),
        Notification.objects.count(),
        OutboxEvent.objects.count(),
    )

    # when it is published again, and an edited revision after that
    _publish(entry, product)
    entry.body = "<p>Edited.</p>"
    _publish(entry, product)

    # then nothing more happened
    assert (
        IdeaStatusChange.objects.count(),
        Notification.objects.count(),
        OutboxEvent.objects.count(),
    ) == counts


def test_an_idea_the_workflow_cannot_ship_is_skipped_and_reported(
    public_board, org_a, admin_a, product, propose, make_entry
):
    # given a new idea (new -> shipped is not a transition) and one in progress
    stuck = propose(public_board, org_a, admin_a, title="Still new")
    ready = propose(public_board, org_a, admin_a, title="Ready")
    _move(ready, "in_progress")
    entry = make_entry([stuck, ready])
    entry.save_revision(user=product)

    # when
    report = ship_linked_ideas(entry, product)

    # then
    assert report.shipped == [ready.pk]
    assert [idea_id for idea_id, _reason in report.skipped] == [stuck.pk]
    stuck.refresh_from_db()
    assert stuck.status.key == "new"


def test_a_publisher_who_may_not_change_statuses_ships_nothing(
    public_board, org_a, admin_a, staff_success, propose, make_entry
):
    idea = propose(public_board, org_a, admin_a)
    _move(idea, "in_progress")
    entry = make_entry([idea])
    report = ship_linked_ideas(entry, staff_success)
    assert report.shipped == []
    idea.refresh_from_db()
    assert idea.status.key == "in_progress"
    assert IdeaStatusChange.objects.count() == 0


def test_the_admin_publish_tells_the_publisher_what_was_not_shipped(
    rf, public_board, org_a, admin_a, product, propose, make_entry
):
    # given an entry whose idea is still new, published
    stuck = propose(public_board, org_a, admin_a, title="Still new")
    entry = make_entry([stuck])
    _publish(entry, product)
    request = rf.post("/admin/pages/")
    request.user = product
    request.session = {}
    request._messages = FallbackStorage(request)

    # when Wagtail's after-publish hook runs
    with translation.override("en"):
        report_unshipped(request, entry)

    # then the publisher reads why
    assert [str(m) for m in get_messages(request)] == [
        f"Idea #{stuck.pk} was not shipped: an idea that is New cannot move to shipped, or you "
        "may not change idea statuses."
    ]


def _read(client, user, url: str, language: str = "en") -> str:
    client.force_login(user)
    client.cookies["django_language"] = language
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def test_the_entry_shows_a_private_idea_only_to_its_boards_organisation(
    client,
    public_board,
    private_board,
    org_a,
    org_b,
    admin_a,
    admin_b,
    product,
    propose,
    make_entry,
):
    # given an entry shipping a private Acme idea and a public one
    secret = propose(private_board, org_a, admin_a, title="Acme secret inverter")
    shared = propose(public_board, org_a, admin_a, title="Shared CSV export")
    for idea in (secret, shared):
        _move(idea, "in_progress")
    entry = make_entry([secret, shared])
    _publish(entry, product)

    # then Acme reads both, Globex only the public one
    acme = _read(client, admin_a, "/changelog/release-4-2/")
    assert "Acme secret inverter" in acme
    assert "Shared CSV export" in acme
    globex = _read(client, admin_b, "/changelog/release-4-2/")
    assert "Shared CSV export" in globex
    assert "Acme secret inverter" not in globex
    assert f"/o/globex/ideas/{shared.pk}/" in globex


def test_signed_out_visitors_are_sent_to_sign_in(client, changelog, make_entry, product):
    entry = make_entry([])
    _publish(entry, product)
    for url in ("/changelog/", "/changelog/release-4-2/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_index_lists_entries_newest_first_and_chinese_readers_read_chinese(
    client, changelog, make_entry, product, admin_a
):
    # given two published entries
    older = make_entry([], slug="release-4-1")
    older.title = "Release 4.1"
    older.date = older.date.replace(year=2025)
    older.save()
    _publish(older, product)
    _publish(make_entry([], slug="release-4-2"), product)

    # then the index lists the newest first
    index = _read(client, admin_a, "/changelog/")
    assert index.index("Release 4.2") < index.index("Release 4.1")
    # and a Chinese reader reads the Chinese title and body
    entry = _read(client, admin_a, "/changelog/release-4-2/", "zh-hans")
    assert "4.2 版" in entry
    assert "可导出 CSV。" in entry


def test_publishing_the_index_translates_it_into_the_chinese_tree(changelog):
    translations = ChangelogIndexPage.objects.filter(translation_key=changelog.translation_key)
    assert sorted(translations.values_list("locale__language_code", "live", "url_path")) == [
        ("en", True, "/home/changelog/"),
        ("zh-hans", True, "/home-zh-hans/changelog/"),
    ]
