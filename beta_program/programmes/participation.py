"""Participation in a beta programme: how active each participant and each organisation was.

`score` is a pure function of a participant's `Activity` and the weights; `organisation_scores`
adds up participants per organisation. `load_participation` reads the counts of a whole
programme (optionally within one phase's dates) in a fixed number of queries, however many
participants it has.

Weights (the BETA_PARTICIPATION_WEIGHTS setting, a dict; a deployment sets only the ones it
changes, over DEFAULT_WEIGHTS):

    builds_downloaded  1 per distinct build downloaded
    reports_filed      3 per bug report or piece of feature feedback filed
    confirmed_bugs     5 per bug report that staff confirmed (confirmed, in progress, fixed,
                         verified), on top of its 3 for being filed
    surveys_answered   2 per survey answer
    days_active        1 per distinct day with any of the above or a comment on a report

Example: 2 builds, 3 reports of which 1 confirmed bug, 1 survey, on 4 days:
2x1 + 3x3 + 1x5 + 1x2 + 4x1 = 22.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from beta_program.programmes.feedback_models import (
    Feedback,
    FeedbackComment,
    FeedbackKind,
    SurveyResponse,
    TriageStatus,
)
from beta_program.programmes.models import (
    Application,
    ApplicationStatus,
    BuildDownload,
    Phase,
    Programme,
)

DEFAULT_WEIGHTS: dict[str, int] = {
    "builds_downloaded": 1,
    "reports_filed": 3,
    "confirmed_bugs": 5,
    "surveys_answered": 2,
    "days_active": 1,
}

# A bug staff accepted as real: confirmed, and every later state of a real bug.
CONFIRMED_STATUSES = (
    TriageStatus.CONFIRMED,
    TriageStatus.IN_PROGRESS,
    TriageStatus.FIXED,
    TriageStatus.VERIFIED,
)


@dataclass(frozen=True)
class Activity:
    builds_downloaded: int = 0
    reports_filed: int = 0
    confirmed_bugs: int = 0
    surveys_answered: int = 0
    days_active: int = 0

    @property
    def is_silent(self) -> bool:
        return self.days_active == 0


def weights() -> dict[str, int]:
    """The weights in force: the setting over the defaults."""
    configured = getattr(settings, "BETA_PARTICIPATION_WEIGHTS", {})
    return {name: int(configured.get(name, value)) for name, value in DEFAULT_WEIGHTS.items()}


def score(activity: Activity, weighting: Mapping[str, int] | None = None) -> int:
    """A participant's activity score: each count times its weight, added up."""
    weighting = weights() if weighting is None else weighting
    return sum(getattr(activity, name) * weighting.get(name, 0) for name in DEFAULT_WEIGHTS)


def organisation_scores(
    scores: Iterable[tuple[int, int]],
) -> dict[int, int]:
    """An organisation's score is the sum of its participants' scores: (organisation id, score)
    pairs in, {organisation id: total} out."""
    totals: dict[int, int] = defaultdict(int)
    for organisation_id, value in scores:
        totals[organisation_id] += value
    return dict(totals)


@dataclass(frozen=True)
class Participant:
    user_id: int
    organisation_id: int
    activity: Activity
    score: int


@dataclass(frozen=True)
class Participation:
    participants: list[Participant]
    organisations: dict[int, int] = field(default_factory=dict)

    def silent(self) -> list[Participant]:
        return [p for p in self.participants if p.activity.is_silent]


def _window(lookup: str, start: dt.date | None, end: dt.date | None) -> Q:
    # Inclusive of both days, in the site's time zone (like TruncDate below).
    condition = Q()
    if start is not None:
        condition &= Q(**{f"{lookup}__date__gte": start})
    if end is not None:
        condition &= Q(**{f"{lookup}__date__lte": end})
    return condition


def load_participation(programme: Programme, phase: Phase | None = None) -> Participation:
    """Every accepted participant of the programme with their activity and score (within the
    phase's dates if given) and the organisations' scores, in eight queries."""
    start, end = (phase.starts_on, phase.ends_on) if phase is not None else (None, None)
    people = list(
        Application.objects.filter(programme=programme, status=ApplicationStatus.ACCEPTED)
        .exclude(applicant=None)
        .values_list("applicant_id", "organisation_id")
        .order_by("organisation_id", "applicant_id")
    )
    user_ids = [user_id for user_id, _org in people]

    downloads = dict(
        BuildDownload.objects.filter(
            _window("downloaded_at", start, end),
            build__programme=programme,
            user_id__in=user_ids,
        )
        .values_list("user_id")
        .annotate(n=Count("build_id", distinct=True))
        .values_list("user_id", "n")
    )
    reports = {
        row["reporter_id"]: row
        for row in Feedback.objects.filter(
            _window("submitted_at", start, end), programme=programme, reporter_id__in=user_ids
        )
        .values("reporter_id")
        .annotate(
            filed=Count("id"),
            confirmed=Count("id", filter=Q(kind=FeedbackKind.BUG, status__in=CONFIRMED_STATUSES)),
        )
        .order_by()
    }
    surveys = dict(
        SurveyResponse.objects.filter(
            _window("submitted_at", start, end), programme=programme, respondent_id__in=user_ids
        )
        .values_list("respondent_id")
        .annotate(n=Count("id"))
        .values_list("respondent_id", "n")
    )
    days: dict[int, set[dt.date]] = defaultdict(set)
    for queryset, person, when in (
        (BuildDownload.objects.filter(build__programme=programme), "user_id", "downloaded_at"),
        (Feedback.objects.filter(programme=programme), "reporter_id", "submitted_at"),
        (
            SurveyResponse.objects.filter(programme=programme),
            "respondent_id",
            "submitted_at",
        ),
        (
            FeedbackComment.objects.filter(feedback__programme=programme),
            "author_id",
            "created_at",
        ),
    ):
        rows = (
            queryset.filter(_window(when, start, end), **{f"{person}__in": user_ids})
            .annotate(day=TruncDate(when))
            .values_list(person, "day")
            .distinct()
        )
        for user_id, day in rows:
            days[user_id].add(day)

    weighting = weights()
    participants = []
    for user_id, organisation_id in people:
        report = reports.get(user_id, {})
        activity = Activity(
            builds_downloaded=downloads.get(user_id, 0),
            reports_filed=report.get("filed", 0),
            confirmed_bugs=report.get("confirmed", 0),
            surveys_answered=surveys.get(user_id, 0),
            days_active=len(days.get(user_id, ())),
        )
        participants.append(
            Participant(user_id, organisation_id, activity, score(activity, weighting))
        )
    return Participation(
        participants=participants,
        organisations=organisation_scores((p.organisation_id, p.score) for p in participants),
    )
