"""The R&D boards' staff screens in the Wagtail admin: product staff configure boards (with
categories), tags and the status workflow, read the ideas and move them along the workflow;
customer success reads but changes nothing; customers are sent to sign in. (Staff without a
second factor are refused by the portal: the admin screens walk, tests/authz.py, covers these
screens.)"""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse

from beta_program.boards import actions
from beta_program.boards.models import (
    Board,
    Category,
    Idea,
    IdeaStatus,
    IdeaStatusChange,
    Tag,
)
from beta_program.boards.status_actions import change_status
from portal.models import AuditEvent, Notification


def _status(key: str) -> IdeaStatus:
    return IdeaStatus.objects.get(key=key)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def _board_form(**fields) -> dict:
    data = {
        "name": "Pump co-development",
        "name_zh": "水泵联合开发",
        "slug": "pump-codev",
        "description": "Next year's pump controller.",
        "description_zh": "",
        "visibility": "private",
        "nda_programme": "",
        "categories-TOTAL_FORMS": "2",
        "categories-INITIAL_FORMS": "0",
        "categories-MIN_NUM_FORMS": "0",
        "categories-MAX_NUM_FORMS": "1000",
        "categories-0-name": "Firmware",
        "categories-0-name_zh": "固件",
        "categories-0-ORDER": "1",
        "categories-0-id": "",
        "categories-0-DELETE": "",
        "categories-1-name": "Hardware",
        "categories-1-name_zh": "硬件",
        "categories-1-ORDER": "2",
        "categories-1-id": "",
        "categories-1-DELETE": "",
    }
    data.update(fields)
    return data


# --- boards


def test_product_staff_create_a_private_board_with_categories(client, product, org_a, org_b):
    client.force_login(product)
    url = reverse("idea_boards:add")
    # a private board with nobody invited is refused on the organisations field
    response = client.post(url, _board_form())
    assert response.status_code == 200
    assert response.context["form"].errors["organisations"] == [
        "A private board needs at least one organisation: tick who takes part."
    ]
    assert not Board.objects.exists()
    response = client.post(url, _board_form(organisations=[str(org_a.pk)]))
    assert response.status_code == 302
    board = Board.objects.get(slug="pump-codev")
    assert board.visibility == "private"
    assert list(board.organisations.all()) == [org_a]
    assert [(c.name, c.name_zh) for c in board.categories.all()] == [
        ("Firmware", "固件"),
        ("Hardware", "硬件"),
    ]
    created = AuditEvent.objects.get(action="beta_program.board_created")
    assert created.actor == product
    assert created.details["slug"] == "pump-codev"
    # the list shows it with who sees it
    response = client.get(reverse("idea_boards:index"))
    assert response.status_code == 200
    assert org_a.name in response.content.decode()


def test_a_board_with_ideas_is_archived_not_deleted(
    client, product, public_board, org_a, admin_a, propose
):
    empty = Board.objects.create(name="Old ideas", slug="old-ideas")
    propose(public_board, org_a, admin_a)
    client.force_login(product)
    url = reverse("idea_boards:delete", args=(public_board.pk,))
    for method in ("get", "post"):
        response = getattr(client, method)(url, follow=True)
        assert response.redirect_chain[-1][0] == f"/admin/idea_boards/edit/{public_board.pk}/"
        assert "This board holds ideas: archive it instead of deleting it." in _messages(response)
    assert Board.objects.filter(pk=public_board.pk).exists()
    # an empty board goes
    assert client.post(reverse("idea_boards:delete", args=(empty.pk,))).status_code == 302
    assert not Board.objects.filter(pk=empty.pk).exists()


# --- tags


def test_product_staff_curate_tags(client, product):
    client.force_login(product)
    response = client.post(
        reverse("idea_tags:add"), {"name": "Reporting", "name_zh": "报表", "slug": "reporting"}
    )
    assert response.status_code == 302
    tag = Tag.objects.get(slug="reporting")
    response = client.post(
        reverse("idea_tags:edit", args=(tag.pk,)),
        {"name": "Reports", "name_zh": "报表", "slug": "reporting"},
    )
    assert response.status_code == 302
    tag.refresh_from_db()
    assert (tag.name, tag.name_zh) == ("Reports", "报表")
    assert AuditEvent.objects.filter(action="beta_program.tag_changed").count() == 1


# --- the status workflow


def _status_form(status: IdeaStatus | None = None, **fields) -> dict:
    data = {"name": "Parked", "name_zh": "搁置", "key": "parked", "position": "55", "kind": "open"}
    if status is not None:
        data = {
            "name": status.name,
            "name_zh": status.name_zh,
            "key": status.key,
            "position": str(status.position),
            "kind": status.kind,
            "allowed_next": [str(pk) for pk in status.allowed_next.values_list("pk", flat=True)],
        }
        for flag in ("is_initial", "requires_note", "on_roadmap"):
            if getattr(status, flag):
                data[flag] = "on"
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def test_the_workflow_is_listed_in_order_with_readable_flags(client, product):
    client.force_login(product)
    response = client.get(reverse("idea_statuses:index"))
    assert response.status_code == 200
    assert [s.key for s in response.context["object_list"]] == [
        "new",
        "under_review",
        "planned",
        "in_progress",
        "shipped",
        "declined",
        "duplicate",
    ]
    page = response.content.decode()
    # yes/no as ticks and crosses titled Yes and No, never Python's True/False
    assert "True" not in page
    assert "False" not in page
    # one initial status, two that need a note, four roadmap columns
    assert len(re.findall(r'w-sr-only">\s*Yes\s*<', page)) == 1 + 2 + 4
    # "may move on to" by name, in workflow order; one without a list says so
    assert "Under review, Planned, Declined, Duplicate" in page


def test_closing_statuses_need_a_note(client, product):
    client.force_login(product)
    response = client.post(reverse("idea_statuses:add"), _status_form(kind="declined"))
    assert response.status_code == 200
    assert response.context["form"].errors["requires_note"] == [
        "Shipped and declined statuses always need a public note."
    ]
    response = client.post(
        reverse("idea_statuses:add"), _status_form(kind="declined", requires_note="on")
    )
    assert response.status_code == 302
    assert IdeaStatus.objects.get(key="parked").requires_note is True


def test_exactly_one_status_is_initial(client, product):
    client.force_login(product)
    new = _status("new")
    review = _status("under_review")
    # ticking another status moves the start there
    response = client.post(
        reverse("idea_statuses:edit", args=(review.pk,)), _status_form(review, is_initial="on")
    )
    assert response.status_code == 302
    assert list(IdeaStatus.objects.filter(is_initial=True).values_list("key", flat=True)) == [
        "under_review"
    ]
    assert IdeaStatus.objects.initial().key == "under_review"
    # the initial status cannot just be unticked
    review.refresh_from_db()
    response = client.post(
        reverse("idea_statuses:edit", args=(review.pk,)), _status_form(review, is_initial=None)
    )
    assert response.status_code == 200
    assert response.context["form"].errors["is_initial"] == [
        "New ideas must start somewhere: make another status the initial one instead."
    ]
    assert IdeaStatus.objects.get(pk=review.pk).is_initial is True
    new.refresh_from_db()
    assert new.is_initial is False


def test_a_status_in_use_is_not_deleted(client, product, public_board, org_a, admin_a, propose):
    propose(public_board, org_a, admin_a)  # an idea in "new"
    spare = IdeaStatus.objects.create(key="parked", name="Parked", kind="open", position=55)
    client.force_login(product)
    planned = _status("planned")
    IdeaStatusChange.objects.create(
        idea=Idea.objects.get(), from_status=_status("new"), to_status=planned
    )
    for status, message in (
        (planned, "Ideas or their history use this status, so it cannot be deleted."),
        (_status("new"), "New ideas start in this status: make another status the initial"),
    ):
        response = client.post(reverse("idea_statuses:delete", args=(status.pk,)), follow=True)
        assert response.status_code == 200
        assert any(m.startswith(message) for m in _messages(response)), _messages(response)
        assert IdeaStatus.objects.filter(pk=status.pk).exists()
    assert client.post(reverse("idea_statuses:delete", args=(spare.pk,))).status_code == 302
    assert not IdeaStatus.objects.filter(pk=spare.pk).exists()


# --- ideas


@pytest.fixture
def ideas(public_board, private_board, org_a, org_b, admin_a, admin_b, propose):
    reporting = Tag.objects.create(name="Reporting", name_zh="报表", slug="reporting")
    made = [
        propose(public_board, org_a, admin_a, title=f"Idea number {n}", problem=f"Problem {n}")
        for n in range(11)
    ]
    secret = propose(private_board, org_a, admin_a, title="Secret pump controller")
    made[3].tags.add(reporting)
    actions.vote(made[3], org_b, admin_b, 3)
    return made, secret


def test_staff_list_filters_and_searches_ideas(
    client, product, ideas, private_board, django_assert_max_num_queries
):
    made, secret = ideas
    client.force_login(product)
    url = reverse("idea_admin:index")
    with django_assert_max_num_queries(40):
        response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Idea number 10" in page
    assert "Secret pump controller" in page
    rows = lambda response: {i.pk for i in response.context["object_list"]}  # noqa: E731
    assert rows(client.get(url, {"board": private_board.pk})) == {secret.pk}
    assert rows(client.get(url, {"tag": Tag.objects.get().pk})) == {made[3].pk}
    assert len(rows(client.get(url, {"status": _status("new").pk}))) == 12
    assert rows(client.get(url, {"q": "pump"})) == {secret.pk}


def test_inspect_shows_the_idea_as_staff_read_it(
    client, product, public_board, org_a, admin_a, propose
):
    idea = propose(
        public_board,
        org_a,
        admin_a,
        title="Export",
        problem="We **copy** by hand <script>alert(1)</script>",
    )
    change_status(idea, _status("planned"), product, note="Next quarter.", note_zh="下季度。")
    client.force_login(product)
    response = client.get(reverse("idea_admin:inspect", args=(idea.pk,)))
    page = response.content.decode()
    assert "<strong>copy</strong>" in page
    assert "<script>alert(1)</script>" not in page
    assert "New → Planned" in page
    assert "Next quarter." in page
    assert "下季度。" in page
    assert reverse("idea_admin:change_status", args=(idea.pk,)) in page
    assert reverse("idea_admin:classify", args=(idea.pk,)) in page


def test_changing_status_in_the_admin_notifies_voters(
    client, product, public_board, org_a, org_b, admin_a, admin_b, member_a, propose
):
    idea = propose(public_board, org_a, admin_a, title="Carbon per SKU")
    actions.vote(idea, org_b, admin_b, 3)
    actions.vote(idea, org_a, member_a, 1)
    client.force_login(product)
    url = reverse("idea_admin:change_status", args=(idea.pk,))
    form = client.get(url).context["form"]
    # only the moves the workflow allows from "new"
    assert [s.key for s in form.fields["status"].queryset] == [
        "under_review",
        "planned",
        "declined",
        "duplicate",
    ]
    response = client.post(url, {"status": _status("planned").pk, "note": "", "note_zh": ""})
    assert response.status_code == 302
    assert response["Location"] == reverse("idea_admin:inspect", args=(idea.pk,))
    idea.refresh_from_db()
    assert idea.status.key == "planned"
    change = IdeaStatusChange.objects.get(idea=idea)
    assert (change.from_status.key, change.to_status.key, change.changed_by) == (
        "new",
        "planned",
        product,
    )
    assert set(Notification.objects.values_list("recipient_id", flat=True)) == {
        admin_a.pk,
        admin_b.pk,
        member_a.pk,
    }


def test_declining_without_a_note_shows_the_error_on_the_note(
    client, product, public_board, org_a, admin_a, propose
):
    idea = propose(public_board, org_a, admin_a)
    client.force_login(product)
    url = reverse("idea_admin:change_status", args=(idea.pk,))
    response = client.post(url, {"status": _status("declined").pk, "note": " ", "note_zh": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["note"] == [
        "Moving an idea to Declined needs a public note for its voters."
    ]
    idea.refresh_from_db()
    assert idea.status.key == "new"
    assert not IdeaStatusChange.objects.exists()
    # a move the workflow does not allow is not offered at all
    response = client.post(url, {"status": _status("shipped").pk, "note": "Done"})
    assert response.status_code == 200
    assert "status" in response.context["form"].errors
    response = client.post(url, {"status": _status("declined").pk, "note": "Out of scope."})
    assert response.status_code == 302
    idea.refresh_from_db()
    assert idea.status.key == "declined"


def test_classify_sets_tags_category_and_the_quarter_start(
    client, product, public_board, private_board, org_a, admin_a, propose
):
    idea = propose(public_board, org_a, admin_a)
    tag = Tag.objects.create(name="Reporting", slug="reporting")
    mine = Category.objects.create(board=public_board, name="Dashboards")
    foreign = Category.objects.create(board=private_board, name="Pumps")
    client.force_login(product)
    url = reverse("idea_admin:classify", args=(idea.pk,))
    # a category of another board is not a choice
    response = client.post(url, {"tags": [tag.pk], "category": foreign.pk})
    assert response.status_code == 200
    assert "category" in response.context["form"].errors
    response = client.post(
        url, {"tags": [tag.pk], "category": mine.pk, "planned_quarter": "2027-05-17"}
    )
    assert response.status_code == 302
    idea.refresh_from_db()
    assert list(idea.tags.all()) == [tag]
    assert idea.category == mine
    assert idea.planned_quarter == datetime.date(2027, 4, 1)
    assert idea.quarter_label == "2027 Q2"
    event = AuditEvent.objects.get(action="boards.idea_classified")
    assert event.details == {
        "tags": ["reporting"],
        "category_id": mine.pk,
        "planned_quarter": "2027-04-01",
    }


# --- who may do what


def test_customer_success_reads_but_changes_nothing(
    client, staff_success, public_board, org_a, admin_a, propose
):
    idea = propose(public_board, org_a, admin_a)
    client.force_login(staff_success)
    for name in ("idea_admin:index", "idea_boards:index", "idea_tags:index", "idea_statuses:index"):
        assert client.get(reverse(name)).status_code == 200, name
    inspect = client.get(reverse("idea_admin:inspect", args=(idea.pk,)))
    assert inspect.status_code == 200
    assert reverse("idea_admin:change_status", args=(idea.pk,)) not in inspect.content.decode()
    # Wagtail answers a refused admin screen by sending the user to the dashboard
    refused = [
        client.post(
            reverse("idea_admin:change_status", args=(idea.pk,)),
            {"status": _status("planned").pk},
        ),
        client.post(reverse("idea_admin:classify", args=(idea.pk,)), {}),
        client.post(reverse("idea_boards:edit", args=(public_board.pk,)), _board_form()),
        client.post(reverse("idea_boards:add"), _board_form(slug="other")),
        client.post(reverse("idea_tags:add"), {"name": "X", "slug": "x"}),
        client.post(reverse("idea_statuses:delete", args=(_status("duplicate").pk,))),
    ]
    assert [r["Location"] for r in refused] == ["/admin/"] * len(refused)
    idea.refresh_from_db()
    assert idea.status.key == "new"
    assert Board.objects.count() == 1
    assert not Tag.objects.exists()
    assert IdeaStatus.objects.filter(key="duplicate").exists()


def test_customers_are_sent_to_sign_in(client, admin_a, public_board, org_a, propose):
    idea = propose(public_board, org_a, admin_a)
    client.force_login(admin_a)
    for url in (
        reverse("idea_admin:index"),
        reverse("idea_admin:inspect", args=(idea.pk,)),
        reverse("idea_admin:change_status", args=(idea.pk,)),
        reverse("idea_boards:index"),
        reverse("idea_statuses:index"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url


def test_product_staff_see_the_menu_group(client, product):
    client.force_login(product)
    page = client.get(reverse("wagtailadmin_home")).content.decode()
    # the sidebar menu is JSON in the page
    assert "R\\u0026D boards" in page


def test_configuration_lists_run_a_bounded_number_of_queries(
    client, product, org_a, org_b, django_assert_max_num_queries
):
    for n in range(12):
        board = Board.objects.create(name=f"Board {n:02}", slug=f"board-{n}", visibility="private")
        board.organisations.set([org_a, org_b])
        board.save()
        Tag.objects.create(name=f"Tag {n:02}", slug=f"tag-{n}")
        IdeaStatus.objects.create(key=f"extra-{n}", name=f"Extra {n}", kind="open", position=70 + n)
    client.force_login(product)
    for name, rows in (
        ("idea_boards:index", 12),
        ("idea_tags:index", 12),
        ("idea_statuses:index", 19),
    ):
        with django_assert_max_num_queries(40):
            response = client.get(reverse(name))
        assert response.status_code == 200
        assert len(response.context["object_list"]) == rows, name
    page = client.get(reverse("idea_boards:index")).content.decode()
    assert f"{org_a.name}, {org_b.name}" in page or f"{org_b.name}, {org_a.name}" in page


def test_a_merged_duplicate_is_moved_through_its_primary(
    client, product, public_board, org_a, admin_a, propose
):
    primary = propose(public_board, org_a, admin_a, title="Export as CSV")
    duplicate = propose(public_board, org_a, admin_a, title="CSV download")
    Idea.objects.filter(pk=duplicate.pk).update(merged_into=primary)
    client.force_login(product)
    inspect = client.get(reverse("idea_admin:inspect", args=(duplicate.pk,))).content.decode()
    assert reverse("idea_admin:change_status", args=(duplicate.pk,)) not in inspect
    response = client.post(
        reverse("idea_admin:change_status", args=(duplicate.pk,)),
        {"status": _status("planned").pk},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"/admin/idea_admin/inspect/{duplicate.pk}/"
    assert _messages(response) == [f"This idea was merged into #{primary.pk}; change that one."]
    assert not IdeaStatusChange.objects.exists()
