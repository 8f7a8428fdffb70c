"""Proposing an idea from the board page: the idea with its category, tags and attachments in
one transaction, errors on the field they concern (keeping what was typed), files checked by
content, and the similar-idea suggestions (JSON) shown while the title is typed."""

from __future__ import annotations

import re

from django.core.files.uploadedfile import SimpleUploadedFile

from beta_program.boards.models import Category, Idea, IdeaAttachment, Tag
from tests.factories import png_bytes

URL = "/o/acme/ideas/b/product-ideas/new/"


def png(name: str = "screen.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(4, 4), content_type="image/png")


def test_a_viewer_proposes_an_idea_with_category_tags_and_a_screenshot(
    client, public_board, org_a, viewer_a
):
    # given
    category = Category.objects.create(board=public_board, name="Reports")
    tag = Tag.objects.create(name="Export", slug="export")
    client.force_login(viewer_a)
    assert client.get(URL).status_code == 200
    # when
    response = client.post(
        URL,
        {
            "title": "Export the dashboard as CSV",
            "problem": "We copy numbers by hand every month.",
            "solution": "A **CSV** button.",
            "category": str(category.pk),
            "tags": [str(tag.pk)],
            "attachments": [png()],
        },
    )
    # then
    idea = Idea.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/o/acme/ideas/{idea.pk}/"
    assert (idea.title, idea.board, idea.organisation, idea.author) == (
        "Export the dashboard as CSV",
        public_board,
        org_a,
        viewer_a,
    )
    assert idea.solution == "A **CSV** button."
    assert idea.category == category
    assert list(idea.tags.all()) == [tag]
    attachment = IdeaAttachment.objects.get()
    assert (attachment.idea, attachment.name, attachment.content_type) == (
        idea,
        "screen.png",
        "image/png",
    )
    assert attachment.uploaded_by == viewer_a
    # in private storage, in a random directory of the idea's
    assert re.fullmatch(rf"boards/ideas/{idea.pk}/[0-9a-f]{{32}}/screen\.png", attachment.file.name)


def test_errors_name_the_field_and_keep_what_was_typed(client, public_board, admin_a):
    # given
    Category.objects.create(board=public_board, name="Reports")
    other = Category.objects.create(board_id=public_board.pk, name="Alerts")
    other.board = type(public_board).objects.create(name="Other", slug="other")
    other.save()
    client.force_login(admin_a)
    # when
    missing = client.post(URL, {"title": "", "problem": "Typed by hand, kept."})
    no_problem = client.post(URL, {"title": "Kept title", "problem": "   "})
    foreign_category = client.post(URL, {"title": "T", "problem": "P", "category": str(other.pk)})
    # then
    assert missing.status_code == 200
    assert list(missing.context["form"].errors) == ["title"]
    assert "Typed by hand, kept." in missing.content.decode()
    assert list(no_problem.context["form"].errors) == ["problem"]
    assert 'value="Kept title"' in no_problem.content.decode()
    assert list(foreign_category.context["form"].errors) == ["category"]
    assert Idea.objects.count() == 0


def test_an_attachment_with_a_fake_extension_is_refused_and_nothing_is_stored(
    client, public_board, admin_a
):
    # given a script named as a PNG, and a PNG named as a PDF
    script = SimpleUploadedFile("chart.png", b"#!/bin/sh\nrm -rf /\n", content_type="image/png")
    client.force_login(admin_a)
    # when
    fake = client.post(URL, {"title": "T", "problem": "P", "attachments": [script]})
    renamed = client.post(URL, {"title": "T", "problem": "P", "attachments": [png("a.pdf")]})
    # then
    assert list(fake.context["form"].errors) == ["attachments"]
    assert "chart.png is not an image (PNG, JPEG, GIF, WebP) or a PDF." in fake.content.decode()
    assert list(renamed.context["form"].errors) == ["attachments"]
    assert "a.pdf is named as another kind of file than it contains (PNG)." in (
        renamed.content.decode()
    )
    assert Idea.objects.count() == 0
    assert IdeaAttachment.objects.count() == 0


def test_at_most_five_attachments(client, public_board, admin_a):
    client.force_login(admin_a)
    response = client.post(
        URL,
        {"title": "T", "problem": "P", "attachments": [png(f"s{n}.png") for n in range(6)]},
    )
    assert list(response.context["form"].errors) == ["attachments"]
    assert "Attach at most 5 files." in response.content.decode()
    assert Idea.objects.count() == 0


def test_nobody_proposes_on_another_organisations_private_board(client, private_board, admin_b):
    client.force_login(admin_b)
    for org in ("globex", "acme"):
        url = f"/o/{org}/ideas/b/acme-codev/new/"
        assert client.get(url).status_code == 404
        assert client.post(url, {"title": "T", "problem": "P"}).status_code == 404
    assert Idea.objects.count() == 0


def test_similar_ideas_answer_json_of_listed_ideas_sharing_terms(
    client, public_board, org_a, admin_a, propose
):
    # given
    csv = propose(public_board, org_a, admin_a, title="Export the dashboard as CSV")
    propose(public_board, org_a, admin_a, title="Dark mode")
    merged = propose(public_board, org_a, admin_a, title="CSV export")
    Idea.objects.filter(pk=merged.pk).update(merged_into=csv)
    client.force_login(admin_a)
    # when
    response = client.get("/o/acme/ideas/b/product-ideas/similar/?q=csv exp")
    short = client.get("/o/acme/ideas/b/product-ideas/similar/?q=a")
    # then
    assert response.json() == {
        "ideas": [
            {
                "id": csv.pk,
                "title": "Export the dashboard as CSV",
                "status": "New",
                "votes": 0,
                "url": f"/o/acme/ideas/{csv.pk}/",
            }
        ]
    }
    assert short.json() == {"ideas": []}


def test_the_propose_page_wires_the_suggestions(client, public_board, admin_a):
    client.force_login(admin_a)
    body = client.get(URL).content.decode()
    assert 'data-similar-url="/o/acme/ideas/b/product-ideas/similar/"' in body
    assert "Similar ideas: vote there instead?" in body
    assert "beta_program/js/ideas.js" in body
