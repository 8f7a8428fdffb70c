"""The participation wing's writes: reminders to silent participants and graduation to general
availability. Like `actions`, each write is one transaction with its audit record and events;
e-mails leave after commit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from beta_program.programmes import actions, participation_tasks
from beta_program.programmes.models import Phase, Programme, ProgrammeStatus
from beta_program.programmes.participation import Participation, load_participation
from beta_program.programmes.participation_models import ParticipationReminder
from portal import audit, events
from portal.models import Organisation, User

DEFAULT_REMINDER_AFTER_DAYS = 7


def reminder_after_days() -> int:
    """Days into a phase before a participant with no activity in it is reminded (the
    BETA_REMINDER_AFTER_DAYS setting): a fresh phase gives people time to start."""
    return int(getattr(settings, "BETA_REMINDER_AFTER_DAYS", DEFAULT_REMINDER_AFTER_DAYS))


def phases_due_for_reminders(today: dt.date) -> list[Phase]:
    """Phases of running programmes that are under way today and started long enough ago."""
    started_by = today - dt.timedelta(days=reminder_after_days())
    return list(
        Phase.objects.filter(
            programme__status=ProgrammeStatus.RUNNING,
            starts_on__lte=started_by,
            ends_on__gte=today,
        )
        .select_related("programme")
        .order_by("programme_id", "starts_on", "pk")
    )


def remind_silent_participants(today: dt.date | None = None) -> list[ParticipationReminder]:
    """Record a reminder for every participant who has done nothing in a due phase and has not
    been reminded in it yet, and e-mail each after commit. Running it again the same day, or
    every day of the phase, sends nobody a second reminder for the phase."""
    today = today or timezone.localdate()
    sent = []
    for phase in phases_due_for_reminders(today):
        # A person placed for two organisations is reminded once, on the first one's account.
        organisation_of: dict[int, int] = {}
        for p in load_participation(phase.programme, phase).silent():
            organisation_of.setdefault(p.user_id, p.organisation_id)
        silent = set(organisation_of)
        if not silent:
            continue
        silent -= set(
            ParticipationReminder.objects.filter(phase=phase, user_id__in=silent).values_list(
                "user_id", flat=True
            )
        )
        organisations = Organisation.objects.in_bulk({organisation_of[u] for u in silent})
        for user_id in sorted(silent):
            with transaction.atomic():
                reminder, created = ParticipationReminder.objects.get_or_create(
                    phase=phase, user_id=user_id
                )
                if created:
                    _publish_reminded(reminder, organisations[organisation_of[user_id]])
                    transaction.on_commit(
                        lambda pk=reminder.pk: (
                            participation_tasks.send_participation_reminder.delay(pk)
                        )
                    )
                    sent.append(reminder)
    return sent


def _publish_reminded(reminder: ParticipationReminder, organisation: Organisation) -> None:
    # Ids only, like every beta event: the programme and phase names may be under NDA.
    events.publish(
        "greenloop.beta.participant_reminded",
        organisation,
        f"beta/reminders/{reminder.pk}",
        {
            "reminder_id": reminder.pk,
            "programme_id": reminder.phase.programme_id,
            "phase_id": reminder.phase_id,
            "user_id": reminder.user_id,
        },
    )


# --- graduation


@dataclass(frozen=True)
class Grant:
    organisation_id: int
    points: int


def graduation_grants(
    participation: Participation, points_per_organisation: int, min_score: int
) -> list[Grant]:
    """`points_per_organisation` for every organisation whose score reached `min_score`, in
    organisation id order (nothing when the points are 0)."""
    if points_per_organisation <= 0:
        return []
    return [
        Grant(organisation_id, points_per_organisation)
        for organisation_id, total in sorted(participation.organisations.items())
        if total >= min_score
    ]


def graduate(
    programme: Programme,
    by: User,
    *,
    note: str = "",
    points_per_organisation: int = 0,
    min_score: int = 1,
    request: HttpRequest | None = None,
) -> list[Grant]:
    """Move a closed programme to graduated (general availability), with the points grants in
    the `programme_graduated` event (ids and numbers only), and thank every participant in
    their language after commit. Returns the grants."""
    grants = graduation_grants(load_participation(programme), points_per_organisation, min_score)
    payload = [{"organisation_id": g.organisation_id, "points": g.points} for g in grants]
    with transaction.atomic():
        actions.change_status(
            programme,
            ProgrammeStatus.GRADUATED,
            by,
            note=note,
            grants=payload,
            request=request,
        )
        audit.record(
            "beta.programme_graduated",
            actor=by,
            obj=programme,
            request=request,
            details={
                "points_per_organisation": points_per_organisation,
                "min_score": min_score,
                "grants": payload,
            },
        )
        transaction.on_commit(
            lambda: participation_tasks.send_graduation_thanks.delay(programme.pk)
        )
    return grants
