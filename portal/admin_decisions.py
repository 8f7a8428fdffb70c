"""One staff screen for deciding on an object in the Wagtail admin: a review queue's item is shown
with its state, and the staff member takes one of a set of decisions (approve or reject, fulfil,
verify, waitlist...), with a reason where the decision asks for one.

A plugin describes its decisions once, in a `DecisionScreen` (who may decide, the object, the
state that refuses every decision, the summary shown above the form, where the user goes
afterwards) holding one `Decision` per URL (its label, its reason, the app's action that performs
it and the success message). `DecisionsViewSetMixin` mounts each decision at `<name>/<pk>/` of its
viewset with `DecisionView`, which holds the form, the error display, the message and the
redirect for all of them. The app's action writes the audit trail; the view never does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.widgets import HeaderButton

from portal.admin_common import (
    ActionFormView,
    ConfirmForm,
    ObjectActionsViewSetMixin,
    definition_list,
)
from portal.models import User

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

TEMPLATE = "portal/admin/decision.html"


@dataclass(frozen=True)
class Reason:
    """The free-text field of a decision's form: why, or a note kept with the decision."""

    name: str
    label: StrOrPromise
    required: bool = False
    help_text: StrOrPromise = ""
    max_length: int | None = None
    rows: int = 3

    def field(self) -> forms.CharField:
        return forms.CharField(
            label=self.label,
            required=self.required,
            max_length=self.max_length,
            help_text=self.help_text,
            widget=forms.Textarea(attrs={"rows": self.rows}),
        )


@dataclass(frozen=True)
class Act:
    """What a decision's action is given: the object, the staff member, the reason typed ("" for
    none), the whole cleaned form and the request (for the audit trail)."""

    obj: Any
    user: User
    reason: str
    data: dict[str, Any]
    request: HttpRequest


@dataclass(frozen=True)
class Decision:
    """One decision of a screen. `perform` calls the app's action (which raises the screen's
    `refused` errors, or PermissionDeniedError); `message` is the success message, formatted
    with the screen's `message_values` of the object once decided."""

    name: str
    label: StrOrPromise
    title: StrOrPromise
    icon: str
    perform: Callable[[Act], object]
    message: StrOrPromise
    # None: the screen's reason (if any).
    reason: Reason | None = None
    # Fields beyond the reason (a date, an assignee); the reason is added after them.
    form_class: type[forms.Form] = ConfirmForm
    initial: Callable[[Any], dict[str, Any]] | None = None
    # Who may take this decision, when it is not everyone the screen lets decide.
    permission: Callable[[Any], bool] | None = None
    # A state of the object that refuses this decision only (the screen's refusal comes first).
    refusal: Callable[[Any], StrOrPromise | None] | None = None


@dataclass
class DecisionScreen:
    """The decisions on one viewset's objects and what they share. Subclasses say who may decide,
    load the object, refuse a state and describe the object; the rest is data."""

    index_label: StrOrPromise
    decisions: Sequence[Decision]
    # The app's refusals: shown on the form at the field they name (`refusals_on_form`), or as
    # a message on the object's page.
    refused: tuple[type[Exception], ...] = ()
    refusals_on_form: bool = False
    # After a decision: the queue (the object has usually left it), or the object's page.
    back_to_index: bool = True
    # The reason of the decisions that do not name their own.
    reason: Reason | None = None
    state_label: StrOrPromise = field(default_factory=lambda: _("Status"))

    def has_permission(self, user: Any) -> bool:
        """Who may decide: nobody unless the screen says so."""
        return False

    def get_object(self, pk: int) -> Any:
        raise NotImplementedError

    def refusal(self, obj: Any) -> StrOrPromise | None:
        """Why the object's state refuses every decision (it was decided already)."""
        return None

    def state(self, obj: Any) -> StrOrPromise:
        return obj.get_status_display()

    def summary_rows(self, obj: Any) -> list[tuple[Any, Any]]:
        """What the staff member decides on, below its state."""
        return []

    def message_values(self, obj: Any) -> dict[str, Any]:
        return {}

    def reason_of(self, decision: Decision) -> Reason | None:
        return decision.reason or self.reason

    def form_class(self, decision: Decision) -> type[forms.Form]:
        reason = self.reason_of(decision)
        if reason is None:
            return decision.form_class
        return type(
            f"{decision.name.title().replace('_', '')}DecisionForm",
            (decision.form_class,),
            {reason.name: reason.field()},
        )

    def decision(self, name: str) -> Decision:
        [decision] = [d for d in self.decisions if d.name == name]
        return decision

    def buttons(
        self,
        viewset: Any,
        obj: Any,
        names: Sequence[str] | None = None,
        button_class: type = HeaderButton,
        **kwargs: Any,
    ) -> list[Any]:
        """A button per decision (all, or those named, in that order) leading to its screen."""
        decisions = self.decisions if names is None else [self.decision(n) for n in names]
        return [
            button_class(d.label, url=viewset.url(d.name, obj), icon_name=d.icon, **kwargs)
            for d in decisions
        ]


class DecisionView(ActionFormView):
    """The screen of one decision: the object's state and summary above the form; who may decide
    and the state are checked first (ObjectActionMixin), the app's refusals are shown on the form
    or as a message, and success is a message and the way back to the queue or the object."""

    template_name = TEMPLATE
    screen: Any = None
    decision: Any = None

    def has_permission(self, user) -> bool:
        allowed = self.decision.permission or self.screen.has_permission
        return bool(allowed(user))

    def get_object(self) -> Any:
        return self.screen.get_object(self.kwargs["pk"])

    def refusal(self) -> StrOrPromise | None:
        refusal = self.screen.refusal(self.object)
        if refusal is None and self.decision.refusal is not None:
            refusal = self.decision.refusal(self.object)
        return refusal

    def get_form_class(self):
        return self.screen.form_class(self.decision)

    def get_initial(self):
        if self.decision.initial is None:
            return super().get_initial()
        return self.decision.initial(self.object)

    def summary(self):
        screen = self.screen
        return definition_list(
            [(screen.state_label, screen.state(self.object)), *screen.summary_rows(self.object)]
        )

    def perform(self, form) -> StrOrPromise:
        data = form.cleaned_data
        reason = self.screen.reason_of(self.decision)
        self.decision.perform(
            Act(
                obj=self.object,
                user=self.acting_user,
                reason=data[reason.name] if reason else "",
                data=data,
                request=self.request,
            )
        )
        return self.decision.message % self.screen.message_values(self.object)

    def done(self) -> HttpResponse:
        if self.screen.back_to_index:
            return redirect(reverse(self.viewset.get_url_name("index")))
        return self.back()


class DecisionsViewSetMixin(ObjectActionsViewSetMixin):
    """For a ModelViewSet whose objects are decided on: each decision of `decisions` gets the URL
    `<name>/<pk>/` (underscores as hyphens) and the name `<name>`, beside `object_actions`."""

    decisions: DecisionScreen

    def get_urlpatterns(self):
        screen = self.decisions
        return [
            *super().get_urlpatterns(),
            *(
                path(
                    f"{decision.name.replace('_', '-')}/<int:pk>/",
                    DecisionView.as_view(
                        viewset=self,
                        screen=screen,
                        decision=decision,
                        page_title=decision.title,
                        header_icon=decision.icon,
                        submit_button_label=decision.label,
                        index_label=screen.index_label,
                        refused=screen.refused,
                        refusals_on_form=screen.refusals_on_form,
                    ),
                    name=decision.name,
                )
                for decision in screen.decisions
            ),
        ]
