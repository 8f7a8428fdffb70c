"""Staff screens of the boards' account value in the Wagtail admin (own menu group "Ideas by
account"): "Ideas by account value" (a board's ideas, or all, with votes, asking organisations,
top tiers and weighted value, sortable), each idea's "Accounts" page (the roll-up, and the votes
product staff record on behalf of an organisation), and the reporting rates Product and
Customer Success staff keep. Imported from BetaProgramConfig.ready().

Every board staff member (Product or account-facing staff, with their second factor) reads the
screens; only Product staff record or withdraw votes on behalf (accounts.vote_on_behalf checks it
again)."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView, View
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.base import ViewSet, ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet

from beta_program.boards import accounts
from beta_program.boards.access import can_manage, idea_or_404, is_board_staff
from beta_program.boards.exceptions import BoardError
from beta_program.boards.models import Board, Idea, Importance
from beta_program.boards.value_models import ReportingRate, reporting_currency
from portal.admin_common import AuditedCreateView, AuditedEditView
from portal.exceptions import PermissionDeniedError
from portal.models import Organisation
from portal.staff_roles import StaffRole, grant

PER_PAGE = 50
SORT_LABELS = {
    "weighted": gettext_lazy("Weighted value"),
    "votes": gettext_lazy("Votes"),
    "organisations": gettext_lazy("Organisations"),
    "trending": gettext_lazy("Trending (votes in 14 days)"),
    "newest": gettext_lazy("Newest"),
}

# Product and Customer Success staff keep the rates (no deleting: a rate is changed, and a
# removed one would silently turn a currency's contracts into 0).
for _role in (StaffRole.PRODUCT, StaffRole.CUSTOMER_SUCCESS):
    grant(
        _role,
        "beta_program.view_reportingrate",
        "beta_program.add_reportingrate",
        "beta_program.change_reportingrate",
    )


class BoardStaffMixin:
    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not is_board_staff(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


def _idea(request: HttpRequest, idea_id: int) -> Idea:
    # Staff see every idea of a board that is not archived: the boards' one rule decides.
    return idea_or_404(request.user, None, idea_id)


class IdeasByValueView(BoardStaffMixin, TemplateView):
    template_name = "beta_program/boards/admin/accounts_index.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        boards = list(Board.objects.visible_to(self.request.user, None))
        board = next((b for b in boards if b.slug == self.request.GET.get("board")), None)
        sort = self.request.GET.get("sort", "weighted")
        if sort not in accounts.SORTS:
            sort = "weighted"
        ideas = Idea.objects.visible_to(self.request.user, None).listed()
        if board is not None:
            ideas = ideas.filter(board=board)
        page = Paginator(accounts.ideas_by_value(ideas, sort), PER_PAGE).get_page(
            self.request.GET.get("p")
        )
        context.update(
            page_title=_("Ideas by account value"),
            header_icon="pick",
            boards=boards,
            board=board,
            sort=sort,
            sorts=list(SORT_LABELS.items()),
            page=page,
            currency=reporting_currency(),
        )
        return context


class OnBehalfForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=gettext_lazy("Organisation"), queryset=Organisation.objects.none()
    )
    importance = forms.TypedChoiceField(
        label=gettext_lazy("Importance"),
        choices=Importance.choices,
        coerce=int,
        initial=Importance.IMPORTANT,
    )
    note = forms.CharField(
        label=gettext_lazy("Who asked, and where"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Staff only, e.g. “Ms Li at the quarterly review, 3 March”."),
    )

    def __init__(self, *args, idea: Idea, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["organisation"])
        field.queryset = accounts.organisations_seeing(idea)


class IdeaAccountsView(BoardStaffMixin, TemplateView):
    """The roll-up of one idea; Product staff record votes on behalf here (POST)."""

    template_name = "beta_program/boards/admin/accounts_idea.html"

    def get(self, request: HttpRequest, idea_id: int) -> HttpResponse:
        idea = _idea(request, idea_id)
        return self.render_to_response(self.context(idea, OnBehalfForm(idea=idea)))

    def post(self, request: HttpRequest, idea_id: int) -> HttpResponse:
        if not can_manage(request.user):
            raise PermissionDenied
        idea = _idea(request, idea_id)
        form = OnBehalfForm(request.POST, idea=idea)
        if form.is_valid():
            try:
                accounts.vote_on_behalf(
                    idea,
                    form.cleaned_data["organisation"],
                    request.user,  # type: ignore[arg-type]
                    form.cleaned_data["importance"],
                    form.cleaned_data["note"],
                    request=request,
                )
            except PermissionDeniedError as exc:
                raise PermissionDenied(exc.message) from exc
            except BoardError as exc:
                field = getattr(exc, "field", None)
                form.add_error(field if field in form.fields else None, str(exc))
            else:
                messages.success(
                    request,
                    _("Vote recorded for %(organisation)s.")
                    % {"organisation": form.cleaned_data["organisation"]},
                )
                return redirect("idea_accounts:idea", idea_id=idea.pk)
        return self.render_to_response(self.context(idea, form), status=422)

    def context(self, idea: Idea, form: OnBehalfForm) -> dict:
        return self.get_context_data(
            page_title=_("Accounts: #%(id)s %(title)s") % {"id": idea.pk, "title": idea.title},
            header_icon="group",
            idea=idea,
            rollup=accounts.by_account(idea),
            form=form if can_manage(self.request.user) else None,
            index_url=reverse("idea_accounts:index"),
            withdraw_url=reverse("idea_accounts:withdraw", kwargs={"idea_id": idea.pk}),
            idea_url=reverse("beta:idea_go", kwargs={"idea_id": idea.pk}),
        )


class WithdrawOnBehalfView(BoardStaffMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, idea_id: int) -> HttpResponse:
        if not can_manage(request.user):
            raise PermissionDenied
        idea = _idea(request, idea_id)
        organisation = get_object_or_404(
            Organisation, pk=_positive(request.POST.get("organisation"))
        )
        try:
            withdrawn = accounts.withdraw_on_behalf(
                idea,
                organisation,
                request.user,  # type: ignore[arg-type]
                request=request,
            )
        except PermissionDeniedError as exc:
            raise PermissionDenied(exc.message) from exc
        if withdrawn:
            messages.success(
                request,
                _("The vote for %(organisation)s was withdrawn.") % {"organisation": organisation},
            )
        else:
            messages.error(request, _("There was no staff vote for that organisation."))
        return redirect("idea_accounts:idea", idea_id=idea.pk)


def _positive(value: str | None) -> int:
    try:
        number = int(value or "")
    except ValueError:
        return 0
    return number if 0 < number < 2**63 else 0


class BoardStaffMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return is_board_staff(request.user)


class IdeaAccountsViewSet(ViewSet):
    name = "idea_accounts"
    url_prefix = "ideas-by-account"
    icon = "pick"
    menu_label = gettext_lazy("Ideas by account value")

    @property
    def menu_item_class(self):
        return BoardStaffMenuItem

    def get_urlpatterns(self):
        return [
            path("", IdeasByValueView.as_view(), name="index"),
            path("<int:idea_id>/", IdeaAccountsView.as_view(), name="idea"),
            path("<int:idea_id>/withdraw/", WithdrawOnBehalfView.as_view(), name="withdraw"),
        ]


class RateCreateView(AuditedCreateView):
    audit_action = "boards.reporting_rate_set"

    def save_instance(self):
        self.form.instance.set_by = self.request.user
        self.form.instance.set_at = timezone.now()
        return super().save_instance()


class RateEditView(AuditedEditView):
    audit_action = "boards.reporting_rate_set"

    def save_instance(self):
        self.form.instance.set_by = self.request.user
        self.form.instance.set_at = timezone.now()
        return super().save_instance()


class ReportingRateViewSet(ModelViewSet):
    model = ReportingRate
    name = "boards_reporting_rates"
    url_prefix = "reporting-rates"
    icon = "cogs"
    menu_label = gettext_lazy("Reporting rates")
    form_fields = ["currency", "rate"]
    list_display = ["currency", "rate", "set_by", "set_at"]
    copy_view_enabled = False
    inspect_view_enabled = False
    add_view_class = RateCreateView
    edit_view_class = RateEditView


class IdeaAccountsGroup(ViewSetGroup):
    menu_label = gettext_lazy("Ideas by account")
    menu_icon = "pick"
    menu_order = 235
    items = (IdeaAccountsViewSet, ReportingRateViewSet)


@hooks.register("register_admin_viewset")
def register_idea_accounts():
    return IdeaAccountsGroup()
