"""Staff screens for beta programmes in the Wagtail admin ("Beta programmes" menu): programmes
with their phases and screening questions, status changes through a confirmation screen (never
the edit form), and the application review queue (accept, waitlist, reject with a reason).
Creating and changing a programme is audited like every decision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.shortcuts import get_object_or_404
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    InlinePanel,
    MultiFieldPanel,
    ObjectList,
    TabbedInterface,
)
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views.generic import CreateView, EditView, IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import Button, HeaderButton, ListingButton
from wagtail.permissions import register_permission_policy

from beta_program.programmes import actions
from beta_program.programmes.access import can_manage
from beta_program.programmes.admin_participation import (
    CloseOutCsvView,
    CloseOutPdfView,
    CloseOutView,
    GraduateView,
    ProgrammeActionView,
)
from beta_program.programmes.exceptions import BetaError
from beta_program.programmes.forms import StatusForm
from beta_program.programmes.models import (
    TRANSITIONS,
    Application,
    ApplicationStatus,
    Programme,
    ProgrammeStatus,
)
from portal import audit
from portal.admin_common import (
    NoDeletePermissionPolicy,
    ObjectActionsViewSetMixin,
    definition_list,
    format_when,
    format_who,
    inspect_field,
    status_column,
)
from portal.admin_decisions import Act, Decision, DecisionScreen, DecisionsViewSetMixin, Reason
from portal.models import Tier
from portal.wagtail_hooks import IndexQuerysetMixin, ReadOnlyPermissionPolicy

# Applications, status history and the audit trail point at a programme: it is closed, never
# deleted. Applications change only through the review actions.
register_permission_policy(Programme, NoDeletePermissionPolicy(Programme))
register_permission_policy(Application, ReadOnlyPermissionPolicy(Application))

AUDIT_FIELDS = [
    "name",
    "slug",
    "product_line",
    "confidentiality",
    "capacity_total",
    "capacity_per_organisation",
    "auto_accept",
    "eligible_tiers",
    "eligible_countries",
    "required_skus",
    "applicant_min_role",
]


def _lines(value) -> str:
    return "\n".join(value or [])


class ListField(forms.CharField):
    """A list of short values, one per line or separated by commas."""

    def prepare_value(self, value):
        return _lines(value) if isinstance(value, list) else value

    def to_python(self, value):
        text = super().to_python(value) or ""
        return [part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()]


class ProgrammeForm(WagtailAdminModelForm):
    eligible_tiers = forms.MultipleChoiceField(
        label=_("Eligible tiers"),
        choices=Tier.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every tier."),
    )
    eligible_countries = ListField(
        label=_("Eligible countries/regions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Two-letter ISO codes, one per line or separated by commas. Empty: any."),
    )
    required_skus = ListField(
        label=_("Products owned (SKUs)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The organisation must have ordered one of these. Empty: any."),
    )

    def save(self, commit=True):
        if self.instance.pk is None and self.for_user is not None:
            self.instance.created_by = self.for_user
        return super().save(commit=commit)


def _details(instance: Programme, names: list[str]) -> dict:
    return {name: getattr(instance, name) for name in names}


class ProgrammeCreateView(CreateView):
    def save_instance(self):
        instance = super().save_instance()
        audit.record(
            "beta.programme_created",
            actor=self.request.user,
            obj=instance,
            request=self.request,
            details=_details(instance, AUDIT_FIELDS),
        )
        return instance


class ProgrammeEditView(EditView):
    def save_instance(self):
        instance = super().save_instance()
        changed = list(self.form.changed_data)
        audit.record(
            "beta.programme_changed",
            actor=self.request.user,
            obj=instance,
            request=self.request,
            details={
                "changed": changed,
                **_details(instance, [f for f in AUDIT_FIELDS if f in changed]),
            },
        )
        return instance


def yes_no(value: bool) -> str:
    """A yes/no field as staff read it, never Python's True/False."""
    return str(_("Yes") if value else _("No"))


def _places(capacity: int | None) -> str:
    return str(_("No limit") if capacity is None else capacity)


class ProgrammeInspectView(InspectView):
    viewset = None

    def get_auto_accept_display_value(self) -> str:
        return yes_no(self.object.auto_accept)

    # An empty capacity means no limit (the form's help text says so), never "None".
    def get_capacity_total_display_value(self) -> str:
        return _places(self.object.capacity_total)

    def get_capacity_per_organisation_display_value(self) -> str:
        return _places(self.object.capacity_per_organisation)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        programme = self.object
        history = programme.status_changes.select_related("changed_by")
        context["fields"] = [
            inspect_field(_("Status"), programme.get_status_display()),
            inspect_field(
                _("Status history"),
                None,
                definition_list(
                    [
                        (
                            format_when(change.changed_at),
                            f"{change.get_from_status_display()} → "
                            f"{change.get_to_status_display()} ({format_who(change.changed_by)})"
                            + (f": {change.note}" if change.note else ""),
                        )
                        for change in history
                    ]
                    or [("—", _("No change yet"))]
                ),
            ),
            *context["fields"],
        ]
        return context

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if can_manage(self.request.user) and self.object.status not in (
            ProgrammeStatus.CLOSED,
            ProgrammeStatus.GRADUATED,
        ):
            buttons.append(
                HeaderButton(
                    _("Change status"),
                    url=self.viewset.url("change_status", self.object),
                    icon_name="resubmit",
                )
            )
        if can_manage(self.request.user) and self.object.status == ProgrammeStatus.CLOSED:
            buttons.append(
                HeaderButton(
                    _("Graduate to general availability"),
                    url=self.viewset.url("graduate", self.object),
                    icon_name="tick",
                )
            )
        buttons.append(
            HeaderButton(
                _("Close-out summary"),
                url=self.viewset.url("closeout", self.object),
                icon_name="doc-full",
            )
        )
        return buttons


class ChangeStatusView(ProgrammeActionView):
    page_title = _("Change programme status")
    header_icon = "resubmit"
    form_class = StatusForm
    submit_button_label = _("Change status")

    def refusal(self) -> str | None:
        if not TRANSITIONS[self.object.status]:
            return _("A graduated programme keeps its status.")
        if self.object.status == ProgrammeStatus.CLOSED:
            return _("A closed programme only graduates: use “Graduate to general availability”.")
        return None

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        # Graduation thanks the participants and may grant points: it has its own screen.
        allowed = TRANSITIONS[self.object.status] - {ProgrammeStatus.GRADUATED}
        kwargs["choices"] = [(s.value, s.label) for s in ProgrammeStatus if s in allowed]
        return kwargs

    def summary(self):
        return definition_list(
            [(_("Programme"), self.object), (_("Status now"), self.object.get_status_display())]
        )

    def perform(self, form) -> str:
        actions.change_status(
            self.object,
            form.cleaned_data["status"],
            self.request.user,
            note=form.cleaned_data["note"],
            request=self.request,
        )
        return _("%(programme)s is now %(status)s.") % {
            "programme": self.object,
            "status": self.object.get_status_display().lower(),
        }


class ProgrammeViewSet(ObjectActionsViewSetMixin, IndexQuerysetMixin, ModelViewSet):
    model = Programme
    name = "beta_programmes"
    icon = "tasks"
    menu_label = _("Programmes")
    add_to_admin_menu = False
    add_view_class = ProgrammeCreateView
    edit_view_class = ProgrammeEditView
    inspect_view_class = ProgrammeInspectView
    inspect_view_enabled = True
    copy_view_enabled = False
    list_display = [
        "name",
        "product_line",
        Column(
            "confidentiality", label=_("Confidentiality"), accessor="get_confidentiality_display"
        ),
        status_column(lambda p: p.status == ProgrammeStatus.RECRUITING),
        Column("capacity_total", label=_("Places")),
    ]
    list_filter = ["status", "confidentiality"]
    search_fields = ["name", "name_zh", "slug", "product_line"]
    ordering = ["name"]
    inspect_view_fields = [
        "name",
        "name_zh",
        "slug",
        "product_line",
        "summary",
        "goals",
        "exit_criteria",
        "confidentiality",
        "capacity_total",
        "capacity_per_organisation",
        "auto_accept",
        "applicant_min_role",
        "created_at",
    ]
    object_actions = {
        "change_status": ChangeStatusView,
        "graduate": GraduateView,
        "closeout": CloseOutView,
        "closeout_csv": CloseOutCsvView,
        "closeout_pdf": CloseOutPdfView,
    }
    edit_handler = TabbedInterface(
        [
            ObjectList(
                [
                    FieldRowPanel([FieldPanel("name"), FieldPanel("name_zh")]),
                    FieldPanel("slug"),
                    FieldRowPanel([FieldPanel("product_line"), FieldPanel("product_line_zh")]),
                    FieldPanel("summary"),
                    FieldPanel("summary_zh"),
                    FieldPanel("goals"),
                    FieldPanel("goals_zh"),
                    FieldPanel("exit_criteria"),
                    FieldPanel("exit_criteria_zh"),
                    FieldPanel("confidentiality"),
                    FieldPanel("owners", widget=forms.CheckboxSelectMultiple),
                ],
                heading=_("Programme"),
            ),
            ObjectList(
                [InlinePanel("phases", label=_("Phase"), heading=_("Phases"))],
                heading=_("Phases"),
            ),
            ObjectList(
                [
                    MultiFieldPanel(
                        [
                            FieldPanel("eligible_tiers"),
                            FieldPanel("eligible_countries"),
                            FieldPanel("required_skus"),
                            FieldPanel("applicant_min_role"),
                        ],
                        heading=_("Who may apply"),
                    ),
                    MultiFieldPanel(
                        [
                            FieldRowPanel(
                                [
                                    FieldPanel("capacity_total"),
                                    FieldPanel("capacity_per_organisation"),
                                ]
                            ),
                            FieldPanel("auto_accept"),
                        ],
                        heading=_("Places"),
                    ),
                    InlinePanel(
                        "questions", label=_("Screening question"), heading=_("Screening questions")
                    ),
                ],
                heading=_("Recruiting"),
            ),
            ObjectList(
                [
                    InlinePanel(
                        "environment_fields",
                        label=_("Environment field"),
                        heading=_("Environment fields"),
                    )
                ],
                heading=_("Feedback"),
            ),
        ],
        base_form_class=ProgrammeForm,
    )


# --- the review queue


OPEN_STATUSES = (ApplicationStatus.PENDING, ApplicationStatus.WAITLISTED)


def _answer_rows(application: Application) -> list[tuple[str, Any]]:
    """(question text, answer) for each screening answer, lists joined with commas."""
    questions = {str(q.pk): q.text for q in application.programme.questions.all()}
    return [
        (questions.get(key, key), ", ".join(v) if isinstance(v, list) else v)
        for key, v in application.answers.items()
    ]


class ApplicationDecisions(DecisionScreen):
    """Accept, waitlist or reject an open application: programme managers only."""

    def has_permission(self, user) -> bool:
        return can_manage(user)

    def get_object(self, pk: int) -> Application:
        return get_object_or_404(
            Application.objects.select_related("programme", "organisation", "applicant"), pk=pk
        )

    def refusal(self, obj: Application) -> str | None:
        if obj.status not in OPEN_STATUSES:
            return _("This application is already %(status)s.") % {
                "status": obj.get_status_display().lower()
            }
        return None

    def summary_rows(self, obj: Application) -> list[tuple[Any, Any]]:
        answers = _answer_rows(obj)
        return [
            (_("Programme"), obj.programme),
            (
                _("Organisation"),
                f"{obj.organisation} ({obj.organisation.get_tier_display()}, "
                f"{obj.organisation.country})",
            ),
            (_("Applicant"), format_who(obj.applicant)),
            (_("Submitted"), format_when(obj.submitted_at)),
            *answers,
        ]

    def message_values(self, obj: Application) -> dict[str, Any]:
        return {"organisation": obj.organisation}


# The action refuses a rejection without a reason, on the form.
REASON = Reason("reason", _("Reason (the applicant reads it)"), max_length=1000)


def _decide(status: str) -> Callable[[Act], object]:
    return lambda act: actions.decide_application(
        act.obj, status, act.user, reason=act.reason, request=act.request
    )


DECISIONS = ApplicationDecisions(
    index_label=_("Applications"),
    refused=(BetaError,),
    refusals_on_form=True,
    reason=REASON,
    decisions=[
        Decision(
            name="accept",
            label=_("Accept"),
            title=_("Accept application"),
            icon="check",
            perform=_decide(ApplicationStatus.ACCEPTED),
            message=_("Accepted %(organisation)s. The applicant is told by e-mail."),
        ),
        Decision(
            name="waitlist",
            label=_("Waitlist"),
            title=_("Waitlist application"),
            icon="time",
            perform=_decide(ApplicationStatus.WAITLISTED),
            message=_("Waitlisted %(organisation)s. The applicant is told by e-mail."),
        ),
        Decision(
            name="reject",
            label=_("Reject"),
            title=_("Reject application"),
            icon="cross",
            perform=_decide(ApplicationStatus.REJECTED),
            message=_("Rejected %(organisation)s. The applicant is told by e-mail."),
        ),
    ],
)


def _can_decide(application: Application, user) -> bool:
    return can_manage(user) and application.status in OPEN_STATUSES


class ApplicationInspectView(InspectView):
    viewset = None

    def get_auto_decided_display_value(self) -> str:
        return yes_no(self.object.auto_decided)

    def get_decided_by_display_value(self) -> str:
        return format_who(self.object.decided_by)

    def get_answers_display_value(self) -> str:
        # Answers are stored by question id; staff read them by question text.
        return "; ".join(f"{q}: {a}" for q, a in _answer_rows(self.object)) or "—"

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        application = self.object
        if _can_decide(application, self.request.user):
            # A waitlisted application is not offered the waitlist again.
            names = ["accept", "reject"]
            if application.status != ApplicationStatus.WAITLISTED:
                names.insert(1, "waitlist")
            buttons += DECISIONS.buttons(self.viewset, application, names)
        return buttons


class ApplicationIndexView(IndexView):
    viewset = None

    def get_list_more_buttons(self, instance):
        buttons = list(super().get_list_more_buttons(instance))
        if _can_decide(instance, self.request.user):
            buttons += DECISIONS.buttons(self.viewset, instance, ["accept"], ListingButton)
            buttons += DECISIONS.buttons(self.viewset, instance, ["reject"], Button)
        return buttons


class ApplicationViewSet(DecisionsViewSetMixin, IndexQuerysetMixin, ModelViewSet):
    model = Application
    name = "beta_applications"
    icon = "form"
    menu_label = _("Applications")
    add_to_admin_menu = False
    exclude_form_fields: list[str] = []
    list_display = [
        "programme",
        "organisation",
        Column("applicant", label=_("Applicant"), accessor=lambda a: format_who(a.applicant)),
        DateColumn("submitted_at", label=_("Submitted"), sort_key="submitted_at"),
        status_column(lambda a: a.status == ApplicationStatus.PENDING),
    ]
    index_view_class = ApplicationIndexView
    inspect_view_class = ApplicationInspectView
    list_filter = ["status", "programme"]
    search_fields = ["organisation__name", "programme__name"]
    inspect_view_enabled = True
    inspect_view_fields = [
        "programme",
        "organisation",
        "applicant",
        "status",
        "answers",
        "reason",
        "submitted_at",
        "decided_at",
        "decided_by",
        "auto_decided",
    ]
    copy_view_enabled = False
    # Oldest first: the queue is worked in the order applications came in.
    ordering = ["submitted_at", "id"]
    decisions = DECISIONS

    def get_queryset(self, request):
        return Application.objects.select_related("programme", "organisation", "applicant")
