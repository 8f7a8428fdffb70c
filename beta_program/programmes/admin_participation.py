"""Staff screens of a programme's end: the close-out summary (participants, scores, feedback
counts, NPS and CSAT) with its CSV download, and graduation to general availability through a
confirmation form. Beta staff read the summary; only product staff graduate."""

from __future__ import annotations

from django import forms
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView, View
from weasyprint import HTML

from beta_program.programmes import participation_actions
from beta_program.programmes.access import can_manage, is_beta_staff
from beta_program.programmes.closeout import closeout_summary, csv_rows
from beta_program.programmes.exceptions import BetaError
from beta_program.programmes.forms import AuditNoteForm
from beta_program.programmes.models import Programme, ProgrammeStatus
from beta_program.programmes.participation import weights
from portal.admin_common import ActionFormView, ObjectActionMixin, definition_list
from portal.csv_export import streaming_csv_response


class CloseOutView(ObjectActionMixin, TemplateView):
    template_name = "beta_program/programmes/admin/closeout.html"
    header_icon = "doc-full"
    index_label = _("Programmes")

    def has_permission(self, user) -> bool:
        return is_beta_staff(user)

    def get_object(self) -> Programme:
        return get_object_or_404(Programme, pk=self.kwargs["pk"])

    def get_page_title(self) -> str:
        return str(_("Close-out summary: %(programme)s") % {"programme": self.object})

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            programme=self.object,
            summary=closeout_summary(self.object),
            weights=weights(),
            csv_url=self.viewset.url("closeout_csv", self.object),
            pdf_url=self.viewset.url("closeout_pdf", self.object),
        )
        return context


class CloseOutCsvView(ObjectActionMixin, View):
    """The close-out summary as a CSV file (cells that a spreadsheet would run as formulas are
    neutralised, as in every export)."""

    def has_permission(self, user) -> bool:
        return is_beta_staff(user)

    def get_object(self) -> Programme:
        return get_object_or_404(Programme, pk=self.kwargs["pk"])

    def get(self, request, *args, **kwargs) -> HttpResponse:
        summary = closeout_summary(self.object)
        day = timezone.localdate().isoformat()
        return streaming_csv_response(
            csv_rows(summary), f"beta-closeout-{self.object.slug}-{day}.csv"
        )


class CloseOutPdfView(CloseOutCsvView):
    """The close-out summary as a PDF for the product team (WeasyPrint; Chinese through the
    Noto CJK fonts), in the staff member's admin language."""

    def get(self, request, *args, **kwargs) -> HttpResponse:
        summary = closeout_summary(self.object)
        today = timezone.localdate()
        html = render_to_string(
            "beta_program/programmes/admin/closeout_pdf.html",
            {
                "programme": self.object,
                "summary": summary,
                "today": today,
                "sections": [
                    (_("Reports by kind"), summary.by_kind),
                    (_("Reports by status"), summary.by_status),
                    (_("Bug reports by severity"), summary.by_severity),
                ],
            },
            request=request,
        )
        response = HttpResponse(HTML(string=html).write_pdf(), content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="beta-closeout-{self.object.slug}-{today.isoformat()}.pdf"'
        )
        return response


class GraduateForm(AuditNoteForm):
    points_per_organisation = forms.IntegerField(
        label=_("Thank-you points per organisation"),
        min_value=0,
        max_value=100000,
        initial=0,
        help_text=_("0: no points. Granted through the points programme, if it runs."),
    )
    min_score = forms.IntegerField(
        label=_("Only organisations with a score of at least"),
        min_value=0,
        max_value=1000000,
        initial=1,
    )
    field_order = ["points_per_organisation", "min_score", "note"]


class ProgrammeActionView(ActionFormView):
    """A product staff decision on one programme, on a confirmation form."""

    index_label = _("Programmes")
    refused = (BetaError,)
    refusals_on_form = True

    def has_permission(self, user) -> bool:
        return can_manage(user)

    def get_object(self) -> Programme:
        return get_object_or_404(Programme, pk=self.kwargs["pk"])


class GraduateView(ProgrammeActionView):
    page_title = _("Graduate to general availability")
    header_icon = "tick"
    form_class = GraduateForm
    submit_button_label = _("Graduate")

    def refusal(self) -> str | None:
        if self.object.status != ProgrammeStatus.CLOSED:
            return str(_("Only a closed programme graduates."))
        return None

    def summary(self):
        return definition_list(
            [
                (_("Programme"), self.object),
                (
                    _("What happens"),
                    _(
                        "The programme becomes graduated for good, every participant is thanked "
                        "by e-mail in their language, and the points below are granted."
                    ),
                ),
            ]
        )

    def perform(self, form) -> str:
        grants = participation_actions.graduate(
            self.object,
            self.acting_user,
            note=form.cleaned_data["note"],
            points_per_organisation=form.cleaned_data["points_per_organisation"],
            min_score=form.cleaned_data["min_score"],
            request=self.request,
        )
        return str(
            _("%(programme)s has graduated; points granted to %(count)s organisation(s).")
            % {"programme": self.object, "count": len(grants)}
        )
