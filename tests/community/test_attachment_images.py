"""Image attachments: decompression bombs are refused from their header with a clear 400, and a
large image is shown inline as a thumbnail with the original one click away."""

from __future__ import annotations

import io
import posixpath
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from community.models import Attachment, Post, Topic
from tests.community.conftest import settled
from tests.factories import png_bytes

pytestmark = pytest.mark.django_db


def stored_files(name: str) -> list[Path]:
    root = Path(Attachment._meta.get_field("file").storage.location)
    return list(root.rglob(name)) if root.exists() else []


def photo(width: int, height: int, kind: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", (width, height), (13, 148, 136))
    image.paste((250, 200, 20), (0, 0, width // 2, height // 2))  # something to scale down
    image.save(buffer, kind)
    return buffer.getvalue()


def served(response) -> Image.Image:
    return Image.open(io.BytesIO(b"".join(response.streaming_content)))


@pytest.mark.parametrize(
    ("width", "height"),
    [(30000, 30000), (12000, 12000), (8000, 6000)],
    ids=["900-megapixels", "144-megapixels", "48-megapixels"],
)
def test_an_image_over_40_megapixels_is_refused_and_nothing_is_stored(
    client, member_a, public_space, width, height
):
    # given a member and a small file that declares a huge image (30000 x 30000 is ~110 KB)
    settled(member_a)
    client.force_login(member_a)
    name = f"bomb-{width}x{height}.png"
    upload = SimpleUploadedFile(name, png_bytes(width, height), content_type="image/png")
    # when they attach it to a new topic
    response = client.post(
        reverse("community:new_topic", kwargs={"space_slug": public_space.slug}),
        {"kind": "question", "title": "Plant photo", "body": "See it.", "attachments": [upload]},
    )
    # then it is refused with the field and the limit named, and nothing is written
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "attachments": [f"{name} is too large: images may have at most 40 megapixels."]
    }
    assert Topic.objects.count() == 0
    assert Post.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert stored_files(name) == []


def test_a_12_megapixel_image_is_shown_as_a_thumbnail_and_kept_whole(
    client, member_a, public_space
):
    # given a member who attaches a 4000 x 3000 photo
    settled(member_a)
    client.force_login(member_a)
    original = photo(4000, 3000)
    response = client.post(
        reverse("community:new_topic", kwargs={"space_slug": public_space.slug}),
        {
            "kind": "question",
            "title": "Inverter display",
            "body": "Photo attached.",
            "attachments": [SimpleUploadedFile("display-12mp.png", original)],
        },
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    # then a thumbnail is stored beside the original, in the same private folder
    assert attachment.thumbnail.name == (f"{posixpath.dirname(attachment.file.name)}/thumbnail.png")
    inline = reverse("community:attachment", kwargs={"attachment_id": attachment.pk})
    download = reverse("community:attachment_original", kwargs={"attachment_id": attachment.pk})
    # and the page shows the thumbnail, linked to the original
    page = client.get(response["Location"]).content.decode()
    assert f'<a href="{download}" title="Download the original"><img src="{inline}"' in page
    # when the inline image and the original are fetched
    shown = client.get(inline)
    whole = client.get(download)
    # then the inline one is 1600 pixels on its long side, shown inline
    assert shown.status_code == 200
    assert shown["Content-Type"] == "image/png"
    assert shown["Content-Disposition"] == 'inline; filename="display-12mp.png"'
    assert served(shown).size == (1600, 1200)
    # and the original comes whole, as a download, with the same protective headers
    assert whole.status_code == 200
    assert whole["Content-Type"] == "image/png"
    assert whole["Content-Disposition"] == 'attachment; filename="display-12mp.png"'
    assert b"".join(whole.streaming_content) == original
    for response in (shown, whole):
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cache-Control"] == "private, no-store"
        assert response["Content-Security-Policy"] == (
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
        )


def test_a_large_jpeg_gets_a_jpeg_thumbnail(client, member_a, public_space):
    # given a 3000 x 2000 JPEG photo
    settled(member_a)
    client.force_login(member_a)
    client.post(
        reverse("community:new_topic", kwargs={"space_slug": public_space.slug}),
        {
            "kind": "question",
            "title": "Roof array",
            "body": "Photo attached.",
            "attachments": [SimpleUploadedFile("roof.jpg", photo(3000, 2000, "JPEG"))],
        },
    )
    attachment = Attachment.objects.get()
    # when it is shown / then as a 1600 x 1067 JPEG
    shown = client.get(reverse("community:attachment", kwargs={"attachment_id": attachment.pk}))
    assert shown["Content-Type"] == "image/jpeg"
    image = served(shown)
    assert (image.format, image.size) == ("JPEG", (1600, 1067))


def test_a_small_image_is_shown_as_it_is(client, member_a, public_space):
    # given a 1600 x 900 screenshot (no side over 1600 pixels)
    settled(member_a)
    client.force_login(member_a)
    original = photo(1600, 900)
    client.post(
        reverse("community:new_topic", kwargs={"space_slug": public_space.slug}),
        {
            "kind": "question",
            "title": "Screenshot",
            "body": "Attached.",
            "attachments": [SimpleUploadedFile("screen.png", original)],
        },
    )
    attachment = Attachment.objects.get()
    # then no thumbnail is made and the inline image is the original
    assert attachment.thumbnail.name == ""
    shown = client.get(reverse("community:attachment", kwargs={"attachment_id": attachment.pk}))
    assert b"".join(shown.streaming_content) == original


def test_the_original_is_served_only_to_readers(client, member_a, member_b, private_space):
    # given an image in Acme's private space
    settled(member_a)
    client.force_login(member_a)
    client.post(
        reverse("community:new_topic", kwargs={"space_slug": private_space.slug}),
        {
            "kind": "question",
            "title": "Private photo",
            "body": "Attached.",
            "attachments": [SimpleUploadedFile("private.png", photo(40, 30))],
        },
    )
    attachment = Attachment.objects.get()
    # when a member of another organisation asks for the original / then it does not exist
    client.force_login(member_b)
    download = reverse("community:attachment_original", kwargs={"attachment_id": attachment.pk})
    assert client.get(download).status_code == 404


def test_images_uploaded_before_thumbnails_get_one(member_a, public_space):
    # given a 4000 x 3000 image attached before thumbnails existed, and a PDF
    from importlib import import_module

    from django.apps import apps
    from django.core.files.base import ContentFile

    from community import actions

    settled(member_a)
    topic = actions.create_topic(member_a, public_space, title="Old photo", body="From 2025.")
    old = Attachment(post=topic.posts.get(), name="old.png", content_type="image/png", size=1)
    old.file.save("old.png", ContentFile(photo(4000, 3000)), save=False)
    old.save()
    pdf = Attachment(post=old.post, name="a.pdf", content_type="application/pdf", size=1)
    pdf.file.save("a.pdf", ContentFile(b"%PDF-1.4\n%%EOF"), save=False)
    pdf.save()
    migration = import_module("community.migrations.0004_thumbnails_for_existing_attachments")
    # when the migration runs
    migration.make_thumbnails(apps, None)
    # then the image has a 1600 x 1200 thumbnail beside it and the PDF none
    old.refresh_from_db()
    pdf.refresh_from_db()
    assert old.thumbnail.name == f"{posixpath.dirname(old.file.name)}/thumbnail.png"
    with old.thumbnail.open("rb") as stored:
        assert Image.open(stored).size == (1600, 1200)
    assert pdf.thumbnail.name == ""
