"""The close-out summary of a programme for the product team: participants and organisations
with their scores, feedback counted by kind, triage status and severity, and the survey's NPS
and CSAT. `closeout_summary` reads it all in a fixed number of queries; `nps` and `csat` are
pure; `csv_rows` gives the same figures as rows for the CSV download."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count
from django.utils.translation import gettext as _

from beta_program.programmes.feedback_models import (
    Feedback,
    FeedbackKind,
    Severity,
    SurveyResponse,
    TriageStatus,
)
from beta_program.programmes.models import Programme
from beta_program.programmes.participation import Participant, load_participation
from portal.models import Organisation, User


def nps(scores: Iterable[int]) -> int | None:
    """Net Promoter Score: % of promoters (9-10) minus % of detractors (0-6), rounded half up
    to a whole number, -100..100; None without answers."""
    values = list(scores)
    if not values:
        return None
    promoters = sum(1 for v in values if v >= 9)
    detractors = sum(1 for v in values if v <= 6)
    share = Decimal(100 * (promoters - detractors)) / len(values)
    return int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def csat(scores: Iterable[int]) -> int | None:
    """Customer satisfaction: % of answers that are satisfied (4 or 5 of 5), rounded half up;
    None without answers."""
    values = list(scores)
    if not values:
        return None
    share = Decimal(100 * sum(1 for v in values if v >= 4)) / len(values)
    return int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class ParticipantRow:
    participant: Participant
    name: str
    email: str
    organisation: str


@dataclass(frozen=True)
class OrganisationRow:
    organisation: str
    participants: int
    score: int


@dataclass(frozen=True)
class CloseOut:
    programme: Programme
    participants: list[ParticipantRow]
    organisations: list[OrganisationRow]
    # (label, count) per value, in the choices' order; values without reports are left out.
    by_kind: list[tuple[str, int]]
    by_status: list[tuple[str, int]]
    by_severity: list[tuple[str, int]]
    reports: int
    surveys: int
    nps: int | None
    csat: int | None


def _counted(counts: Counter[str], choices: Any) -> list[tuple[str, int]]:
    return [(str(label), counts[value]) for value, label in choices if counts[value]]


def closeout_summary(programme: Programme) -> CloseOut:
    """The whole summary in twelve queries, however many participants and reports."""
    participation = load_participation(programme)
    people = {p.user_id for p in participation.participants}
    users = {u.pk: u for u in User.objects.filter(pk__in=people)}
    organisations = dict(
        Organisation.objects.filter(pk__in=participation.organisations).values_list("pk", "name")
    )
    rows = []
    for p in participation.participants:
        user = users[p.user_id]
        rows.append(
            ParticipantRow(
                participant=p,
                name=(user.get_full_name() or "").strip() or user.email,
                email=user.email,
                organisation=organisations.get(p.organisation_id, ""),
            )
        )
    rows.sort(key=lambda r: (-r.participant.score, r.organisation, r.email))
    members = Counter(p.organisation_id for p in participation.participants)
    organisation_rows = sorted(
        (
            OrganisationRow(organisations.get(pk, ""), members[pk], total)
            for pk, total in participation.organisations.items()
        ),
        key=lambda r: (-r.score, r.organisation),
    )
    kinds: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    severities: Counter[str] = Counter()
    for kind, status, severity, n in (
        Feedback.objects.filter(programme=programme)
        .values_list("kind", "status", "severity")
        .annotate(n=Count("id"))
        .order_by()
    ):
        kinds[kind] += n
        statuses[status] += n
        if severity:
            severities[severity] += n
    answers = list(SurveyResponse.objects.filter(programme=programme).values_list("nps", "csat"))
    return CloseOut(
        programme=programme,
        participants=rows,
        organisations=organisation_rows,
        by_kind=_counted(kinds, FeedbackKind.choices),
        by_status=_counted(statuses, TriageStatus.choices),
        by_severity=_counted(severities, Severity.choices),
        reports=sum(kinds.values()),
        surveys=len(answers),
        nps=nps(a for a, _c in answers),
        csat=csat(c for _n, c in answers),
    )


def csv_rows(summary: CloseOut) -> Iterator[list[Any]]:
    """The summary as CSV rows: one section after another, each with its header row."""
    yield [_("Programme"), summary.programme.name]
    yield [_("Status"), summary.programme.get_status_display()]
    yield [_("Reports"), summary.reports]
    yield [_("Survey answers"), summary.surveys]
    yield [_("NPS"), "" if summary.nps is None else summary.nps]
    yield [_("CSAT (share satisfied)"), "" if summary.csat is None else summary.csat]
    yield []
    yield [
        _("Participant"),
        _("E-mail"),
        _("Organisation"),
        _("Builds downloaded"),
        _("Reports filed"),
        _("Confirmed bugs"),
        _("Surveys answered"),
        _("Days active"),
        _("Score"),
    ]
    for row in summary.participants:
        a = row.participant.activity
        yield [
            row.name,
            row.email,
            row.organisation,
            a.builds_downloaded,
            a.reports_filed,
            a.confirmed_bugs,
            a.surveys_answered,
            a.days_active,
            row.participant.score,
        ]
    yield []
    yield [_("Organisation"), _("Participants"), _("Score")]
    for org in summary.organisations:
        yield [org.organisation, org.participants, org.score]
    for title, counts in (
        (_("Reports by kind"), summary.by_kind),
        (_("Reports by status"), summary.by_status),
        (_("Bug reports by severity"), summary.by_severity),
    ):
        yield []
        yield [title, _("Count")]
        yield from ([label, n] for label, n in counts)
