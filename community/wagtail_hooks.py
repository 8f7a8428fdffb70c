"""Staff screens for the community in the Wagtail admin, in their own "Community" menu group."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup

from community.models import Space
from portal.models import Tier


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


class SpaceViewSet(ModelViewSet):
    model = Space
    name = "community_spaces"
    icon = "folder-open-inverse"
    menu_label = _("Spaces")
    add_to_admin_menu = False
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


class CommunityGroup(ModelViewSetGroup):
    menu_label = _("Community")
    menu_icon = "folder-open-inverse"
    menu_order = 220
    items = (SpaceViewSet,)


@hooks.register("register_admin_viewset")
def register_community_viewsets():
    return CommunityGroup()
