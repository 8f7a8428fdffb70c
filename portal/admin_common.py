"""Pieces the staff screens of the Wagtail admin share (carbon's and community's
`wagtail_hooks.py` and `admin_*.py`): permission policies for draft workflows and rows that are
never deleted, add and edit views that write to the audit trail, a viewset mixin for screens
that link to each other, the action-form view behind every confirmation screen, table columns
and the small formatters of inspect views and summaries."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView, View
from wagtail.admin.forms.models import formfield_for_dbfield
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.fields import register_display_class
from wagtail.admin.ui.tables import StatusTagColumn
from wagtail.admin.views.generic import CreateView, EditView, InspectView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.permission_policies import ModelPermissionPolicy

from portal import audit
from portal.exceptions import PermissionDeniedError
from portal.models import User

# The mixins below extend a Wagtail viewset and a Django form view: the type checker reads them
# as such (Wagtail ships no types, so its classes are Any), while at run time they stay plain
# mixins that the concrete classes combine with the real base.
if TYPE_CHECKING:
    from django.views.generic import FormView as _FormView
    from django_stubs_ext import StrOrPromise
    from wagtail.admin.viewsets.model import ModelViewSet as _ModelViewSet
else:
    _ModelViewSet = _FormView = object

# --- permission policies


class NoDeletePermissionPolicy(ModelPermissionPolicy):
    """Rows that other rows or the audit trail point at are never deleted through the admin."""

    def user_has_permission(self, user, action):
        return action != "delete" and super().user_has_permission(user, action)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)


class DraftOnlyPermissionPolicy(NoDeletePermissionPolicy):
    """A versioned workflow's objects change only while their status is `draft_status`: once
    submitted or published they are evidence (the actions refuse changes too)."""

    def __init__(self, model, *, draft_status: str, **kwargs: Any) -> None:
        super().__init__(model, **kwargs)
        self.draft_status = draft_status

    def user_has_permission_for_instance(self, user, action, instance):
        if action == "change" and instance.status != self.draft_status:
            return False
        return self.user_has_permission(user, action)


# --- views of draft workflows


class DraftOnlyEditView(EditView):
    """The edit URL of an object that is no longer a draft leads back to the object, with
    `not_draft_message` saying how to change it instead."""

    draft_status: str
    not_draft_message: StrOrPromise = ""

    def dispatch(self, request, *args, **kwargs):
        instance = get_object_or_404(self.model, pk=kwargs.get("pk"))
        if instance.status != self.draft_status:
            messages.error(request, self.not_draft_message)
            return redirect(reverse(self.inspect_url_name, args=(instance.pk,)))
        return super().dispatch(request, *args, **kwargs)


class DraftOnlyInspectView(InspectView):
    """No edit button once the object is no longer a draft."""

    draft_status: str

    def get_edit_url(self):
        if self.object.status == self.draft_status:
            return super().get_edit_url()
        return None


# --- audited create and edit views


def audit_details(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    """The values of `fields` on `instance` as JSON: foreign keys by id (the audit row must not
    hold a live reference), decimals and dates as text."""
    details = {}
    for name in fields:
        field = instance._meta.get_field(name)
        attname = field.attname if isinstance(field, models.Field) else name
        details[name] = getattr(instance, attname)
    return json.loads(json.dumps(details, cls=DjangoJSONEncoder))


class _AuditedSave:
    """Writes an audit record with every object the form saves, in the view's transaction:
    `audit_action` (default ``<app_label>.<model>_<audit_verb>``, e.g. ``carbon.product_created``)
    by the signed-in user, with the values of `audit_fields` (default: the form's fields that
    are columns)."""

    audit_action = ""
    audit_verb = ""
    audit_fields: list[str] | None = None
    # Set by the Wagtail view this mixes into.
    form: Any
    model: Any
    request: Any

    def audited_fields(self) -> list[str]:
        if self.audit_fields is not None:
            return self.audit_fields
        columns = {field.name for field in self.model._meta.concrete_fields}
        return [name for name in self.form.fields if name in columns]

    def audit(self, instance: models.Model, details: dict[str, Any]) -> None:
        audit.record(
            self.audit_action or f"{instance._meta.label_lower}_{self.audit_verb}",
            actor=self.request.user,
            obj=instance,
            request=self.request,
            details=details,
        )


class AuditedCreateView(_AuditedSave, CreateView):
    """A ModelViewSet's add view whose new object goes to the audit trail with its fields."""

    audit_verb = "created"

    def save_instance(self):
        instance = super().save_instance()
        self.audit(instance, audit_details(instance, self.audited_fields()))
        return instance


class AuditedEditView(_AuditedSave, EditView):
    """A ModelViewSet's edit view whose changes go to the audit trail: the names of the changed
    fields and the new values of those among `audit_fields`."""

    audit_verb = "changed"

    def save_instance(self):
        instance = super().save_instance()
        changed = list(self.form.changed_data)
        audited = [name for name in self.audited_fields() if name in changed]
        self.audit(instance, {"changed": changed, **audit_details(instance, audited)})
        return instance


# --- viewsets


class AdminFormFieldsMixin(_ModelViewSet):
    """For a ModelViewSet whose form comes from `form_fields` rather than panels: its fields
    are made as the panels' are, through Wagtail's form-field overrides. Wagtail's own
    `formfield_for_dbfield` here skips them, so a URL field would keep Django 5's "http://"
    default for a bare host (deprecated, and not what a staff member pasting a publisher's
    link means) and dates would lose the admin's date picker."""

    def formfield_for_dbfield(self, db_field, **kwargs):
        return formfield_for_dbfield(db_field, **kwargs)


class ObjectActionsViewSetMixin(_ModelViewSet):
    """For a ModelViewSet whose screens link to each other: every view that declares a
    `viewset` attribute is given the viewset, `url()` reverses one of its per-object URLs, and
    each view of `object_actions` gets the URL `<name>/<pk>/` (underscores as hyphens)."""

    object_actions: dict[str, type[View]] = {}

    def get_common_view_kwargs(self, **kwargs):
        # Wagtail passes a common keyword only to the views that have the attribute.
        return super().get_common_view_kwargs(viewset=self, **kwargs)

    def url(self, view_name: str, obj: Any) -> str:
        return reverse(self.get_url_name(view_name), args=(obj.pk,))

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            *(
                path(
                    f"{name.replace('_', '-')}/<int:pk>/",
                    view_class.as_view(viewset=self),
                    name=name,
                )
                for name, view_class in self.object_actions.items()
            ),
        ]


def status_column(primary: Callable[[Any], bool]) -> StatusTagColumn:
    """The `status` column as a tag, highlighted where `primary(obj)` (the state that needs
    someone, or the one in force)."""
    return StatusTagColumn(
        "status",
        label=_("Status"),
        accessor="get_status_display",
        primary=primary,
        sort_key="status",
    )


# --- formatting


class Html(Component):
    """A fragment of already-escaped HTML (format_html) as an inspect-view field value."""

    def __init__(self, html):
        self.html = html

    def render_html(self, parent_context=None):
        return self.html


class YesNo(Component):
    """A yes/no model field in an inspect view: the same icon and translated name as in listings
    (portal/templates/wagtailadmin/tables/cell.html), not "True" or "False"."""

    template_name = "portal/admin/yes_no.html"

    def __init__(self, value):
        self.value = value

    def get_context_data(self, parent_context=None):
        return {"value": self.value}


register_display_class(models.BooleanField, display_class=YesNo)


def format_when(value) -> str:
    return date_format(value, "DATETIME_FORMAT") if value else "—"


def format_who(user) -> str:
    if user is None:
        return "—"
    return (user.get_full_name() or "").strip() or str(user)


def definition_list(rows) -> Html:
    """A small definition list for a summary above a confirmation form."""
    return Html(format_html("<dl>{}</dl>", format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows)))


def inspect_field(label, value, component: Component | None = None) -> dict[str, Any]:
    """One row of an inspect view's `fields`, beside those Wagtail makes from the model."""
    return {"label": label, "value": value, "component": component}


# --- action screens


class ConfirmForm(forms.Form):
    pass


class GenericFormMixin(_FormView):
    """Render a FormView with Wagtail's generic form template, posting back to itself."""

    template_name = "wagtailadmin/generic/form.html"
    submit_button_label = _("Confirm")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["action_url"] = self.request.path
        context["submit_button_label"] = self.submit_button_label
        context["submit_button_active_label"] = self.submit_button_label
        return context


class ObjectActionMixin(WagtailAdminTemplateMixin):
    """A screen for one action on one object of a viewset (or on none): who may act is checked
    and the object loaded before anything else; a state that refuses the action sends the user
    back to the object with a message; the breadcrumbs lead through the viewset's index and the
    object."""

    viewset: Any = None
    index_label: StrOrPromise = ""
    object: Any = None

    def has_permission(self, user) -> bool:
        """Who may act: nobody unless the screen says so."""
        return False

    def get_object(self) -> Any:
        """The object acted on, from the URL; None for actions on no object."""
        return None

    def refusal(self) -> StrOrPromise | None:
        """Why the object's state refuses the action, checked before the form is shown."""
        return None

    def dispatch(self, request, *args, **kwargs):
        if not self.has_permission(request.user):
            raise PermissionDenied
        self.object = self.get_object()
        refusal = self.refusal()
        if refusal:
            messages.error(request, refusal)
            return self.back()
        return super().dispatch(request, *args, **kwargs)

    def back(self) -> HttpResponse:
        return redirect(self.viewset.url("inspect", self.object))

    @property
    def acting_user(self) -> User:
        """The staff member acting. Wagtail lets only signed-in staff reach its views, and
        dispatch() has checked `has_permission`; an anonymous request is refused all the same."""
        user = self.request.user
        if not user.is_authenticated:
            raise PermissionDenied
        return user

    def get_breadcrumbs_items(self):
        items = [
            *self.breadcrumbs_items,
            {"url": reverse(self.viewset.get_url_name("index")), "label": self.index_label},
        ]
        if self.object is not None:
            items.append(
                {"url": self.viewset.url("inspect", self.object), "label": str(self.object)}
            )
        return [*items, {"url": "", "label": self.get_page_title()}]


class ActionFormView(GenericFormMixin, ObjectActionMixin, FormView):
    """The confirmation form of an action, with a summary above it (`summary()`) and the form's
    media (date pickers) loaded. `perform(form)` runs the action and returns the success
    message; the domain's refusals (`refused`) are shown as a message and the user goes back to
    the object, or, with `refusals_on_form`, on the form at the field they name."""

    # Wagtail's generic form with the summary (and the errors that name no field) above it.
    template_name = "portal/admin/decision.html"
    refused: tuple[type[Exception], ...] = ()
    refusals_on_form = False

    def summary(self) -> Component | None:
        return None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["summary"] = self.summary()
        context["media"] = context["form"].media
        return context

    def perform(self, form) -> StrOrPromise:
        raise NotImplementedError

    def done(self) -> HttpResponse:
        """Where the user goes after the action succeeded."""
        return self.back()

    def form_valid(self, form):
        try:
            message = self.perform(form)
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from exc
        except self.refused as exc:
            return self.refused_response(form, exc)
        messages.success(self.request, message)
        return self.done()

    def refused_response(self, form, exc: Exception) -> HttpResponse:
        if self.refusals_on_form:
            field = getattr(exc, "field", None)
            form.add_error(field if field in form.fields else None, str(exc))
            return self.form_invalid(form)
        messages.error(self.request, str(exc))
        return self.back()
