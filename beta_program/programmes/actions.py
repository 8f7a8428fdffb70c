"""The only writers of beta-programme state. Each action runs in one transaction, records the
audit trail and publishes its domain events there (ids only: no programme name, answer or reason
reaches the CRM), and e-mails people after commit."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from beta_program.programmes import eligibility
from beta_program.programmes.access import can_manage, owned_skus
from beta_program.programmes.exceptions import (
    ApplicationRefused,
    BetaError,
    CapacityFull,
    NotEligible,
    TransitionRefused,
)
from beta_program.programmes.models import (
    OPEN_APPLICATION_STATUSES,
    TRANSITIONS,
    WITHDRAWABLE,
    Application,
    ApplicationStatus,
    Build,
    BuildDownload,
    Cohort,
    NdaAcceptance,
    NdaStatus,
    NdaVersion,
    Programme,
    ProgrammeStatus,
    StatusChange,
)
from beta_program.programmes.screening import clean_answers
from portal import audit, events
from portal.exceptions import PermissionDeniedError
from portal.models import Organisation, User
from portal.permissions import Perm, has_perm, role_in


def _require_manager(user: User) -> None:
    if not can_manage(user):
        raise PermissionDeniedError(_("Only product staff run beta programmes."))


# --- programmes


@transaction.atomic
def change_status(
    programme: Programme,
    to_status: str,
    by: User,
    *,
    note: str = "",
    grants: list[dict[str, int]] | None = None,
    request: HttpRequest | None = None,
) -> Programme:
    """Move the programme to `to_status` if TRANSITIONS allows it from its current status
    (read under a row lock, so two staff members cannot both move it from the same state).
    `grants` ({organisation_id, points} each) travel with the graduation event."""
    _require_manager(by)
    locked = Programme.objects.select_for_update().get(pk=programme.pk)
    if to_status not in TRANSITIONS[locked.status]:
        raise TransitionRefused(
            _("A programme that is %(from)s cannot become %(to)s.")
            % {
                "from": locked.get_status_display().lower(),
                "to": ProgrammeStatus(to_status).label.lower(),
            },
            field="status",
        )
    from_status = locked.status
    now = timezone.now()
    locked.status = to_status
    locked.status_changed_at = now
    locked.save(update_fields=["status", "status_changed_at"])
    StatusChange.objects.create(
        programme=locked,
        from_status=from_status,
        to_status=to_status,
        note=note,
        changed_by=by,
        changed_at=now,
    )
    audit.record(
        "beta.programme_status_changed",
        actor=by,
        obj=locked,
        request=request,
        details={"from": from_status, "to": to_status, "note": note},
    )
    if to_status == ProgrammeStatus.GRADUATED:
        events.publish(
            "greenloop.beta.programme_graduated",
            None,
            f"beta/programmes/{locked.pk}",
            {"programme_id": locked.pk, "graduated_by": by.pk, "grants": grants or []},
        )
    programme.status, programme.status_changed_at = locked.status, now
    return locked


# --- applications


def candidate_for(user: User, organisation: Organisation) -> eligibility.Candidate:
    role = role_in(user, organisation)
    return eligibility.Candidate(
        tier=organisation.tier,
        country=organisation.country,
        skus=frozenset(owned_skus(organisation)),
        role=role.value if role else None,
    )


def rules_for(programme: Programme) -> eligibility.Rules:
    return eligibility.rules_of(
        programme.eligible_tiers,
        programme.eligible_countries,
        programme.required_skus,
        programme.applicant_min_role,
    )


UNMET_MESSAGES = {
    "tier": gettext_lazy("Your organisation's tier is not part of this programme."),
    "country": gettext_lazy("This programme is not open in your organisation's country or region."),
    "product": gettext_lazy("This programme is for organisations that use the product it tests."),
    "role": gettext_lazy("Your role in the organisation does not allow applying; ask an admin."),
}


def unmet_reasons(programme: Programme, user: User, organisation: Organisation) -> list[str]:
    """Messages for the rules the person and organisation fail (empty: they may apply)."""
    failed = eligibility.unmet(rules_for(programme), candidate_for(user, organisation))
    return [str(UNMET_MESSAGES[code]) for code in failed]


def capacity_of(programme: Programme, organisation: Organisation) -> eligibility.Capacity:
    accepted = Application.objects.filter(programme=programme, status=ApplicationStatus.ACCEPTED)
    return eligibility.Capacity(
        total=programme.capacity_total,
        per_organisation=programme.capacity_per_organisation,
        accepted_total=accepted.count(),
        accepted_in_organisation=accepted.filter(organisation=organisation).count(),
    )


def submit_application(
    programme: Programme,
    organisation: Organisation,
    user: User,
    answers: dict[str, Any],
    *,
    request: HttpRequest | None = None,
) -> Application:
    """Apply for `organisation`. The programme row is locked first, so concurrent applications
    are decided one after another and capacity is never exceeded; an eligible application is
    accepted at once when the programme accepts automatically and a place is free, otherwise it
    waits for review."""
    with transaction.atomic():
        locked = Programme.objects.select_for_update().get(pk=programme.pk)
        if locked.status != ProgrammeStatus.RECRUITING:
            raise ApplicationRefused(_("This programme is not taking applications."))
        reasons = unmet_reasons(locked, user, organisation)
        if reasons:
            raise NotEligible(reasons[0])
        if Application.objects.filter(
            programme=locked, applicant=user, status__in=OPEN_APPLICATION_STATUSES
        ).exists():
            raise ApplicationRefused(_("You have already applied to this programme."))
        cleaned = clean_answers(list(locked.questions.all()), answers)
        status = eligibility.initial_status(
            auto_accept=locked.auto_accept, capacity=capacity_of(locked, organisation)
        )
        now = timezone.now()
        application = Application.objects.create(
            programme=locked,
            organisation=organisation,
            applicant=user,
            answers=cleaned,
            status=status,
            submitted_at=now,
            decided_at=now if status == ApplicationStatus.ACCEPTED else None,
            auto_decided=status == ApplicationStatus.ACCEPTED,
        )
        audit.record(
            "beta.application_submitted",
            actor=user,
            organisation=organisation,
            obj=application,
            request=request,
            details={"programme_id": locked.pk, "status": status},
        )
        _publish(application, "greenloop.beta.application_submitted", status=status)
        if status == ApplicationStatus.ACCEPTED:
            _publish(application, "greenloop.beta.application_accepted")
        transaction.on_commit(lambda: _email(application))
    return application


def decide_application(
    application: Application,
    decision: str,
    by: User,
    *,
    reason: str = "",
    request: HttpRequest | None = None,
) -> Application:
    """A reviewer accepts, waitlists or rejects an application that waits (pending or
    waitlisted). Accepting needs a free place; rejecting needs a reason, which the applicant
    reads."""
    _require_manager(by)
    if decision not in (
        ApplicationStatus.ACCEPTED,
        ApplicationStatus.WAITLISTED,
        ApplicationStatus.REJECTED,
    ):
        raise ApplicationRefused(_("Unknown decision."), field="decision")
    reason = reason.strip()
    if decision == ApplicationStatus.REJECTED and not reason:
        raise ApplicationRefused(_("Say why the application is rejected."), field="reason")
    with transaction.atomic():
        programme = Programme.objects.select_for_update().get(pk=application.programme_id)
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if locked.status not in (ApplicationStatus.PENDING, ApplicationStatus.WAITLISTED):
            raise ApplicationRefused(
                _("This application is already %(status)s.")
                % {"status": locked.get_status_display().lower()}
            )
        if decision == locked.status:
            raise ApplicationRefused(_("The application is already in that state."))
        if decision == ApplicationStatus.ACCEPTED and not eligibility.has_room(
            capacity_of(programme, locked.organisation)
        ):
            raise CapacityFull(
                _("The programme has no free place for this organisation; raise its capacity.")
            )
        locked.status = decision
        locked.reason = reason
        locked.decided_at = timezone.now()
        locked.decided_by = by
        locked.auto_decided = False
        locked.save(update_fields=["status", "reason", "decided_at", "decided_by", "auto_decided"])
        audit.record(
            "beta.application_decided",
            actor=by,
            organisation=locked.organisation,
            obj=locked,
            request=request,
            details={"programme_id": programme.pk, "decision": decision, "reason": reason},
        )
        if decision == ApplicationStatus.ACCEPTED:
            _publish(locked, "greenloop.beta.application_accepted")
        elif decision == ApplicationStatus.REJECTED:
            _publish(locked, "greenloop.beta.application_rejected")
        transaction.on_commit(lambda: _email(locked))
    application.refresh_from_db()
    return application


def may_withdraw(user: User, application: Application) -> bool:
    """The applicant, or an admin of the organisation the application is for, while it is open
    (pending, waitlisted or accepted)."""
    if application.status not in WITHDRAWABLE or not user.is_authenticated:
        return False
    return application.applicant_id == user.pk or has_perm(
        user, Perm.ORG_MANAGE_MEMBERS, application.organisation
    )


def withdraw_application(
    application: Application, by: User, *, request: HttpRequest | None = None
) -> Application:
    """Withdraw an open application, or leave the programme when it was accepted: the place is
    free again (capacity counts accepted applications only) and the applicant leaves the
    programme's cohorts, so cohort-restricted builds, spaces and pages close to them at once."""
    with transaction.atomic():
        # The programme row first, as every capacity decision does, so a reviewer accepting
        # someone else sees the freed place only once this commits.
        Programme.objects.select_for_update().get(pk=application.programme_id)
        locked = (
            Application.objects.select_for_update()
            .select_related("organisation")
            .get(pk=application.pk)
        )
        if not may_withdraw(by, locked):
            if locked.status not in WITHDRAWABLE:
                raise ApplicationRefused(
                    _("This application is already %(status)s.")
                    % {"status": locked.get_status_display().lower()}
                )
            raise PermissionDeniedError(
                _("Only the applicant or an admin of the organisation can withdraw it.")
            )
        was = locked.status
        locked.status = ApplicationStatus.WITHDRAWN
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "decided_at"])
        removed: list[int] = []
        if locked.applicant_id is not None:
            cohorts = list(
                Cohort.objects.filter(
                    programme_id=locked.programme_id, group__user=locked.applicant_id
                ).select_related("group")
            )
            for cohort in cohorts:
                cohort.group.user_set.remove(locked.applicant_id)
            removed = [c.pk for c in cohorts]
        audit.record(
            "beta.application_withdrawn",
            actor=by,
            organisation=locked.organisation,
            obj=locked,
            request=request,
            details={"programme_id": locked.programme_id, "was": was, "cohorts_left": removed},
        )
        _publish(locked, "greenloop.beta.application_withdrawn", withdrawn_by=by.pk, was=was)
    application.refresh_from_db()
    return application


def _publish(application: Application, event_type: str, **extra: Any) -> None:
    # Ids only: the programme may be confidential and the CRM's readers outside its NDA.
    events.publish(
        event_type,
        application.organisation,
        f"beta/applications/{application.pk}",
        {
            "application_id": application.pk,
            "programme_id": application.programme_id,
            "applicant_id": application.applicant_id,
            **extra,
        },
    )


def _email(application: Application) -> None:
    from beta_program.programmes.tasks import send_application_email

    send_application_email.delay(application.pk, application.status)


# --- NDA


@transaction.atomic
def publish_nda(nda: NdaVersion, by: User, *, request: HttpRequest | None = None) -> NdaVersion:
    """Number the draft (previous version + 1), fix its content hash and publish it. From now on
    participants must accept it (again) before they see confidential content."""
    _require_manager(by)
    Programme.objects.select_for_update().get(pk=nda.programme_id)
    locked = NdaVersion.objects.select_for_update().get(pk=nda.pk)
    if locked.status != NdaStatus.DRAFT:
        raise BetaError(_("This NDA version is already published."))
    if not locked.body.strip():
        raise BetaError(_("An NDA needs its text before it is published."), field="body")
    latest = (
        NdaVersion.objects.filter(programme_id=locked.programme_id, version__isnull=False)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    )
    locked.version = (latest or 0) + 1
    locked.content_hash = locked.compute_hash()
    locked.published_at = timezone.now()
    locked.published_by = by
    locked.status = NdaStatus.PUBLISHED
    # Bypass the immutability guard of save() once: this is the write that makes it immutable.
    NdaVersion.objects.filter(pk=locked.pk).update(
        version=locked.version,
        content_hash=locked.content_hash,
        published_at=locked.published_at,
        published_by=by,
        status=NdaStatus.PUBLISHED,
    )
    audit.record(
        "beta.nda_published",
        actor=by,
        obj=locked,
        request=request,
        details={
            "programme_id": locked.programme_id,
            "version": locked.version,
            "sha256": locked.content_hash,
        },
    )
    nda.refresh_from_db()
    return nda


def accept_nda(
    programme: Programme,
    organisation: Organisation,
    user: User,
    *,
    version: int,
    request: HttpRequest | None = None,
) -> NdaAcceptance:
    """Record that a participant accepted the programme's current NDA `version` (the one they
    read: a version published meanwhile is refused, so nobody accepts a text they did not see),
    with the content hash, IP address and user agent. Accepting again is a no-op."""
    from beta_program.programmes.access import current_nda, is_participant
    from portal.request_meta import client_ip

    with transaction.atomic():
        nda = current_nda(programme)
        if nda is None:
            raise BetaError(_("This programme has no agreement to accept yet."))
        if nda.version != version:
            raise ApplicationRefused(
                _("A newer version of the agreement was published; read it and accept that one."),
                field="version",
            )
        if not is_participant(user, programme, organisation):
            raise PermissionDeniedError(_("Only participants accept the programme's agreement."))
        existing = NdaAcceptance.objects.filter(nda=nda, user=user).first()
        if existing is not None:
            return existing
        acceptance = NdaAcceptance.objects.create(
            nda=nda,
            programme=programme,
            user=user,
            organisation=organisation,
            version=nda.version,
            content_hash=nda.content_hash,
            ip_address=client_ip(request) if request is not None else None,
            user_agent=(request.headers.get("User-Agent", "") if request is not None else "")[:400],
        )
        audit.record(
            "beta.nda_accepted",
            actor=user,
            organisation=organisation,
            obj=acceptance,
            request=request,
            details={"programme_id": programme.pk, "version": nda.version},
        )
        events.publish(
            "greenloop.beta.nda_accepted",
            organisation,
            f"beta/nda-acceptances/{acceptance.pk}",
            {
                "acceptance_id": acceptance.pk,
                "programme_id": programme.pk,
                "nda_version": nda.version,
                "user_id": user.pk,
            },
        )
    return acceptance


# --- cohorts and builds


@transaction.atomic
def create_cohort(
    programme: Programme,
    name: str,
    by: User,
    *,
    name_zh: str = "",
    create_space: bool = True,
    request: HttpRequest | None = None,
) -> Cohort:
    """A cohort and the Django group behind it (named after the programme and the cohort, so
    staff recognise it wherever groups are chosen). Publishes `cohort_created`, to which other
    plugins may react: with `create_space` the event asks the community for a private discussion
    space restricted to the group. The event carries ids and that flag only, never the names,
    which may be confidential."""
    from django.contrib.auth.models import Group

    _require_manager(by)
    name = name.strip()
    if not name:
        raise BetaError(_("Name the cohort."), field="name")
    if Cohort.objects.filter(programme=programme, name=name).exists():
        raise BetaError(_("The programme already has a cohort of that name."), field="name")
    group_name = f"Beta {programme.slug}: {name}"[:150]
    if Group.objects.filter(name=group_name).exists():
        raise BetaError(_("A group of that name exists already."), field="name")
    group = Group.objects.create(name=group_name)
    cohort = Cohort.objects.create(programme=programme, name=name, name_zh=name_zh, group=group)
    audit.record(
        "beta.cohort_created",
        actor=by,
        obj=cohort,
        request=request,
        details={
            "programme_id": programme.pk,
            "group_id": group.pk,
            "create_space": create_space,
        },
    )
    events.publish(
        "greenloop.beta.cohort_created",
        None,
        f"beta/cohorts/{cohort.pk}",
        {
            "cohort_id": cohort.pk,
            "programme_id": programme.pk,
            "group_id": group.pk,
            "created_by": by.pk,
            "create_space": create_space,
        },
    )
    return cohort


@transaction.atomic
def set_cohort_members(
    cohort: Cohort, users: list[User], by: User, *, request: HttpRequest | None = None
) -> None:
    """Make `users` the cohort's members; only people with an accepted place may be in it."""
    _require_manager(by)
    accepted = set(
        Application.objects.filter(
            programme_id=cohort.programme_id, status=ApplicationStatus.ACCEPTED
        ).values_list("applicant_id", flat=True)
    )
    outsiders = [u for u in users if u.pk not in accepted]
    if outsiders:
        raise BetaError(
            _("Only participants can be in a cohort: %(who)s is not.")
            % {"who": outsiders[0].email},
            field="members",
        )
    before = set(cohort.group.user_set.values_list("pk", flat=True))
    cohort.group.user_set.set(users)
    after = {u.pk for u in users}
    audit.record(
        "beta.cohort_members_changed",
        actor=by,
        obj=cohort,
        request=request,
        details={"added": sorted(after - before), "removed": sorted(before - after)},
    )


def record_download(
    build: Build, user: User, organisation: Organisation, *, request: HttpRequest | None = None
) -> BuildDownload:
    """Record who downloaded which build and tell the CRM (ids only)."""
    with transaction.atomic():
        download = BuildDownload.objects.create(build=build, user=user, organisation=organisation)
        events.publish(
            "greenloop.beta.build_downloaded",
            organisation,
            f"beta/builds/{build.pk}",
            {
                "download_id": download.pk,
                "build_id": build.pk,
                "programme_id": build.programme_id,
                "user_id": user.pk,
            },
        )
    return download
