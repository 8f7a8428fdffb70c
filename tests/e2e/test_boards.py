"""R&D boards in a real browser, issue #16's "Done when": a customer proposes an idea, colleagues
of two organisations vote with an importance (one of them reads Chinese), product staff merge a
duplicate in the admin, move the idea on and ship it with a changelog entry, and every voter is
notified in their own language; Huadong's private co-development board is invisible to a third
organisation on every page it could reach."""

import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from playwright.sync_api import expect
from wagtail.models import Page

from beta_program.boards import actions
from beta_program.boards.changelog import ChangelogEntryPage, ChangelogIdea, ChangelogIndexPage
from beta_program.boards.models import Board, Idea, IdeaMerge, IdeaStatus, Visibility, Vote
from beta_program.boards.status_actions import change_status
from portal.models import Notification, Role
from portal.permissions import act_for_staff
from portal.staff_roles import StaffRole
from tests.conftest import _staff
from tests.e2e.conftest import ARTIFACTS, _restore_wagtail_rows
from tests.e2e.test_journeys import sign_in, staff_page, url
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TITLE = "Export the carbon report as CSV per site"


def _person(email, organisation, role=Role.MEMBER, **extra):
    person = UserFactory(email=email, **extra)
    MembershipFactory(user=person, organisation=organisation, role=role)
    return person


def _context(browser, locale="en-GB"):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale)
    context.set_default_timeout(30_000)
    return context.new_page()


def test_propose_vote_merge_ship_and_everyone_hears_in_their_language(
    live_server, browser, page, snap
):
    # given: Nordwind (Anna, Jonas), Huadong (Li reads Chinese), a third customer (Eve), product
    # staff with their second factor, the public board, and Li's earlier Chinese duplicate
    _restore_wagtail_rows()
    nordwind = OrganisationFactory(slug="nordwind", name="Nordwind Energie", country="DE")
    huadong = OrganisationFactory(slug="huadong-pv", name="华东光伏", country="CN")
    baltic = OrganisationFactory(slug="baltic", name="Baltic Wind", country="LT")
    anna = _person("anna@nordwind.example", nordwind, Role.ADMIN, first_name="Anna")
    jonas = _person("jonas@nordwind.example", nordwind, first_name="Jonas")
    li = _person("li@huadong.example", huadong, Role.ADMIN, first_name="伟", last_name="李")
    li.preferred_language = "zh-hans"
    li.save()
    eve = _person("eve@baltic.example", baltic, Role.ADMIN, first_name="Eve")
    product = _staff("pm@greenloop.example", StaffRole.PRODUCT, first_name="Pia")
    secret = generate_totp_secret()
    TOTP.activate(product, secret)
    board = Board.objects.create(name="Product ideas", name_zh="产品创意", slug="product-ideas")
    duplicate = actions.propose(
        board, huadong, li, actions.Proposal(title="导出碳报告为 CSV", problem="审计需要表格。")
    )
    actions.vote(duplicate, huadong, li, 3, "审计要求")
    codev = Board.objects.create(
        name="Huadong co-development", slug="huadong-codev", visibility=Visibility.PRIVATE
    )
    codev.organisations.set([huadong])
    codev.save()
    secret_idea = actions.propose(
        codev, huadong, li, actions.Proposal(title="储能削峰调度联合试点", problem="保密计划")
    )

    # when: Anna proposes the idea on the board; a similar idea is suggested while she types
    sign_in(page, live_server, anna.email)
    page.goto(live_server.url + "/o/nordwind/ideas/b/product-ideas/")
    page.get_by_role("link", name="Propose an idea").first.click()
    page.get_by_label("Title").fill("Carbon report CSV")
    expect(page.locator("body")).to_contain_text("导出碳报告为 CSV")
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Problem").fill("Auditors want the figures per plant in a spreadsheet.")
    snap("boards-propose")
    page.get_by_role("button", name="Propose the idea").click()
    expect(page).to_have_url(re.compile(r"/o/nordwind/ideas/\d+/$"))
    idea = Idea.objects.get(title=TITLE)
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)

    # and: Jonas (Nordwind) votes "critical", Li (Huadong, in Chinese) votes "important"
    jonas_page = _context(browser)
    sign_in(jonas_page, live_server, jonas.email)
    jonas_page.goto(live_server.url + f"/o/nordwind/ideas/{idea.pk}/")
    jonas_page.get_by_label("Critical").check()
    jonas_page.get_by_label("Why it matters").fill("Quarterly audit")
    jonas_page.get_by_role("button", name="Vote", exact=True).click()
    expect(jonas_page.locator("body")).to_contain_text("You voted: Critical.")
    jonas_page.context.close()
    li_page = _context(browser)  # the sign-in page in English; her stored choice applies after
    sign_in(li_page, live_server, li.email)
    li_page.goto(live_server.url + f"/o/huadong-pv/ideas/{idea.pk}/")
    expect(li_page.locator("html")).to_have_attribute("lang", "zh-hans")
    li_page.get_by_label("重要", exact=True).check()
    li_page.get_by_role("button", name="投票", exact=True).click()
    expect(li_page.locator("body")).to_contain_text("重要")
    li_page.screenshot(path=str(ARTIFACTS / "boards-voted-zh.png"), full_page=True)
    idea.refresh_from_db()
    assert (idea.vote_count, idea.organisation_count) == (2, 2)

    # when: product staff merge Li's Chinese duplicate into it in the admin
    admin = staff_page(browser, live_server, product.email, secret)
    admin.goto(live_server.url + f"/admin/idea-merges/idea/{duplicate.pk}/")
    admin.get_by_label("Primary idea (#)").fill(str(idea.pk))
    admin.get_by_role("button", name="Show what will move").click()
    admin.get_by_role("button", name=f"Merge into #{idea.pk}").click()
    expect(admin.locator("body")).to_contain_text("Undo")
    admin.context.close()
    merge = IdeaMerge.objects.get(duplicate=duplicate, primary=idea)
    assert merge.undone_at is None
    # Li voted on both: one vote counted, the stronger ("critical" on the duplicate) kept
    counted = Vote.objects.filter(idea=idea, suppressed_by__isnull=True)
    assert sorted((v.voter.email, v.importance) for v in counted) == [
        ("jonas@nordwind.example", 3),
        ("li@huadong.example", 3),
    ]
    page.goto(live_server.url + f"/o/nordwind/ideas/{duplicate.pk}/")
    expect(page).to_have_url(url(live_server, f"/o/nordwind/ideas/{idea.pk}/"))

    # when: they plan it, build it, and publish a changelog entry that ships it
    staff = act_for_staff(product)
    for key in ("planned", "in_progress"):
        change_status(idea, IdeaStatus.objects.get(key=key), staff)
    home = Page.objects.get(depth=2, slug="home")
    changelog = ChangelogIndexPage(title="Changelog", title_zh="更新日志", slug="changelog")
    home.add_child(instance=changelog)
    changelog.save_revision(user=staff).publish(user=staff, skip_permission_checks=True)
    entry = ChangelogEntryPage(
        title="Release 4.2",
        title_zh="4.2 版",
        slug="release-4-2",
        body="<p>CSV export per site.</p>",
        body_zh="<p>可按站点导出 CSV。</p>",
        live=False,
    )
    entry.shipped_ideas = [ChangelogIdea(idea=idea)]
    changelog.add_child(instance=entry)
    entry.save_revision(user=staff).publish(user=staff, skip_permission_checks=True)
    idea.refresh_from_db()
    assert idea.status.key == "shipped"

    # then: every voter and the author hears of it, with the entry's link, in their language
    shipped = Notification.objects.filter(kind="boards.status_changed", params__changelog=True)
    assert set(shipped.values_list("recipient__email", flat=True)) == {
        "anna@nordwind.example",
        "jonas@nordwind.example",
        "li@huadong.example",
    }
    assert set(shipped.values_list("link", flat=True)) == {"/changelog/release-4-2/"}
    page.goto(live_server.url + "/notifications/")
    expect(page.locator("body")).to_contain_text(f"“{TITLE}” (#{idea.pk}) has shipped")
    li_page.goto(live_server.url + "/notifications/")
    expect(li_page.locator("body")).to_contain_text("已发布：查看更新内容")
    li_page.get_by_text("已发布：查看更新内容").first.click()
    expect(li_page.locator("body")).to_contain_text("可按站点导出 CSV。")
    li_page.screenshot(path=str(ARTIFACTS / "boards-changelog-zh.png"), full_page=True)
    li_page.context.close()

    # then: Huadong's co-development board does not exist for Eve (Baltic) anywhere
    eve_page = _context(browser)
    sign_in(eve_page, live_server, eve.email)
    for path in (
        "/o/baltic/ideas/",
        "/o/baltic/ideas/roadmap/",
        "/o/baltic/ideas/b/product-ideas/",
    ):
        eve_page.goto(live_server.url + path)
        expect(eve_page.locator("body")).not_to_contain_text("储能削峰调度联合试点")
        expect(eve_page.locator("body")).not_to_contain_text("Huadong co-development")
    for path in (
        f"/o/baltic/ideas/{secret_idea.pk}/",
        f"/ideas/{secret_idea.pk}/",
        "/o/baltic/ideas/b/huadong-codev/",
        f"/o/baltic/ideas/{secret_idea.pk}/co-development/",
        f"/o/baltic/ideas/b/product-ideas/similar/?q={'储能削峰'}",
    ):
        response = eve_page.goto(live_server.url + path)
        assert response.status in (200, 404), path
        expect(eve_page.locator("body")).not_to_contain_text("储能削峰调度联合试点")
    eve_page.goto(live_server.url + "/notifications/")
    expect(eve_page.locator("body")).not_to_contain_text("储能")
    assert not Notification.objects.filter(recipient=eve).exists()
    eve_page.context.close()
