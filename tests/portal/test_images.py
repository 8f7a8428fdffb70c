"""The image pixel cap (portal.images): read from the header before anything is decoded, the
same for every upload, Wagtail's catalogue images included."""

from __future__ import annotations

import io
import warnings

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from wagtail.images import get_image_model

from portal.images import ImageRefused, check_image, thumbnail
from tests.factories import png_bytes


@pytest.mark.parametrize(
    ("width", "height"),
    [(30000, 30000), (12000, 12000), (6325, 6325)],
    ids=["900-megapixels", "144-megapixels", "just-over-40-megapixels"],
)
def test_an_image_over_the_cap_is_refused_from_its_header(width, height):
    # given a small file declaring a huge image (never decoded: 30000 x 30000 would be 900 MB)
    upload = io.BytesIO(png_bytes(width, height))
    # when it is checked for the "photo" field
    with pytest.raises(ImageRefused) as refused:
        check_image(upload, name="plant.png", field="photo")
    # then the refusal names the file, the field and the limit, as a 400
    assert refused.value.message == (
        "plant.png is too large: images may have at most 40 megapixels."
    )
    assert (refused.value.field, refused.value.code, refused.value.status) == (
        "photo",
        "image_too_large",
        400,
    )
    assert upload.tell() == 0


def test_the_cap_is_one_setting(settings):
    # given a cap of 12 megapixels
    settings.GREENLOOP_MAX_IMAGE_PIXELS = 12_000_000
    # then 4000 x 3000 passes and 4000 x 3001 does not
    assert check_image(io.BytesIO(png_bytes(4000, 3000)), name="a.png", field="f").width == 4000
    with pytest.raises(ImageRefused, match="at most 12 megapixels"):
        check_image(io.BytesIO(png_bytes(4000, 3001)), name="b.png", field="f")


def test_bomb_warnings_raised_as_errors_are_refused_too():
    # given warnings turned into errors (as a strict test run or server might)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # when a 48-megapixel image is checked / then it is the same clear refusal
        with pytest.raises(ImageRefused, match="at most 40 megapixels"):
            check_image(io.BytesIO(png_bytes(8000, 6000)), name="c.png", field="f")


def test_pillow_itself_refuses_to_open_far_over_the_cap():
    # given the process started (portal.apps set Pillow's limit from the setting)
    # when anything opens a 100-megapixel image directly (over twice the cap, under twice
    # Pillow's default) / then Pillow refuses before decoding
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(png_bytes(10000, 10000)))


def test_a_thumbnail_keeps_the_proportions_within_1600_pixels():
    # given a 12-megapixel portrait photo / when thumbnailed
    buffer = io.BytesIO()
    Image.new("RGB", (3000, 4000), "teal").save(buffer, "JPEG")
    small = Image.open(io.BytesIO(thumbnail(buffer).read()))
    # then it is a 1200 x 1600 JPEG
    assert (small.format, small.size) == ("JPEG", (1200, 1600))


def _sign_in_with_mfa(client, user):
    import time

    from allauth.mfa.models import Authenticator

    client.force_login(user)
    session = client.session
    session["account_authentication_methods"] = [
        {"method": "password", "at": time.time(), "email": user.email},
        {
            "method": "mfa",
            "at": time.time(),
            "id": Authenticator.objects.get(user=user).pk,
            "type": "totp",
        },
    ]
    session.save()


@pytest.mark.parametrize(
    ("width", "height"), [(30000, 30000), (8000, 6000)], ids=["900-megapixels", "48-megapixels"]
)
def test_wagtail_refuses_a_catalogue_image_over_the_cap(client, superuser, width, height):
    # given staff uploading a service's image in the admin
    _sign_in_with_mfa(client, superuser)
    upload = SimpleUploadedFile("service.png", png_bytes(width, height), content_type="image/png")
    # when the image is over 40 megapixels
    response = client.post(
        reverse("wagtailimages:add"), {"title": "Maintenance visit", "file": upload}
    )
    # then the form refuses it on the file field, naming the limit, and no image is stored
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["file"]
    assert errors["file"][0].endswith("Maximum pixels 40000000.")
    assert get_image_model().objects.count() == 0
