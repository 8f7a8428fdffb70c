"""The changelog: Wagtail pages that announce what shipped. Staff add a `ChangelogIndexPage`
under the home page and an entry per release under it, linking the ideas it ships
(`ChangelogIdea`). Publishing an entry ships those ideas (`ship_linked_ideas`, on Wagtail's
`page_published` signal), which notifies their voters and subscribers with a link to the entry.

Entries carry their Chinese text beside the English (`title_zh`, `body_zh`, as programme pages
do), so a Chinese reader gets Chinese whichever language tree the link opens in; an index page
translated into the Chinese home page's tree (Wagtail localisation) serves its source's entries
too, so links work in both trees.

Only signed-in people read the changelog, and an entry lists only the linked ideas the reader's
organisation sees (`access.ideas_for`): a private board's idea is never named to others."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db import models
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from modelcluster.fields import ParentalKey
from wagtail import hooks
from wagtail.admin.panels import FieldPanel, InlinePanel
from wagtail.fields import RichTextField
from wagtail.models import Orderable, Page
from wagtail.signals import page_published

from beta_program.boards.access import ideas_for
from beta_program.boards.exceptions import BoardError
from beta_program.boards.models import Idea, IdeaStatus, IdeaStatusChange, StatusKind
from portal.exceptions import PermissionDeniedError
from portal.localised import localised

logger = logging.getLogger(__name__)

ENTRIES_PER_PAGE = 20


def _serve_signed_in(request, serve, *args, **kwargs):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return serve(request, *args, **kwargs)


class ChangelogIndexPage(Page):
    """The list of changelog entries, newest first (signed-in readers only)."""

    title_zh = models.CharField(gettext_lazy("title (Chinese)"), max_length=255, blank=True)
    intro = models.TextField(gettext_lazy("introduction"), max_length=1000, blank=True)
    intro_zh = models.TextField(gettext_lazy("introduction (Chinese)"), max_length=1000, blank=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("title_zh"),
        FieldPanel("intro"),
        FieldPanel("intro_zh"),
    ]
    search_fields: list = []
    parent_page_types = ["home.HomePage"]
    subpage_types = ["beta_program.ChangelogEntryPage"]
    template = "beta_program/boards/changelog_index_page.html"

    class Meta:
        verbose_name = gettext_lazy("changelog")

    def serve(self, request, *args, **kwargs):
        return _serve_signed_in(request, super().serve, *args, **kwargs)

    def _tree_paths(self) -> list[str]:
        """The tree paths of this index and its translations (one per language tree)."""
        return list(
            Page.objects.filter(translation_key=self.translation_key).values_list("path", flat=True)
        )

    def entries(self):
        """Live entries under this index or any of its translations, newest first."""
        paths = self._tree_paths() or [self.path]
        under = Q()
        for path in paths:
            under |= Q(path__startswith=path)
        return (
            ChangelogEntryPage.objects.live()
            .filter(under, depth=self.depth + 1)
            .order_by("-date", "-first_published_at", "-pk")
        )

    def route(self, request, path_components):
        # A link to an entry opens in the reader's language tree: if this translation of the
        # index has no such child, serve the entry its source (or another translation) holds.
        try:
            return super().route(request, path_components)
        except Http404:
            if not path_components:
                raise
            entry = self.entries().filter(slug=path_components[0]).first()
            if entry is None:
                raise
            return entry.specific.route(request, path_components[1:])

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        seen: dict = {}
        # One entry per translation key: the reader's language tree first.
        for entry in self.entries()[: ENTRIES_PER_PAGE * 2]:
            if entry.translation_key not in seen or entry.locale_id == self.locale_id:
                seen[entry.translation_key] = entry
        entries = sorted(
            seen.values(), key=lambda e: (e.date, e.first_published_at or timezone.now(), e.pk)
        )[::-1][:ENTRIES_PER_PAGE]
        context["heading"] = localised(self, "title")
        context["intro"] = localised(self, "intro")
        context["entries"] = entries
        return context

    @property
    def display_title(self) -> str:
        return localised(self, "title")


class ChangelogEntryPage(Page):
    """One release note. Publishing it ships its linked ideas (see `ship_linked_ideas`)."""

    title_zh = models.CharField(gettext_lazy("title (Chinese)"), max_length=255, blank=True)
    date = models.DateField(gettext_lazy("date"), default=timezone.localdate)
    body = RichTextField(gettext_lazy("what changed"), blank=True)
    body_zh = RichTextField(
        gettext_lazy("what changed (Chinese)"),
        blank=True,
        help_text=gettext_lazy("Shown to readers who chose Chinese; empty: they read the English."),
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("title_zh"),
        FieldPanel("date"),
        FieldPanel("body"),
        FieldPanel("body_zh"),
        InlinePanel(
            "shipped_ideas",
            label=gettext_lazy("Ideas it ships"),
            help_text=gettext_lazy(
                "Publishing the entry moves these ideas to shipped and tells their voters."
            ),
        ),
    ]
    search_fields: list = []
    parent_page_types = ["beta_program.ChangelogIndexPage"]
    subpage_types: list[str] = []
    template = "beta_program/boards/changelog_entry_page.html"

    class Meta:
        verbose_name = gettext_lazy("changelog entry")
        verbose_name_plural = gettext_lazy("changelog entries")

    def serve(self, request, *args, **kwargs):
        return _serve_signed_in(request, super().serve, *args, **kwargs)

    @property
    def display_title(self) -> str:
        return localised(self, "title")

    @property
    def display_body(self) -> str:
        return localised(self, "body")

    def ideas_seen_by(self, user, organisation) -> list[Idea]:
        """The linked ideas `user` sees acting for `organisation`, in the entry's order."""
        if organisation is None and not user.is_authenticated:
            return []
        visible = ideas_for(user, organisation).filter(pk__in=self.shipped_ideas.values("idea_id"))
        found = {idea.pk: idea for idea in visible.select_related("board", "status")}
        return [
            found[link.idea_id]
            for link in self.shipped_ideas.all().order_by("sort_order", "pk")
            if link.idea_id in found
        ]

    def get_context(self, request, *args, **kwargs):
        from beta_program.boards.blocks import viewer_organisation

        context = super().get_context(request, *args, **kwargs)
        organisation = viewer_organisation(request, request.user)
        context["organisation"] = organisation
        context["ideas"] = self.ideas_seen_by(request.user, organisation)
        return context


class ChangelogIdea(Orderable):
    entry = ParentalKey(ChangelogEntryPage, on_delete=models.CASCADE, related_name="shipped_ideas")
    idea = models.ForeignKey(
        Idea, on_delete=models.CASCADE, related_name="+", verbose_name=gettext_lazy("idea")
    )

    panels = [FieldPanel("idea")]

    class Meta(Orderable.Meta):
        verbose_name = gettext_lazy("shipped idea")
        constraints = [
            models.UniqueConstraint(fields=["entry", "idea"], name="boards_changelog_idea_once")
        ]

    def __str__(self) -> str:
        return f"{self.idea_id} in {self.entry_id}"


@dataclass
class ShipReport:
    shipped: list[int]
    skipped: list[tuple[int, str]]


def ship_linked_ideas(entry: ChangelogEntryPage, by) -> ShipReport:
    """Move every idea `entry` links to the shipped status, as `by` (the publisher), with the
    entry as the change's changelog page. Idempotent: an idea already shipped, or shipped by
    this entry before (a second publish, a new revision), is left alone. An idea the workflow
    does not let move to shipped, or a publisher who may not change statuses, is skipped with
    the reason (reported to the publisher), never an error."""
    report = ShipReport(shipped=[], skipped=[])
    shipped_status = (
        IdeaStatus.objects.filter(kind=StatusKind.SHIPPED).order_by("position", "pk").first()
    )
    links = list(entry.shipped_ideas.select_related("idea__status").order_by("sort_order", "pk"))
    if not links:
        return report
    if shipped_status is None:
        report.skipped = [(link.idea_id, _("No status means shipped.")) for link in links]
        return report
    already = set(
        IdeaStatusChange.objects.filter(
            changelog_page_id=entry.pk, to_status__kind=StatusKind.SHIPPED
        ).values_list("idea_id", flat=True)
    )
    from beta_program.boards.status_actions import change_status

    for link in links:
        idea = link.idea
        if idea.status.kind == StatusKind.SHIPPED or idea.pk in already:
            continue
        if by is None:
            report.skipped.append((idea.pk, _("Nobody is recorded as publishing the entry.")))
            continue
        try:
            change_status(idea, shipped_status, by, changelog_page=entry)
        except (BoardError, PermissionDeniedError) as refused:
            report.skipped.append((idea.pk, str(refused)))
        else:
            report.shipped.append(idea.pk)
    return report


def _on_published(sender, instance: ChangelogEntryPage, revision=None, **kwargs) -> None:
    by = getattr(revision, "user", None)
    report = ship_linked_ideas(instance, by)
    if report.skipped:
        logger.info("changelog entry %s left ideas unshipped: %s", instance.pk, report.skipped)


page_published.connect(_on_published, sender=ChangelogEntryPage, dispatch_uid="boards_changelog")


def translate_index(index: ChangelogIndexPage) -> list[ChangelogIndexPage]:
    """Give the index a live translation under each translated home page that has none, so that
    readers whose language tree Wagtail routes through (the Chinese home page) reach it; the
    translation serves the source's entries (`ChangelogIndexPage.route`). Returns those made."""
    made = []
    parent = index.get_parent()
    have = set(index.get_translations(inclusive=True).values_list("locale_id", flat=True))
    for home in parent.get_translations().exclude(locale_id__in=have).select_related("locale"):
        copy = index.copy_for_translation(home.locale)
        copy.save_revision().publish(skip_permission_checks=True)
        made.append(copy)
    return made


def _on_index_published(sender, instance: ChangelogIndexPage, **kwargs) -> None:
    translate_index(instance)


page_published.connect(
    _on_index_published, sender=ChangelogIndexPage, dispatch_uid="boards_changelog_index"
)


@hooks.register("after_publish_page")
def report_unshipped(request, page) -> None:
    """Tell the publisher which linked ideas the entry could not ship (the signal has no
    request): those still not in a shipped status after publishing."""
    if not isinstance(page.specific, ChangelogEntryPage):
        return
    left = [
        link.idea
        for link in page.specific.shipped_ideas.select_related("idea__status")
        if link.idea.status.kind != StatusKind.SHIPPED
    ]
    for idea in left:
        messages.warning(
            request,
            _(
                "Idea #%(id)s was not shipped: an idea that is %(status)s cannot move to shipped,"
                " or you may not change idea statuses."
            )
            % {"id": idea.pk, "status": idea.status.display_name},
        )
