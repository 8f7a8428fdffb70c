"""Thumbnails for image attachments uploaded before thumbnails existed, so that no page shows a
large original inline. An image Pillow refuses to open (over twice the pixel cap, uploaded before
the cap) gets none."""

from django.db import migrations


def make_thumbnails(apps, schema_editor):
    from PIL import Image

    from portal import images

    Attachment = apps.get_model("community", "Attachment")
    for attachment in Attachment.objects.filter(
        content_type__startswith="image/", thumbnail=""
    ).iterator(chunk_size=200):
        try:
            with attachment.file.open("rb") as original:
                small = images.thumbnail(original)
        except (OSError, ValueError, Image.DecompressionBombError):
            continue  # a missing or unreadable file, or a bomb: nothing to make
        if small is not None:
            attachment.thumbnail.save(small.name, small, save=False)
            attachment.save(update_fields=["thumbnail"])


class Migration(migrations.Migration):
    dependencies = [("community", "0003_attachment_thumbnail")]

    operations = [migrations.RunPython(make_thumbnails, migrations.RunPython.noop)]
