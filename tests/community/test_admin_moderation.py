"""The moderation screens of the Wagtail admin: the review queue (approve, hide, delete, warn or
suspend the author), members (warn, suspend, lift) and tags; who may open and use them."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from community import actions, moderation
from community.models import (
    Flag,
    FlagReason,
    FlagStatus,
    Member,
    Notification,
    Post,
    PostStatus,
    Space,
    Tag,
)
from portal.models import AuditEvent
from portal.staff_roles import StaffRole
from tests.community.conftest import settled
from tests.conftest import _staff
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.work_queue import work_queue

pytestmark = pytest.mark.django_db

HOME = reverse("wagtailadmin_home")


def url(viewset: str, name: str, *args) -> str:
    return reverse(f"{viewset}:{name}", args=args)


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture(autouse=True)
def _threshold(settings):
    settings.COMMUNITY_FLAG_THRESHOLD = 3


@pytest.fixture
def product_staff(engineer, enable_totp):
    """Product staff with TOTP on: they reach the admin, but not the moderation screens."""
    enable_totp(engineer)
    return engineer


@pytest.fixture
def flagged(member_a, admin_a, member_b, admin_b, public_space, ask):
    """A reply hidden for review by three flags, one with a note."""
    topic = ask(settled(member_a), public_space)
    reply = actions.reply(member_a, topic, body="Cheap **watches** at example.com")
    moderation.flag_post(admin_a, reply, reason=FlagReason.SPAM)
    moderation.flag_post(member_b, reply, reason=FlagReason.OTHER, note="Same link every day")
    moderation.flag_post(admin_b, reply, reason=FlagReason.INAPPROPRIATE)
    reply.refresh_from_db()
    assert reply.status == PostStatus.PENDING_REVIEW
    return reply


def _until(days: int = 3) -> tuple[dt.datetime, str]:
    until = (timezone.localtime() + dt.timedelta(days=days)).replace(second=0, microsecond=0)
    return until, until.strftime("%Y-%m-%d %H:%M")


# --- who may open what


def test_moderators_see_the_queue_with_the_flags(client, moderator, flagged, org_a):
    # when a moderator opens the review queue
    client.force_login(moderator)
    response = client.get(url("community_review", "index"))
    # then the flagged post is listed with its excerpt, topic, author, organisation and flags
    assert response.status_code == 200
    html = response.content.decode()
    assert "Cheap watches at example.com" in html
    assert flagged.topic.title in html
    assert f"(@{Member.objects.get(user=flagged.author).handle})" in html
    assert org_a.name in html
    # one line per item: the flags summarised as their count and the most frequent reason
    # (three reasons once each: the earliest), the organisation's name unbroken
    assert '<span class="greenloop-nowrap"><strong>3</strong> · Spam</span>' in html
    assert re.search(rf'<td class="greenloop-nowrap">\s*{org_a.name}\s*</td>', html)
    assert "Same link every day" not in html
    # with its actions
    for name in ("approve", "hide", "delete_post", "warn_author", "suspend_author"):
        assert url("community_review", name, flagged.pk) in html, name


def test_the_detail_page_has_the_full_text_and_every_flag(client, moderator, flagged):
    # given a reply longer than the queue's excerpt
    Post.objects.filter(pk=flagged.pk).update(
        html=flagged.html.replace("</p>", " " + "tail " * 60 + "THE END</p>")
    )
    client.force_login(moderator)
    queue = client.get(url("community_review", "index")).content.decode()
    html = client.get(url("community_review", "inspect", flagged.pk)).content.decode()
    assert "THE END" not in queue
    assert "THE END" in html
    assert "Same link every day" in html
    for reason in ("Spam", "Inappropriate", "Something else"):
        assert reason in html


def test_the_detail_header_wraps_the_title_above_its_five_actions(client, moderator, flagged):
    # given a moderator opening a flagged reply
    client.force_login(moderator)
    html = client.get(url("community_review", "inspect", flagged.pk)).content.decode()
    # then the page opts into the wrapping header (portal/css/admin.css), the post named in it
    # above the five actions, all in the header's action bar
    assert re.search(r'<body id="wagtail" class="greenloop-header-wraps[ "]', html)
    header = html.split('<header class="w-slim-header', 1)[1].split("</header>", 1)[0]
    assert str(flagged) in header
    actions = header.split('id="w-slim-header-buttons"', 1)[1]
    assert re.findall(r'href="/admin/community_review/([a-z-]+)/', actions) == [
        "approve",
        "delete-post",
        "hide",
        "suspend-author",
        "warn-author",
    ]
    css = Path(finders.find("portal/css/admin.css")).read_text(encoding="utf-8")
    assert ".greenloop-header-wraps #w-slim-header-buttons { flex-wrap: wrap;" in css


def test_a_moderator_sees_the_flagged_posts_in_the_work_queue(
    client, moderator, flagged, product_staff
):
    # given the flagged reply, its oldest flag two days old
    Flag.objects.filter(post=flagged).update(created_at=timezone.now() - dt.timedelta(days=2))
    client.force_login(moderator)
    assert work_queue(client) == {
        "flagged_posts": ("Flagged community posts", "1", "2 days", "/admin/community_review/")
    }
    # product staff do not moderate: no row for them
    client.force_login(product_staff)
    assert "flagged_posts" not in work_queue(client)


def test_the_queue_summary_in_chinese(client, moderator, flagged, org_a):
    org_a.name = "华东光伏科技有限公司"
    org_a.save(update_fields=["name"])
    client.force_login(moderator)
    client.cookies["django_language"] = "zh-hans"
    html = client.get(url("community_review", "index")).content.decode()
    assert '<span class="greenloop-nowrap"><strong>3</strong> · 垃圾信息</span>' in html
    assert re.search(r'<td class="greenloop-nowrap">\s*华东光伏科技有限公司\s*</td>', html)


def test_the_community_menu_lists_what_each_role_may_open(client, moderator, product_staff):
    client.force_login(moderator)
    html = client.get(HOME).content.decode()
    for viewset in ("community_review", "community_spaces", "community_tags", "community_members"):
        assert url(viewset, "index") in html, viewset
    client.force_login(product_staff)
    html = client.get(HOME).content.decode()
    assert url("community_tags", "index") in html
    assert url("community_spaces", "index") in html
    assert url("community_review", "index") not in html
    assert url("community_members", "index") not in html


def test_other_staff_and_customers_are_kept_out(client, product_staff, member_a, flagged):
    member = Member.objects.get(user=member_a)
    targets = [
        url("community_review", "index"),
        url("community_review", "inspect", flagged.pk),
        *(
            url("community_review", name, flagged.pk)
            for name in ("approve", "hide", "delete_post", "warn_author", "suspend_author")
        ),
        url("community_members", "index"),
        *(url("community_members", name, member.pk) for name in ("warn", "suspend", "unsuspend")),
    ]
    form = {"message": "x", "reason": "x", "until": _until()[1], "note": "x"}
    # product staff are sent back to the admin's home page
    client.force_login(product_staff)
    for target in targets:
        response = client.post(target, form)
        assert response.status_code == 302, target
        assert response["Location"] == HOME, target
    # customers to the sign-in page
    client.force_login(member_a)
    for target in targets:
        response = client.post(target, form)
        assert response.status_code == 302, target
        assert response["Location"].startswith("/accounts/login/"), target
    # and nothing changed
    flagged.refresh_from_db()
    assert flagged.status == PostStatus.PENDING_REVIEW
    assert Flag.objects.filter(status=FlagStatus.OPEN).count() == 3
    member.refresh_from_db()
    assert (member.warning_count, member.suspended_until) == (0, None)
    assert not AuditEvent.objects.filter(action__startswith="community.").exists()


def test_staff_without_two_factor_are_sent_to_set_it_up(client, flagged):
    staff = _staff("product.no2fa@greenloop.example", StaffRole.PRODUCT)
    client.force_login(staff)
    response = client.get(url("community_review", "index"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


# --- decisions


@pytest.mark.parametrize(
    ("name", "status", "flag_status", "action"),
    [
        ("approve", PostStatus.VISIBLE, FlagStatus.DISAGREED, "community.post_approved"),
        ("hide", PostStatus.HIDDEN, FlagStatus.AGREED, "community.post_hidden"),
        ("delete_post", PostStatus.DELETED, FlagStatus.AGREED, "community.post_deleted"),
    ],
)
def test_a_moderator_decides_through_the_queue(
    client, moderator, flagged, name, status, flag_status, action
):
    client.force_login(moderator)
    # given the decision's confirmation screen, which shows the post and its flags
    form = client.get(url("community_review", name, flagged.pk))
    assert form.status_code == 200
    assert "Same link every day" in form.content.decode()
    # when the moderator confirms
    response = client.post(url("community_review", name, flagged.pk), {"note": "Checked"})
    # then they are back at the queue, the post has its new status and its flags are resolved
    assert response.status_code == 302
    assert response["Location"] == url("community_review", "index")
    flagged.refresh_from_db()
    assert (flagged.status, flagged.open_flag_count) == (status, 0)
    assert set(Flag.objects.values_list("status", flat=True)) == {flag_status}
    entry = AuditEvent.objects.get(action=action)
    assert (entry.actor, entry.details["note"]) == (moderator, "Checked")
    # and the post left the queue
    html = client.get(url("community_review", "index")).content.decode()
    assert url("community_review", "approve", flagged.pk) not in html


def test_a_moderator_warns_the_author_from_the_queue(
    client, moderator, member_a, flagged, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(moderator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("community_review", "warn_author", flagged.pk),
            {"message": "Advertising is not allowed here."},
        )
    assert response.status_code == 302
    assert Member.objects.get(user=member_a).warning_count == 1
    assert Notification.objects.get(user=member_a).post == flagged
    assert [mail.to for mail in mailoutbox] == [[member_a.email]]
    assert AuditEvent.objects.get(action="community.member_warned").actor == moderator


def test_a_moderator_suspends_the_author_from_the_queue(client, moderator, member_a, flagged):
    client.force_login(moderator)
    until, typed = _until()
    # the form suggests a date a week ahead
    assert client.get(url("community_review", "suspend_author", flagged.pk)).status_code == 200
    response = client.post(
        url("community_review", "suspend_author", flagged.pk),
        {"until": typed, "reason": "Repeated advertising"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    member = Member.objects.get(user=member_a)
    assert (member.suspended_until, member.suspension_reason) == (until, "Repeated advertising")
    assert AuditEvent.objects.get(action="community.member_suspended").actor == moderator


def test_a_suspension_in_the_past_is_refused_on_the_form(client, moderator, member_a, flagged):
    client.force_login(moderator)
    _until_past, typed = _until(days=-1)
    response = client.post(
        url("community_review", "suspend_author", flagged.pk),
        {"until": typed, "reason": "Spam"},
    )
    assert response.status_code == 200
    assert "in the future" in response.content.decode()
    assert Member.objects.get(user=member_a).suspended_until is None


# --- members


def test_a_moderator_suspends_and_lifts_through_the_member_list(
    client, moderator, member_a, flagged
):
    client.force_login(moderator)
    member = Member.objects.get(user=member_a)
    # the list shows the member's handle and posts
    html = client.get(url("community_members", "index")).content.decode()
    assert member.handle in html
    assert url("community_members", "suspend", member.pk) in html
    # suspend
    _until_at, typed = _until()
    response = client.post(
        url("community_members", "suspend", member.pk), {"until": typed, "reason": "Spam"}
    )
    assert response.status_code == 302
    assert response["Location"] == url("community_members", "inspect", member.pk)
    member.refresh_from_db()
    assert member.is_suspended()
    # the suspended filter finds them
    html = client.get(url("community_members", "index"), {"suspended": "true"}).content.decode()
    assert url("community_members", "unsuspend", member.pk) in html
    # lift
    response = client.post(url("community_members", "unsuspend", member.pk))
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.suspended_until is None
    # lifting again is refused with a message
    response = client.post(url("community_members", "unsuspend", member.pk), follow=True)
    assert "not suspended" in " ".join(_messages(response))
    assert list(
        AuditEvent.objects.filter(action__startswith="community.member_")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["community.member_suspended", "community.member_unsuspended"]


def test_a_moderator_warns_from_the_member_list(client, moderator, member_a, flagged):
    client.force_login(moderator)
    member = Member.objects.get(user=member_a)
    assert client.get(url("community_members", "inspect", member.pk)).status_code == 200
    response = client.post(url("community_members", "warn", member.pk), {"message": "Be kind."})
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.warning_count == 1
    # an empty warning is refused on the form
    response = client.post(url("community_members", "warn", member.pk), {"message": " "})
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.warning_count == 1


# --- tags


def test_product_staff_create_and_rename_tags(client, product_staff):
    client.force_login(product_staff)
    response = client.post(
        url("community_tags", "add"),
        {"name": "Firmware", "slug": "firmware", "description": "Inverter firmware"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    tag = Tag.objects.get(slug="firmware")
    response = client.post(
        url("community_tags", "edit", tag.pk),
        {"name": "Firmware updates", "slug": "firmware", "description": "Inverter firmware"},
    )
    assert response.status_code == 302
    tag.refresh_from_db()
    assert tag.name == "Firmware updates"
    entries = AuditEvent.objects.filter(action__startswith="community.tag_").order_by("pk")
    assert [(e.action, e.actor) for e in entries] == [
        ("community.tag_created", product_staff),
        ("community.tag_changed", product_staff),
    ]
    assert entries[1].details["changed"] == ["name"]


def test_only_an_unused_tag_can_be_deleted(client, moderator, member_a, public_space, ask, tags):
    client.force_login(moderator)
    ask(settled(member_a), public_space, tags=["firmware"])
    used, unused = tags["firmware"], tags["scope-2"]
    # the list offers delete only for the unused tag
    html = client.get(url("community_tags", "index")).content.decode()
    assert url("community_tags", "delete", unused.pk) in html
    assert url("community_tags", "delete", used.pk) not in html
    # deleting the used one is refused
    response = client.post(url("community_tags", "delete", used.pk), follow=True)
    assert "cannot be deleted" in " ".join(_messages(response))
    assert Tag.objects.filter(pk=used.pk).exists()
    # the unused one goes, on the audit trail
    response = client.post(url("community_tags", "delete", unused.pk))
    assert response.status_code == 302
    assert not Tag.objects.filter(pk=unused.pk).exists()
    assert AuditEvent.objects.get(action="community.tag_deleted").details["slug"] == "scope-2"


def test_customers_cannot_reach_the_tags(client, member_a):
    client.force_login(member_a)
    response = client.get(url("community_tags", "index"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- query count


def _flag_posts(count: int, space: Space, offset: int) -> None:
    """`count` replies by different authors of different organisations, each flagged once."""
    flagger = UserFactory(email=f"flagger{offset}@example.com")
    MembershipFactory(user=flagger, organisation=OrganisationFactory())
    for index in range(offset, offset + count):
        author = UserFactory(email=f"author{index}@example.com")
        MembershipFactory(user=author, organisation=OrganisationFactory())
        topic = actions.create_topic(
            settled(author), space, title=f"Question number {index}", body="Body"
        )
        moderation.flag_post(flagger, topic.posts.get(), reason=FlagReason.SPAM, note="Ad")


def test_the_queue_runs_no_query_per_row(client, moderator, django_assert_max_num_queries):
    # given three flagged posts in a sub-space
    parent = Space.objects.create(name="Products", slug="products")
    space = Space.objects.create(name="Inverters", slug="inverters-sub", parent=parent)
    _flag_posts(3, space, 0)
    client.force_login(moderator)
    # Signing in saves the last login, which forgets the person's kept row: the first page
    # reads it from the database, the next ones from the shared cache. Compare the latter.
    client.get(url("community_review", "index"))
    with CaptureQueriesContext(connection) as few:
        assert client.get(url("community_review", "index")).status_code == 200
    # when thirty are waiting
    _flag_posts(27, space, 3)
    with CaptureQueriesContext(connection) as many:
        html = client.get(url("community_review", "index")).content.decode()
    # then the page lists them all with the same number of queries
    assert html.count(url("community_review", "hide", 1)[:-2]) >= 30
    assert Post.objects.filter(open_flag_count=1).count() == 30
    assert len(many) == len(few)
    with django_assert_max_num_queries(len(few)):
        client.get(url("community_review", "index"))
