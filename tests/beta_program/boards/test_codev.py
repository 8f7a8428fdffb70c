"""Co-development on a private board: product staff choose co-owners among the board's
organisations; co-owners' members and product staff keep milestones; the board's members share
documents (PDF or image, checked by content) that only the board's organisations and the vendor
team can download. A third party gets 404 through its own URLs, and nothing is written."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from beta_program.boards import codev_actions
from beta_program.boards.exceptions import BoardError, IdeaRefused
from beta_program.boards.models import Milestone, SharedDocument
from portal.exceptions import PermissionDeniedError
from portal.models import AuditEvent

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _pdf(name="spec.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture
def codev_idea(private_board, org_a, org_b, admin_a, propose):
    # The board has two taking part: Acme (org_a) and, here, Globex is NOT one of them.
    return propose(private_board, org_a, admin_a, title="Pump controller v2")


def _url(name, org, idea, **extra):
    return reverse(name, kwargs={"org_slug": org.slug, "idea_id": idea.pk, **extra})


def test_product_staff_choose_co_owners_among_the_boards_organisations(
    codev_idea, org_a, org_b, product, admin_a
):
    codev_actions.set_co_owners(codev_idea, [org_a], product)
    assert list(codev_idea.co_owners.all()) == [org_a]
    with pytest.raises(IdeaRefused) as refused:
        codev_actions.set_co_owners(codev_idea, [org_b], product)
    assert refused.value.field == "co_owners"
    assert "Globex Power does not take part in this board." in refused.value.message
    with pytest.raises(PermissionDeniedError):
        codev_actions.set_co_owners(codev_idea, [org_a], admin_a)


def test_public_board_ideas_have_no_co_development(public_board, org_a, admin_a, product, propose):
    idea = propose(public_board, org_a, admin_a)
    with pytest.raises(BoardError):
        codev_actions.set_co_owners(idea, [org_a], product)


def test_co_owners_and_staff_keep_milestones_viewers_do_not(
    codev_idea, org_a, admin_a, viewer_a, product
):
    with pytest.raises(PermissionDeniedError):
        codev_actions.add_milestone(
            codev_idea, org_a, admin_a, title="Prototype", due_on=dt.date(2027, 3, 1)
        )
    codev_actions.set_co_owners(codev_idea, [org_a], product)
    milestone = codev_actions.add_milestone(
        codev_idea, org_a, admin_a, title="Prototype", title_zh="样机", due_on=dt.date(2027, 3, 1)
    )
    with pytest.raises(PermissionDeniedError):
        codev_actions.update_milestone(
            milestone, org_a, viewer_a, status="done", due_on=dt.date(2027, 3, 1)
        )
    codev_actions.update_milestone(
        milestone, None, product, status="done", due_on=dt.date(2027, 3, 1)
    )
    milestone.refresh_from_db()
    assert milestone.status == "done"
    assert milestone.completed_on is not None
    with pytest.raises(IdeaRefused) as refused:
        codev_actions.add_milestone(codev_idea, org_a, admin_a, title="", due_on=None)
    assert refused.value.field == "title"


def test_shared_document_is_checked_by_content(codev_idea, org_a, member_a):
    with pytest.raises(IdeaRefused) as refused:
        codev_actions.share_document(
            codev_idea, org_a, member_a, _pdf("evil.pdf", b"<script>alert(1)</script>")
        )
    assert refused.value.field == "file"
    document = codev_actions.share_document(codev_idea, org_a, member_a, _pdf(), title="Spec v1")
    assert document.sha256 == hashlib.sha256(PDF).hexdigest()
    assert (document.title, document.name, document.size) == ("Spec v1", "spec.pdf", len(PDF))
    assert re.fullmatch(
        rf"boards/documents/{codev_idea.pk}/[0-9a-f]{{32}}/spec\.pdf", document.file.name
    )
    assert AuditEvent.objects.filter(action="boards.document_shared").count() == 1


def test_page_and_download_for_the_board_only(
    client, codev_idea, org_a, org_b, member_a, admin_b, product
):
    document = codev_actions.share_document(codev_idea, org_a, member_a, _pdf(), title="Spec v1")
    client.force_login(member_a)
    page = client.get(_url("beta:idea_codev", org_a, codev_idea))
    assert page.status_code == 200
    assert "Spec v1" in page.content.decode()
    download = client.get(_url("beta:idea_document", org_a, codev_idea, document_id=document.pk))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["X-Content-Type-Options"] == "nosniff"
    # The third party, through its OWN organisation's URLs, finds nothing, and writes nothing.
    client.force_login(admin_b)
    assert client.get(_url("beta:idea_codev", org_b, codev_idea)).status_code == 404
    assert (
        client.get(
            _url("beta:idea_document", org_b, codev_idea, document_id=document.pk)
        ).status_code
        == 404
    )
    before = (Milestone.objects.count(), SharedDocument.objects.count())
    posted = client.post(
        _url("beta:idea_milestone_add", org_b, codev_idea),
        {"title": "Leak", "due_on": "2027-01-01"},
    )
    assert posted.status_code == 404
    posted = client.post(
        _url("beta:idea_document_share", org_b, codev_idea), {"file": _pdf("leak.pdf")}
    )
    assert posted.status_code == 404
    assert (Milestone.objects.count(), SharedDocument.objects.count()) == before


def test_forms_report_errors_on_their_fields(client, codev_idea, org_a, admin_a, product):
    codev_actions.set_co_owners(codev_idea, [org_a], product)
    client.force_login(admin_a)
    bad_date = client.post(
        _url("beta:idea_milestone_add", org_a, codev_idea), {"title": "X", "due_on": "31.02.2027"}
    )
    assert bad_date.status_code == 422
    assert "Enter a valid date." in bad_date.content.decode()
    bad_file = client.post(
        _url("beta:idea_document_share", org_a, codev_idea),
        {"file": SimpleUploadedFile("x.png", b"not a png", content_type="image/png")},
    )
    assert bad_file.status_code == 422
    assert not SharedDocument.objects.exists()


def test_page_queries_are_bounded(
    client, codev_idea, org_a, member_a, product, django_assert_max_num_queries
):
    codev_actions.set_co_owners(codev_idea, [org_a], product)
    for n in range(15):
        codev_actions.add_milestone(
            codev_idea, None, product, title=f"Step {n}", due_on=dt.date(2027, 1, 1 + n)
        )
        codev_actions.share_document(codev_idea, org_a, member_a, _pdf(f"d{n}.pdf"))
    client.force_login(member_a)
    with django_assert_max_num_queries(25):
        assert client.get(_url("beta:idea_codev", org_a, codev_idea)).status_code == 200
