"""The writes of green-power declarations: submit (with the instruments backing it), the two
reviews (a first check, then verification by a different sustainability staff member), reject,
and revoke. Each is one transaction that audits and publishes its event; verifying or revoking
recalculates the site's orders in the period after commit, and a revocation's event makes the
points wing reverse the green-power reward those orders earned (`carbon.points`). The rules
live in `carbon.footprint.declarations`; `carbon.footprint.actions` re-exports these."""

from __future__ import annotations

import uuid
from datetime import date

import pint
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone

from carbon.footprint import calculation, declarations, tasks
from carbon.footprint.declarations import InstrumentData
from carbon.footprint.events import (
    GREEN_POWER_REJECTED,
    GREEN_POWER_REVOKED,
    GREEN_POWER_SUBMITTED,
    GREEN_POWER_VERIFIED,
)
from carbon.footprint.exceptions import DeclarationError
from carbon.footprint.permissions import PERM_SUBMIT, can_verify
from carbon.footprint.units import convert
from carbon.models import (
    OPEN_STATUSES,
    DeclarationInstrument,
    DeclarationStatus,
    GreenPowerDeclaration,
)
from portal import audit, events
from portal.exceptions import PermissionDeniedError
from portal.models import Organisation, Site
from portal.permissions import has_perm


def _consumed_kwh(consumption: pint.Quantity):
    if (
        not isinstance(consumption, pint.Quantity)
        or consumption.dimensionality != declarations.ENERGY_DIMENSION
    ):
        raise DeclarationError(
            "The metered consumption must be an energy such as '4,500 MWh'.", field="total_kwh"
        )
    return convert(
        declarations.Decimal(str(consumption.magnitude)), str(consumption.units), "kWh"
    ).quantize(declarations.Decimal("0.001"))


def _certificates_in_use(site: Site, items: list[InstrumentData]) -> None:
    """Refuse certificates already backing another open declaration (counted once only)."""
    for index, item in enumerate(items):
        if item.kind in declarations.CONTRACT_INSTRUMENTS:
            continue
        used = DeclarationInstrument.objects.filter(
            declaration__status__in=OPEN_STATUSES, registry=item.registry.strip(), kind=item.kind
        )
        if item.serial_from and item.serial_to:
            used = used.filter(
                serial_from=item.serial_from.strip(), serial_to=item.serial_to.strip()
            )
        else:
            used = used.filter(certificate_ids=item.certificate_ids.strip())
        if used.exists():
            raise DeclarationError(
                f"instruments[{index}]: these certificates already back another declaration; "
                "a certificate counts once.",
                field="certificate_ids",
            )


def submit_declaration(
    organisation: Organisation,
    site: Site,
    period_start: date,
    period_end: date,
    *,
    consumption: pint.Quantity,
    instruments: list[InstrumentData],
    by,
    evidence=None,
    request=None,
) -> GreenPowerDeclaration:
    """Record a pending declaration of `site`'s metered consumption for the period and the
    instruments backing its green share; the ratio is derived (certified / consumed, at most 1).

    Members and admins of the organisation only. Refused (DeclarationError) when an instrument
    cannot back the site (type not valid for its country and vintage, outside the period, missing
    ids or proof), when the certificates already back another declaration, or when an open
    declaration of the site overlaps the period. Audited; publishes green_power_submitted.
    """
    if not has_perm(by, PERM_SUBMIT, organisation):
        raise PermissionDeniedError("Only members of the organisation can submit declarations.")
    if site.organisation_id != organisation.pk:
        raise DeclarationError("The site belongs to another organisation.", field="site")
    if period_end < period_start:
        raise DeclarationError("The period ends before it starts.", field="period_end")
    if not instruments:
        raise DeclarationError(
            "Add at least one instrument (certificates, PPA or green tariff) backing the "
            "green share.",
            field="instruments",
        )
    consumed = _consumed_kwh(consumption)
    country = site.country.upper()
    mwh = [
        declarations.check_instrument(item, i, country, period_start, period_end)
        for i, item in enumerate(instruments)
    ]
    kinds = [declarations.evidence_kind(item.proof) for item in instruments]
    kind = declarations.evidence_kind(evidence) if evidence is not None else None
    derived = declarations.derive(mwh, [i.emission_factor for i in instruments], consumed)
    main = max(zip(mwh, instruments, strict=True), key=lambda pair: pair[0])[1].kind
    with transaction.atomic():
        # The site's row lock serialises submissions for one site, so two overlapping
        # declarations cannot both pass the check below.
        Site.objects.select_for_update().get(pk=site.pk)
        clash = GreenPowerDeclaration.objects.overlapping(site, period_start, period_end).first()
        if clash is not None:
            raise DeclarationError(
                f"Declaration #{clash.pk} ({clash.get_status_display().lower()}) already covers "
                f"{site.name} from {clash.period_start} to {clash.period_end}; periods of one "
                "site may not overlap.",
                field="period_start",
            )
        _certificates_in_use(site, instruments)
        declaration = GreenPowerDeclaration(
            organisation=organisation,
            site=site,
            period_start=period_start,
            period_end=period_end,
            green_kwh=derived.certified_kwh,
            total_kwh=consumed,
            green_ratio=derived.ratio,
            instrument_factor=derived.instrument_factor,
            instrument=main,
            submitted_by=by,
        )
        if evidence is not None:
            # A random name: the customer's file name never reaches the file system.
            declaration.evidence.save(f"{uuid.uuid4().hex}.{kind}", File(evidence), save=False)
        declaration.save()
        for item, amount, proof_kind in zip(instruments, mwh, kinds, strict=True):
            record = DeclarationInstrument(
                declaration=declaration,
                kind=item.kind,
                registry=item.registry.strip(),
                certificate_ids=(item.certificate_ids or "").strip(),
                serial_from=(item.serial_from or "").strip(),
                serial_to=(item.serial_to or "").strip(),
                mwh=amount,
                generation_start=item.generation_start,
                generation_end=item.generation_end,
                country=item.country.upper(),
                grid_region=(item.grid_region or "").strip(),
                supplier=(item.supplier or "").strip(),
                emission_factor=item.emission_factor,
            )
            record.proof.save(f"{uuid.uuid4().hex}.{proof_kind}", File(item.proof), save=False)
            record.save()
        audit.record(
            "carbon.green_power_submitted",
            actor=by,
            organisation=organisation,
            obj=declaration,
            request=request,
            details={
                "site": site.name,
                "ratio": str(derived.ratio),
                "instrument": main,
                "certified_kwh": str(derived.certified_kwh),
                "consumed_kwh": str(consumed),
            },
        )
        events.publish(
            GREEN_POWER_SUBMITTED,
            organisation,
            f"green-power-declarations/{declaration.pk}",
            declarations.event_data(declaration),
        )
    return declaration


def _locked(declaration: GreenPowerDeclaration, by, *expected: str) -> GreenPowerDeclaration:
    if not can_verify(by):
        raise PermissionDeniedError("Only sustainability staff review green-power declarations.")
    locked = GreenPowerDeclaration.objects.select_for_update().get(pk=declaration.pk)
    if locked.status not in expected:
        raise DeclarationError(
            f"The declaration is {locked.get_status_display().lower()}.", field="status"
        )
    return locked


def check_declaration(
    declaration: GreenPowerDeclaration, by, *, note: str = "", request=None
) -> GreenPowerDeclaration:
    """The first of the two reviews: a sustainability staff member checked the instruments and
    their proof. A different staff member then verifies it (`verify_declaration`)."""
    with transaction.atomic():
        locked = _locked(declaration, by, DeclarationStatus.PENDING)
        if not locked.instruments.exists():
            raise DeclarationError(
                "The declaration has no instruments backing it (a typed ratio from before "
                "certificates were tracked); reject it and ask for the certificates.",
                field="instruments",
            )
        declaration.status = DeclarationStatus.CHECKED
        declaration.checked_by = by
        declaration.checked_at = timezone.now()
        declaration.review_note = note.strip()
        declaration.save(update_fields=["status", "checked_by", "checked_at", "review_note"])
        audit.record(
            "carbon.green_power_checked",
            actor=by,
            organisation=declaration.organisation,
            obj=declaration,
            request=request,
            details={"note": note[:500]} if note else {},
        )
    return declaration


def verify_declaration(
    declaration: GreenPowerDeclaration, by, *, note: str = "", request=None
) -> GreenPowerDeclaration:
    """The second review (four eyes): a sustainability staff member other than the one who
    checked it verifies the declaration; the site's orders in the period are recalculated after
    commit so their market-based Scope 2 uses the ratio."""
    with transaction.atomic():
        locked = _locked(declaration, by, DeclarationStatus.CHECKED, DeclarationStatus.PENDING)
        if locked.status == DeclarationStatus.PENDING:
            raise DeclarationError(
                "Two sustainability staff review a declaration: record the first check, then "
                "another member of the team verifies it.",
                field="status",
            )
        if locked.checked_by_id == by.pk:
            raise DeclarationError(
                "You made the first check of this declaration; another member of the "
                "sustainability team must verify it (four-eyes rule).",
                field="verified_by",
            )
        declaration.status = DeclarationStatus.VERIFIED
        declaration.verified_by = by
        declaration.verified_at = timezone.now()
        if note.strip():
            declaration.review_note = note.strip()
        declaration.save(update_fields=["status", "verified_by", "verified_at", "review_note"])
        audit.record(
            "carbon.green_power_verified",
            actor=by,
            organisation=declaration.organisation,
            obj=declaration,
            request=request,
            details={"note": note[:500], "checked_by": locked.checked_by_id},
        )
        events.publish(
            GREEN_POWER_VERIFIED,
            declaration.organisation,
            f"green-power-declarations/{declaration.pk}",
            {**declarations.event_data(declaration), "note": note},
        )
        transaction.on_commit(lambda: tasks.recalculate_declaration_orders.delay(declaration.pk))
    return declaration


def reject_declaration(
    declaration: GreenPowerDeclaration, note: str, by, *, request=None
) -> GreenPowerDeclaration:
    """Reject a pending or checked declaration with a note the customer sees."""
    if not (note or "").strip():
        raise DeclarationError("Say why the declaration is rejected.", field="review_note")
    note = note.strip()
    with transaction.atomic():
        _locked(declaration, by, DeclarationStatus.PENDING, DeclarationStatus.CHECKED)
        declaration.status = DeclarationStatus.REJECTED
        declaration.verified_by = by
        declaration.verified_at = timezone.now()
        declaration.review_note = note
        declaration.save(update_fields=["status", "verified_by", "verified_at", "review_note"])
        audit.record(
            "carbon.green_power_rejected",
            actor=by,
            organisation=declaration.organisation,
            obj=declaration,
            request=request,
            details={"note": note[:500]},
        )
        events.publish(
            GREEN_POWER_REJECTED,
            declaration.organisation,
            f"green-power-declarations/{declaration.pk}",
            {**declarations.event_data(declaration), "note": note},
        )
    return declaration


def revoke_declaration(
    declaration: GreenPowerDeclaration, reason: str, by, *, request=None
) -> GreenPowerDeclaration:
    """Withdraw a verified declaration (certificates cancelled in error, double-counted, proof
    found false...). The site's orders in the period are restated without it after commit, and
    the event makes the points wing reverse the green-power reward they earned, once."""
    if not (reason or "").strip():
        raise DeclarationError("Say why the declaration is revoked.", field="revocation_reason")
    reason = reason.strip()
    with transaction.atomic():
        _locked(declaration, by, DeclarationStatus.VERIFIED)
        declaration.status = DeclarationStatus.REVOKED
        declaration.revoked_by = by
        declaration.revoked_at = timezone.now()
        declaration.revocation_reason = reason
        declaration.save(update_fields=["status", "revoked_by", "revoked_at", "revocation_reason"])
        audit.record(
            "carbon.green_power_revoked",
            actor=by,
            organisation=declaration.organisation,
            obj=declaration,
            request=request,
            details={"reason": reason[:500]},
        )
        events.publish(
            GREEN_POWER_REVOKED,
            declaration.organisation,
            f"green-power-declarations/{declaration.pk}",
            {**declarations.event_data(declaration), "revoked_by": by.pk},
        )
        transaction.on_commit(lambda: tasks.recalculate_declaration_orders.delay(declaration.pk))
    return declaration


def recalculate_declaration_orders(declaration: GreenPowerDeclaration) -> int:
    """Recalculate the orders a declaration covers, each in its own transaction; returns how
    many. Safe to run twice: an unchanged calculation records no new snapshot."""
    count = 0
    for order in declarations.orders_covered(declaration).iterator(chunk_size=500):
        with transaction.atomic():
            calculation.calculate_order(order)
        count += 1
    return count
