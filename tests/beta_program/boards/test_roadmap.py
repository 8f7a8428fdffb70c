"""The roadmap: columns by status (the roadmap statuses in workflow order) or by planned
quarter, the ideas the person sees only (a private board's idea never reaches another
organisation), capped per column with a "more" link, in a bounded number of queries."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from beta_program.boards.models import Idea, IdeaStatus
from beta_program.boards.views_roadmap import quarter_starts


def _move(idea: Idea, key: str, **fields) -> None:
    Idea.objects.filter(pk=idea.pk).update(status=IdeaStatus.objects.get(key=key), **fields)


def _columns(html: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", title).strip()
        for title in re.findall(r"<h2 id=\"roadmap-[^\"]+\">([^<]*)<", html)
    ]


def test_status_columns_in_workflow_order_with_their_ideas(
    client, public_board, org_a, admin_a, propose
):
    # given one idea per roadmap status and one still new
    reviewed = propose(public_board, org_a, admin_a, title="Reviewed idea")
    planned = propose(public_board, org_a, admin_a, title="Planned idea")
    building = propose(public_board, org_a, admin_a, title="Idea being built")
    propose(public_board, org_a, admin_a, title="Brand new idea")
    _move(reviewed, "under_review")
    _move(planned, "planned")
    _move(building, "in_progress")
    client.force_login(admin_a)

    # when
    response = client.get("/o/acme/ideas/roadmap/")

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert _columns(html) == ["Under review", "Planned", "In progress", "Shipped"]
    sections = html.split('class="roadmap-column"')[1:]
    assert "Reviewed idea" in sections[0]
    assert "Planned idea" in sections[1]
    assert "Idea being built" in sections[2]
    assert "Brand new idea" not in html
    assert "0 votes" in sections[0]
    assert "0 organisations" in sections[0]
    # and each filter's label keeps to its select (on a phone "Columns" ended a line, its select
    # began the next)
    for name, label in (("board", "Board"), ("view", "Columns")):
        assert re.search(
            rf'<span class="roadmap-filter"><label for="roadmap-{name}">{label}</label>\s*'
            rf'<select id="roadmap-{name}"',
            html,
        )


def test_the_roadmap_answers_at_its_url_name(client, org_a, admin_a):
    assert reverse("beta:ideas_roadmap", kwargs={"org_slug": "acme"}) == "/o/acme/ideas/roadmap/"


def test_a_private_boards_idea_is_absent_from_another_organisations_roadmap(
    client, public_board, private_board, org_a, org_b, admin_a, admin_b, propose
):
    # given a planned idea on Acme's private board and one on the public board
    secret = propose(private_board, org_a, admin_a, title="Acme secret inverter")
    shared = propose(public_board, org_a, admin_a, title="Shared CSV export")
    _move(secret, "planned", planned_quarter=quarter_starts(timezone.localdate())[0])
    _move(shared, "planned")

    # when Globex looks through its own URL, by status and by quarter
    client.force_login(admin_b)
    by_status = client.get("/o/globex/ideas/roadmap/").content.decode()
    by_quarter = client.get("/o/globex/ideas/roadmap/?view=quarter").content.decode()

    # then only the public idea is there, and the private board cannot be filtered on
    assert "Shared CSV export" in by_status
    assert "Acme secret inverter" not in by_status
    assert "Acme secret inverter" not in by_quarter
    assert client.get("/o/globex/ideas/roadmap/?board=acme-codev").status_code == 404
    # and Acme sees its own
    client.force_login(admin_a)
    assert "Acme secret inverter" in client.get("/o/acme/ideas/roadmap/").content.decode()
    only_private = client.get("/o/acme/ideas/roadmap/?board=acme-codev").content.decode()
    assert "Acme secret inverter" in only_private
    assert "Shared CSV export" not in only_private


def test_quarter_view_columns(client, public_board, org_a, admin_a, propose):
    # given ideas planned this quarter, in two quarters, in a year and a half, and unscheduled
    today = timezone.localdate()
    starts = quarter_starts(today, 7)
    for title, quarter in [
        ("Due now", starts[0]),
        ("Overdue idea", datetime.date(2020, 1, 1)),
        ("In two quarters", starts[2]),
        ("Far away", starts[6]),
        ("Not scheduled", None),
    ]:
        _move(
            propose(public_board, org_a, admin_a, title=title), "planned", planned_quarter=quarter
        )
    shipped = propose(public_board, org_a, admin_a, title="Already shipped")
    _move(shipped, "shipped", planned_quarter=starts[0])
    client.force_login(admin_a)

    # when
    html = client.get("/o/acme/ideas/roadmap/?view=quarter").content.decode()

    # then
    def label(start: datetime.date) -> str:
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"

    assert _columns(html) == [label(s) for s in starts[:4]] + ["Later", "Unscheduled"]
    sections = html.split('class="roadmap-column"')[1:]
    assert "Due now" in sections[0]
    assert "Overdue idea" in sections[0]
    assert "In two quarters" in sections[2]
    assert "Far away" in sections[4]
    assert "Not scheduled" in sections[5]
    assert "Already shipped" not in html


def test_quarter_starts_roll_over_the_year():
    assert quarter_starts(datetime.date(2026, 11, 17)) == [
        datetime.date(2026, 10, 1),
        datetime.date(2027, 1, 1),
        datetime.date(2027, 4, 1),
        datetime.date(2027, 7, 1),
    ]


@pytest.mark.parametrize("view", ["", "?view=quarter"])
def test_forty_ideas_cost_a_bounded_number_of_queries_and_columns_are_capped(
    client, public_board, org_a, admin_a, propose, django_assert_max_num_queries, view
):
    # given 40 planned ideas
    for number in range(40):
        _move(propose(public_board, org_a, admin_a, title=f"Idea number {number}"), "planned")
    client.force_login(admin_a)

    # when
    with django_assert_max_num_queries(14):
        response = client.get(f"/o/acme/ideas/roadmap/{view}")

    # then the column shows the 8 most recently active and links to the rest
    html = response.content.decode()
    assert html.count('class="card roadmap-card"') == 8
    if not view:
        assert "/o/acme/ideas/?status=planned" in html
        assert "32 more" in html
    else:
        assert "and 32 more" in html
