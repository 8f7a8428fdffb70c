"""The beta wing's demo data, seeded once for the module: feedback on the confidential firmware
beta (reports in several triage states, one past its triage SLA), and the R&D boards (a public
product-ideas board with a dozen ideas from both demo customers, Huadong's in Chinese, voted on
by people of both organisations in several workflow states; Huadong's private co-development
board, invisible to Nordwind); a second seed adds nothing."""

from __future__ import annotations

import io

from django.core.management import call_command

from beta_program.boards.access import ideas_for
from beta_program.boards.models import Board, Idea, Vote
from beta_program.programmes import sla
from beta_program.programmes.feedback_models import Feedback
from portal.models import Notification, Organisation, OutboxEvent, User


def test_the_demo_holds_reports_in_several_triage_states(demo_seed):
    reports = Feedback.objects.filter(programme__slug="storage-controller-fw-4")
    assert sorted(reports.values_list("status", flat=True)) == [
        "confirmed",
        "fixed",
        "needs_info",
        "new",
    ]
    assert set(reports.values_list("reporter__email", flat=True)) == {
        "anna.schmidt@nordwind.example"
    }
    fixed = reports.get(status="fixed")
    assert fixed.status_label() == "Fixed in build 4.0.0-beta.3"
    assert [r.title for r in reports.filter(sla.overdue_q())] == ["Fan noise louder after update"]
    confirmed = OutboxEvent.objects.filter(type="greenloop.beta.bug_confirmed")
    assert confirmed.count() == 2
    assert all(
        set(e.data) == {"feedback_id", "programme_id", "build_id", "severity"} for e in confirmed
    )
    count, ideas = reports.count(), Idea.objects.count()
    call_command("seed_demo", stdout=io.StringIO())
    assert Feedback.objects.filter(programme__slug="storage-controller-fw-4").count() == count
    assert Idea.objects.count() == ideas


def test_public_board_has_a_dozen_ideas_voted_by_both_customers(demo_seed):
    board = Board.objects.get(slug="product-ideas")
    assert (board.name, board.name_zh) == ("Product ideas", "产品创意")
    ideas = Idea.objects.filter(board=board)
    assert ideas.count() == 12
    assert "监控应用增加离线模式" in set(ideas.values_list("title", flat=True))
    assert set(
        Vote.objects.filter(idea__board=board).values_list("organisation__slug", flat=True)
    ) == {
        "huadong-pv",
        "nordwind",
    }
    assert sorted(set(ideas.values_list("status__key", flat=True))) == [
        "declined",
        "in_progress",
        "new",
        "planned",
        "shipped",
        "under_review",
    ]
    tariff = ideas.get(title="储能控制器支持峰谷电价策略")
    assert (tariff.vote_count, tariff.organisation_count, tariff.importance_total) == (4, 2, 10)
    shipped = ideas.get(status__key="shipped")
    change = shipped.status_changes.get(to_status__key="shipped")
    # shipped by the demo's changelog entry, which every voter was told about with its link
    assert change.changelog_page.slug == "monitor-app-3-0"
    told = Notification.objects.filter(params__idea_id=shipped.pk, params__changelog=True)
    assert set(told.values_list("link", flat=True)) == {"/changelog/monitor-app-3-0/"}
    assert told.count() == 3


def test_huadong_codev_board_is_invisible_to_nordwind(demo_seed):
    huadong = Organisation.objects.get(slug="huadong-pv")
    nordwind = Organisation.objects.get(slug="nordwind")
    anna = User.objects.get(email="anna.schmidt@nordwind.example")
    li = User.objects.get(email="li.wei@huadong.example")
    secret = Idea.objects.get(board__slug="huadong-codev")
    assert not ideas_for(anna, nordwind).filter(pk=secret.pk).exists()
    assert ideas_for(li, huadong).filter(pk=secret.pk).exists()
    assert list(secret.co_owners.values_list("slug", flat=True)) == ["huadong-pv"]
    assert secret.milestones.count() == 3
    assert secret.documents.get().content_type == "application/pdf"
    # Its status changes reached Huadong's people and nobody at Nordwind.
    told = secret.pk
    assert li.portal_notifications.filter(params__idea_id=told).exists()
    assert not anna.portal_notifications.filter(params__idea_id=told).exists()
