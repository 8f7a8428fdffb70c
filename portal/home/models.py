from django.conf import settings
from django.db import models
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.admin.panels import FieldPanel
from wagtail.fields import StreamField
from wagtail.images.blocks import ImageChooserBlock
from wagtail.models import Page


class HeroBlock(blocks.StructBlock):
    heading = blocks.CharBlock(max_length=120)
    text = blocks.TextBlock(required=False)
    button_label = blocks.CharBlock(required=False, max_length=40)
    button_url = blocks.CharBlock(required=False, max_length=200)

    class Meta:
        template = "portal/blocks/hero.html"
        icon = "pick"
        label = _("Hero")


class FeatureBlock(blocks.StructBlock):
    title = blocks.CharBlock(max_length=80)
    text = blocks.TextBlock()

    class Meta:
        icon = "tick"


class FeaturesBlock(blocks.StructBlock):
    heading = blocks.CharBlock(required=False, max_length=120)
    features = blocks.ListBlock(FeatureBlock())

    class Meta:
        template = "portal/blocks/features.html"
        icon = "list-ul"
        label = _("Feature list")


def plugin_blocks() -> list[tuple[str, blocks.Block]]:
    """The blocks plugins offer for portal pages (settings.GREENLOOP_PAGE_BLOCKS: name, dotted
    path). Named by path so that the portal never imports a plugin itself."""
    return [(name, import_string(path)()) for name, path in settings.GREENLOOP_PAGE_BLOCKS]


class HomePage(Page):
    """The public landing page; staff compose it from blocks in the Wagtail admin."""

    # Typed by hand: Wagtail's Page ships no types, so the Django plugin cannot see a model here.
    intro: models.CharField = models.CharField(_("intro"), max_length=255, blank=True)
    body = StreamField(
        [
            ("hero", HeroBlock()),
            ("features", FeaturesBlock()),
            ("paragraph", blocks.RichTextBlock(template="portal/blocks/paragraph.html")),
            ("image", ImageChooserBlock(template="portal/blocks/image.html")),
            *plugin_blocks(),
        ],
        blank=True,
        use_json_field=True,
    )

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    max_count = 1
    template = "portal/home_page.html"

    class Meta:
        verbose_name = _("home page")
