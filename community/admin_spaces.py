"""How the community is organised, as staff screens in the Wagtail admin: spaces (with their
visibility rules) and tags. Creating and changing either goes to the audit trail; a tag can be
deleted only while no topic uses it, a space is archived rather than deleted."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.generic import DeleteView, IndexView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permissions import register_permission_policy

from community.models import Space, Tag
from portal import audit
from portal.admin_common import (
    AuditedCreateView,
    AuditedEditView,
    NoDeletePermissionPolicy,
    audit_details,
)
from portal.models import Tier

# --- spaces

# Topics point at their space: a space is archived, never deleted (not even by a superuser).
register_permission_policy(Space, NoDeletePermissionPolicy(Space))

SPACE_AUDIT_FIELDS = ["name", "slug", "parent", "audience", "tiers", "who_can_post", "is_archived"]


class SpaceForm(WagtailAdminModelForm):
    tiers = forms.MultipleChoiceField(
        label=_("Tiers"),
        choices=Tier.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Used when the space is visible to chosen tiers."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        parent = self.fields.get("parent")
        if parent is not None and self.instance.pk is not None:
            # Only top-level spaces other than this one can be a parent.
            parent.queryset = parent.queryset.exclude(pk=self.instance.pk)

    def save(self, commit=True):
        if self.instance.pk is None and self.for_user is not None:
            self.instance.created_by = self.for_user
        return super().save(commit=commit)


class SpaceCreateView(AuditedCreateView):
    audit_action = "community.space_created"
    audit_fields = SPACE_AUDIT_FIELDS


class SpaceEditView(AuditedEditView):
    audit_action = "community.space_changed"
    audit_fields = SPACE_AUDIT_FIELDS


class SpaceViewSet(ModelViewSet):
    model = Space
    name = "community_spaces"
    icon = "folder-open-inverse"
    menu_label = _("Spaces")
    add_to_admin_menu = False
    add_view_class = SpaceCreateView
    edit_view_class = SpaceEditView
    list_display = ["name", "parent", "audience", "who_can_post", "sort_order", "is_archived"]
    list_filter = ["audience", "who_can_post", "is_archived"]
    search_fields = ["name", "slug", "description"]
    ordering = ["parent__sort_order", "sort_order", "name"]
    copy_view_enabled = False
    inspect_view_enabled = True
    edit_handler = ObjectList(
        [
            MultiFieldPanel(
                [
                    FieldPanel("name"),
                    FieldPanel("slug"),
                    FieldPanel("description"),
                    FieldRowPanel([FieldPanel("parent"), FieldPanel("sort_order")]),
                    FieldPanel("is_archived"),
                ],
                heading=_("Space"),
            ),
            MultiFieldPanel(
                [
                    FieldPanel("audience"),
                    FieldPanel("organisations", widget=forms.CheckboxSelectMultiple),
                    FieldPanel("tiers"),
                    FieldPanel("groups", widget=forms.CheckboxSelectMultiple),
                    FieldPanel("who_can_post"),
                ],
                heading=_("Access"),
                help_text=_("A sub-space is only visible to people who can also see its parent."),
            ),
        ],
        base_form_class=SpaceForm,
    )

    def get_index_view_kwargs(self, **kwargs):
        # Wagtail 8's ModelViewSet has no get_queryset(request) hook: hand the index view a
        # queryset that loads the parent with each row.
        return super().get_index_view_kwargs(
            queryset=Space.objects.select_related("parent"), **kwargs
        )


# --- tags


TAG_AUDIT_FIELDS = ["name", "slug", "description"]


def _used(tag: Tag) -> bool:
    count = getattr(tag, "topic_count", None)
    return bool(count if count is not None else tag.topics.exists())


class TagIndexView(IndexView):
    def get_base_queryset(self):
        return Tag.objects.annotate(topic_count=Count("topics"))

    def get_delete_url(self, instance):
        # Topics keep their tags: only a tag nobody used (a typo, say) can go.
        return None if _used(instance) else super().get_delete_url(instance)


class TagCreateView(AuditedCreateView):
    audit_action = "community.tag_created"
    audit_fields = TAG_AUDIT_FIELDS


class TagEditView(AuditedEditView):
    audit_action = "community.tag_changed"
    audit_fields = TAG_AUDIT_FIELDS

    def get_delete_url(self):
        return None if _used(self.object) else super().get_delete_url()


class TagDeleteView(DeleteView):
    def dispatch(self, request, *args, **kwargs):
        if not self.user_has_permission("delete"):
            raise PermissionDenied
        if _used(self.object):
            messages.error(
                request,
                _(
                    "Topics use the tag “%(tag)s”, so it cannot be deleted. Rename it or change "
                    "its description instead."
                )
                % {"tag": self.object},
            )
            return redirect(reverse("community_tags:index"))
        return super().dispatch(request, *args, **kwargs)

    def delete_action(self):
        audit.record(
            "community.tag_deleted",
            actor=self.request.user,
            obj=self.object,
            request=self.request,
            details=audit_details(self.object, TAG_AUDIT_FIELDS),
        )
        super().delete_action()


class TagViewSet(ModelViewSet):
    model = Tag
    name = "community_tags"
    icon = "tag"
    menu_label = _("Tags")
    add_to_admin_menu = False
    index_view_class = TagIndexView
    add_view_class = TagCreateView
    edit_view_class = TagEditView
    delete_view_class = TagDeleteView
    list_display = [
        "name",
        "slug",
        "description",
        Column("topic_count", label=_("Topics"), sort_key="topic_count"),
    ]
    search_fields = ["name", "slug", "description"]
    ordering = ["name"]
    copy_view_enabled = False
    edit_handler = ObjectList(
        [FieldRowPanel([FieldPanel("name"), FieldPanel("slug")]), FieldPanel("description")]
    )
