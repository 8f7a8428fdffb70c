"""A Wagtail landing page per programme: overview, what to test, timeline and FAQ.

The page is served only to people who may see its programme (others get 404, as if it did not
exist), and its "what to test" blocks only to those who may see the programme's confidential
content. Programme pages are left out of Wagtail's search index: a search must never name a
programme to someone outside it.
"""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.db import models
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.admin.panels import FieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page

from beta_program.programmes.models import Programme
from portal.localised import localised


class TimelineEntry(blocks.StructBlock):
    when = blocks.CharBlock(label=_("When"), max_length=60)
    what = blocks.CharBlock(label=_("What happens"), max_length=200)


class FaqEntry(blocks.StructBlock):
    question = blocks.CharBlock(label=_("Question"), max_length=200)
    answer = blocks.RichTextBlock(
        label=_("Answer"), features=["bold", "italic", "link", "ol", "ul"]
    )


BODY_BLOCKS = [
    ("overview", blocks.RichTextBlock(label=_("Overview"), icon="doc-full")),
    (
        "what_to_test",
        blocks.RichTextBlock(
            label=_("What to test (participants only)"),
            icon="warning",
            help_text=_("Shown only to participants (and, under NDA, once they accepted it)."),
        ),
    ),
    ("timeline", blocks.ListBlock(TimelineEntry(), label=_("Timeline"), icon="date")),
    ("faq", blocks.ListBlock(FaqEntry(), label=_("FAQ"), icon="help")),
]
CONFIDENTIAL_BLOCKS = {"what_to_test"}


class ProgrammePage(Page):
    programme = models.OneToOneField(
        Programme,
        on_delete=models.PROTECT,
        related_name="landing_page",
        verbose_name=_("programme"),
    )
    title_zh = models.CharField(_("title (Chinese)"), max_length=255, blank=True)
    body = StreamField(BODY_BLOCKS, blank=True, use_json_field=True)
    body_zh = StreamField(
        BODY_BLOCKS,
        blank=True,
        use_json_field=True,
        verbose_name=_("body (Chinese)"),
        help_text=_("Shown to readers who chose Chinese; empty: they see the English body."),
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("title_zh"),
        FieldPanel("programme"),
        FieldPanel("body"),
        FieldPanel("body_zh"),
    ]
    search_fields: list = []
    parent_page_types = ["home.HomePage"]
    subpage_types: list[str] = []
    template = "beta_program/programmes/programme_page.html"

    class Meta:
        verbose_name = _("beta programme page")

    def serve(self, request, *args, **kwargs):
        from beta_program.programmes.access import visible_anywhere

        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not visible_anywhere(request.user, self.programme):
            raise Http404("No such page.")
        return super().serve(request, *args, **kwargs)

    def get_context(self, request, *args, **kwargs):
        from beta_program.programmes.access import may_see_confidential

        context = super().get_context(request, *args, **kwargs)
        confidential = may_see_confidential(request.user, self.programme)
        body = localised(self, "body")
        context["programme"] = self.programme
        context["heading"] = localised(self, "title")
        context["blocks"] = [
            block for block in body if confidential or block.block_type not in CONFIDENTIAL_BLOCKS
        ]
        context["confidential_hidden"] = not confidential and any(
            block.block_type in CONFIDENTIAL_BLOCKS for block in body
        )
        return context
