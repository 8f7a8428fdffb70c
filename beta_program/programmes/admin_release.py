"""Staff screens of the release side of a beta programme: NDA versions (drafts edited, published
through a confirmation screen that numbers and hashes them), the read-only record of NDA
acceptances, cohorts (each backed by a Django group) and builds."""

from __future__ import annotations

from django import forms
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, ObjectList
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views.generic import CreateView, EditView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import HeaderButton
from wagtail.permissions import register_permission_policy

from beta_program.programmes import actions
from beta_program.programmes.access import can_manage
from beta_program.programmes.exceptions import BetaError
from beta_program.programmes.models import (
    Application,
    ApplicationStatus,
    Build,
    Cohort,
    NdaAcceptance,
    NdaStatus,
    NdaVersion,
)
from portal.admin_common import (
    ActionFormView,
    ConfirmForm,
    DraftOnlyEditView,
    DraftOnlyInspectView,
    DraftOnlyPermissionPolicy,
    NoDeletePermissionPolicy,
    ObjectActionsViewSetMixin,
    definition_list,
    format_who,
    status_column,
)
from portal.models import User
from portal.wagtail_hooks import IndexQuerysetMixin, ReadOnlyPermissionPolicy

# --- NDA versions

register_permission_policy(NdaVersion, DraftOnlyPermissionPolicy(NdaVersion, draft_status="draft"))
register_permission_policy(NdaAcceptance, ReadOnlyPermissionPolicy(NdaAcceptance))


class NdaEditView(DraftOnlyEditView):
    draft_status = NdaStatus.DRAFT
    not_draft_message = _(
        "A published NDA version cannot change. Add a new version: participants then accept it."
    )

    @cached_property
    def header_buttons(self):
        # Staff finish a draft here: publishing must not need a detour through the inspect view.
        buttons = list(super().header_buttons)
        if can_manage(self.request.user):
            buttons.append(
                HeaderButton(
                    _("Publish"),
                    url=reverse("beta_ndas:publish", args=(self.object.pk,)),
                    icon_name="upload",
                )
            )
        return buttons


class NdaInspectView(DraftOnlyInspectView):
    viewset = None
    draft_status = NdaStatus.DRAFT

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if can_manage(self.request.user) and self.object.status == NdaStatus.DRAFT:
            buttons.append(
                HeaderButton(
                    _("Publish"), url=self.viewset.url("publish", self.object), icon_name="upload"
                )
            )
        return buttons


class PublishNdaView(ActionFormView):
    page_title = _("Publish NDA version")
    header_icon = "upload"
    index_label = _("NDA versions")
    form_class = ConfirmForm
    submit_button_label = _("Publish")
    refused = (BetaError,)

    def has_permission(self, user) -> bool:
        return can_manage(user)

    def get_object(self) -> NdaVersion:
        return get_object_or_404(
            NdaVersion.objects.select_related("programme"), pk=self.kwargs["pk"]
        )

    def refusal(self) -> str | None:
        if self.object.status != NdaStatus.DRAFT:
            return _("This NDA version is already published.")
        return None

    def summary(self):
        return definition_list(
            [
                (_("Programme"), self.object.programme),
                (_("Title"), self.object.title),
                (
                    _("What happens"),
                    _(
                        "The text becomes immutable and every participant must accept it before "
                        "they see the programme's confidential content again."
                    ),
                ),
            ]
        )

    def perform(self, form) -> str:
        actions.publish_nda(self.object, self.request.user, request=self.request)
        return _("Published version %(version)s of %(title)s.") % {
            "version": self.object.version,
            "title": self.object.title,
        }


class NdaVersionViewSet(ObjectActionsViewSetMixin, IndexQuerysetMixin, ModelViewSet):
    model = NdaVersion
    name = "beta_ndas"
    icon = "doc-full"
    menu_label = _("NDA versions")
    add_to_admin_menu = False
    edit_view_class = NdaEditView
    inspect_view_class = NdaInspectView
    inspect_view_enabled = True
    copy_view_enabled = False
    form_fields = ["programme", "title", "body", "body_zh"]
    list_display = [
        "title",
        "programme",
        Column("version", label=_("Version")),
        status_column(lambda n: n.status == NdaStatus.PUBLISHED),
        DateColumn("published_at", label=_("Published"), sort_key="published_at"),
    ]
    list_filter = ["status", "programme"]
    inspect_view_fields = [
        "programme",
        "title",
        "body",
        "body_zh",
        "status",
        "version",
        "content_hash",
        "published_at",
        "published_by",
    ]
    ordering = ["programme__name", "-version"]
    object_actions = {"publish": PublishNdaView}

    def get_queryset(self, request):
        return NdaVersion.objects.select_related("programme")


class NdaAcceptanceViewSet(IndexQuerysetMixin, ModelViewSet):
    model = NdaAcceptance
    name = "beta_nda_acceptances"
    icon = "tick"
    menu_label = _("NDA acceptances")
    add_to_admin_menu = False
    add_to_reference_index = False
    exclude_form_fields: list[str] = []
    list_display = [
        Column("user", label=_("Person"), accessor=lambda a: format_who(a.user)),
        "organisation",
        "programme",
        Column("version", label=_("Version")),
        DateColumn("accepted_at", label=_("Accepted"), sort_key="accepted_at"),
    ]
    list_filter = ["programme"]
    inspect_view_enabled = True
    inspect_view_fields = [
        "user",
        "organisation",
        "programme",
        "version",
        "content_hash",
        "accepted_at",
        "ip_address",
        "user_agent",
    ]
    ordering = ["-accepted_at"]

    def get_queryset(self, request):
        return NdaAcceptance.objects.select_related("user", "organisation", "programme")


# --- cohorts and builds

register_permission_policy(Cohort, NoDeletePermissionPolicy(Cohort))
register_permission_policy(Build, NoDeletePermissionPolicy(Build))


class PeopleField(forms.ModelMultipleChoiceField):
    """People by name and e-mail: two participants may share a name."""

    def label_from_instance(self, obj) -> str:
        return f"{format_who(obj)} ({obj.email})"


class CohortForm(WagtailAdminModelForm):
    members = PeopleField(
        label=_("Members"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("People with an accepted place in the programme."),
    )
    create_space = forms.BooleanField(
        label=_("Create a private discussion space"),
        required=False,
        initial=True,
        help_text=_(
            "The community creates a space only the cohort's members see, under a neutral "
            "name (rename it in the community's spaces)."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        accepted = Application.objects.filter(status=ApplicationStatus.ACCEPTED)
        if self.instance.pk:
            # Offered when the cohort is created; later, staff add a space in the community.
            del self.fields["create_space"]
            accepted = accepted.filter(programme_id=self.instance.programme_id)
            self.fields["members"].initial = list(self.instance.group.user_set.all())
        self.fields["members"].queryset = User.objects.filter(
            pk__in=accepted.values("applicant_id")
        ).order_by("email")


class RefusalsOnFormMixin:
    """The action's refusal (BetaError) is shown on the form, at the field it names."""

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except BetaError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return self.form_invalid(form)


class CohortCreateView(RefusalsOnFormMixin, CreateView):
    def save_instance(self):
        data = self.form.cleaned_data
        cohort = actions.create_cohort(
            data["programme"],
            data["name"],
            self.request.user,
            name_zh=data["name_zh"],
            create_space=data["create_space"],
            request=self.request,
        )
        actions.set_cohort_members(
            cohort, list(data["members"]), self.request.user, request=self.request
        )
        return cohort


class CohortEditView(RefusalsOnFormMixin, EditView):
    def save_instance(self):
        instance = super().save_instance()
        actions.set_cohort_members(
            instance,
            list(self.form.cleaned_data["members"]),
            self.request.user,
            request=self.request,
        )
        return instance


class CohortViewSet(IndexQuerysetMixin, ModelViewSet):
    model = Cohort
    name = "beta_cohorts"
    icon = "group"
    menu_label = _("Cohorts")
    add_to_admin_menu = False
    add_view_class = CohortCreateView
    edit_view_class = CohortEditView
    copy_view_enabled = False
    list_display = ["name", "programme", "group"]
    list_filter = ["programme"]
    edit_handler = ObjectList(
        [
            FieldPanel("programme"),
            FieldRowPanel([FieldPanel("name"), FieldPanel("name_zh")]),
            FieldPanel("members"),
            FieldPanel("create_space"),
        ],
        base_form_class=CohortForm,
    )

    def get_queryset(self, request):
        return Cohort.objects.select_related("programme", "group")


class BuildForm(WagtailAdminModelForm):
    def clean(self):
        cleaned = super().clean()
        has_file = bool(cleaned.get("file"))
        if has_file == bool(cleaned.get("external_url")):
            raise forms.ValidationError(_("Give either a file or an external link."))
        return cleaned

    def save(self, commit=True):
        upload = self.cleaned_data.get("file")
        if upload and hasattr(upload, "chunks") and "file" in self.changed_data:
            import hashlib

            digest = hashlib.sha256()
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
            self.instance.sha256 = digest.hexdigest()
            self.instance.size = upload.size
        elif not upload:
            self.instance.sha256, self.instance.size = "", None
        return super().save(commit=commit)


class BuildViewSet(IndexQuerysetMixin, ModelViewSet):
    model = Build
    name = "beta_builds"
    icon = "download"
    menu_label = _("Builds")
    add_to_admin_menu = False
    copy_view_enabled = False
    inspect_view_enabled = True
    list_display = [
        "version",
        "programme",
        DateColumn("published_at", label=_("Published"), sort_key="published_at"),
        Column("expires_on", label=_("Expires"), sort_key="expires_on"),
    ]
    list_filter = ["programme"]
    edit_handler = ObjectList(
        [
            FieldRowPanel([FieldPanel("programme"), FieldPanel("version")]),
            FieldPanel("release_notes"),
            FieldPanel("release_notes_zh"),
            FieldPanel("what_to_test"),
            FieldPanel("what_to_test_zh"),
            FieldPanel("file"),
            FieldPanel("external_url"),
            FieldRowPanel([FieldPanel("expires_on"), FieldPanel("min_nda_version")]),
            FieldPanel("cohorts", widget=forms.CheckboxSelectMultiple),
        ],
        base_form_class=BuildForm,
    )

    def get_queryset(self, request):
        return Build.objects.select_related("programme")
