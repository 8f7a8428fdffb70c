"""Staff screen of announcements: drafts are written and edited (English and an optional Chinese
twin, Markdown, the cohorts they are for), then published through a confirmation screen that
notifies the recipients; a published announcement no longer changes."""

from __future__ import annotations

from django import forms
from django.shortcuts import get_object_or_404
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.tables import DateColumn
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import HeaderButton
from wagtail.permissions import register_permission_policy

from beta_program.programmes import announcement_actions
from beta_program.programmes.access import can_manage
from beta_program.programmes.announcement_models import Announcement, AnnouncementStatus
from beta_program.programmes.exceptions import BetaError
from portal.admin_common import (
    ActionFormView,
    ConfirmForm,
    DraftOnlyEditView,
    DraftOnlyInspectView,
    DraftOnlyPermissionPolicy,
    ObjectActionsViewSetMixin,
    definition_list,
    status_column,
)
from portal.wagtail_hooks import IndexQuerysetMixin

register_permission_policy(
    Announcement, DraftOnlyPermissionPolicy(Announcement, draft_status=AnnouncementStatus.DRAFT)
)


class AnnouncementForm(WagtailAdminModelForm):
    def clean(self):
        cleaned = super().clean()
        programme = cleaned.get("programme")
        chosen = cleaned.get("cohorts") or []
        foreign = [c for c in chosen if programme is not None and c.programme_id != programme.pk]
        if foreign:
            self.add_error(
                "cohorts",
                _("%(cohorts)s belong to another programme.")
                % {"cohorts": ", ".join(c.name for c in foreign)},
            )
        return cleaned


class AnnouncementEditView(DraftOnlyEditView):
    draft_status = AnnouncementStatus.DRAFT
    not_draft_message = _("A published announcement cannot change. Publish a new one instead.")


class AnnouncementInspectView(DraftOnlyInspectView):
    viewset = None
    draft_status = AnnouncementStatus.DRAFT

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if can_manage(self.request.user) and self.object.status == AnnouncementStatus.DRAFT:
            buttons.append(
                HeaderButton(
                    _("Publish"), url=self.viewset.url("publish", self.object), icon_name="upload"
                )
            )
        return buttons


class PublishAnnouncementView(ActionFormView):
    page_title = _("Publish announcement")
    header_icon = "upload"
    index_label = _("Announcements")
    form_class = ConfirmForm
    submit_button_label = _("Publish")
    refused = (BetaError,)

    def has_permission(self, user) -> bool:
        return can_manage(user)

    def get_object(self) -> Announcement:
        return get_object_or_404(
            Announcement.objects.select_related("programme"), pk=self.kwargs["pk"]
        )

    def refusal(self) -> str | None:
        if self.object.status != AnnouncementStatus.DRAFT:
            return _("This announcement is already published.")
        return None

    def summary(self):
        cohorts = [c.name for c in self.object.cohorts.all()]
        people = len(announcement_actions.recipients(self.object))
        return definition_list(
            [
                (_("Programme"), self.object.programme),
                (_("Title"), self.object.title),
                (_("For"), ", ".join(cohorts) if cohorts else _("Every participant")),
                (
                    _("What happens"),
                    format_html(
                        "{} {}",
                        ngettext(
                            "The text becomes final and %(count)s person is notified in the "
                            "portal and by e-mail, in their language.",
                            "The text becomes final and %(count)s people are notified in the "
                            "portal and by e-mail, each in their language.",
                            people,
                        )
                        % {"count": people},
                        _(
                            "Under NDA the notification and e-mail only say that there is a new "
                            "announcement: it is read in the portal, behind the agreement."
                        )
                        if self.object.programme.is_confidential
                        else "",
                    ),
                ),
            ]
        )

    def perform(self, form) -> str:
        announcement_actions.publish_announcement(
            self.object, self.request.user, request=self.request
        )
        return _("Published “%(title)s”.") % {"title": self.object.title}


class AnnouncementViewSet(ObjectActionsViewSetMixin, IndexQuerysetMixin, ModelViewSet):
    model = Announcement
    name = "beta_announcements"
    icon = "info-circle"
    menu_label = _("Announcements")
    add_to_admin_menu = False
    edit_view_class = AnnouncementEditView
    inspect_view_class = AnnouncementInspectView
    inspect_view_enabled = True
    copy_view_enabled = False
    list_display = [
        "title",
        "programme",
        status_column(lambda a: a.status == AnnouncementStatus.PUBLISHED),
        DateColumn("published_at", label=_("Published"), sort_key="published_at"),
    ]
    list_filter = ["status", "programme"]
    inspect_view_fields = [
        "programme",
        "title",
        "title_zh",
        "body",
        "body_zh",
        "cohorts",
        "status",
        "published_at",
        "published_by",
    ]
    ordering = ["-created_at"]
    object_actions = {"publish": PublishAnnouncementView}
    edit_handler = ObjectList(
        [
            FieldPanel("programme"),
            FieldPanel("title"),
            FieldPanel("title_zh"),
            FieldPanel("body"),
            FieldPanel("body_zh"),
            FieldPanel(
                "cohorts",
                widget=forms.CheckboxSelectMultiple,
                help_text=_("None chosen: every participant of the programme."),
            ),
        ],
        base_form_class=AnnouncementForm,
    )

    def get_queryset(self, request):
        return Announcement.objects.select_related("programme")
