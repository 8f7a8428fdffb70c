"""Green-power declarations: customers submit a site's green share for a period with evidence;
sustainability staff verify or reject it. A verified ratio drives the market-based Scope 2
figure of that site's orders in the period, so verifying recalculates them (in the background,
after commit).

Evidence files are checked by their content signature (PDF, PNG, JPEG only, at most 10 MB,
images within the pixel cap of `portal.images`),
stored in private storage under a random name, and served only through a permission-checked view.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date
from decimal import Decimal

from django.core.files.base import File
from django.db import transaction
from django.utils import timezone

from carbon.footprint.events import (
    GREEN_POWER_REJECTED,
    GREEN_POWER_SUBMITTED,
    GREEN_POWER_VERIFIED,
)
from carbon.footprint.exceptions import DeclarationError
from carbon.footprint.permissions import PERM_SUBMIT, can_verify
from carbon.models import DeclarationStatus, GreenPowerDeclaration, Instrument, Order
from portal import audit, events, images
from portal.exceptions import PermissionDeniedError
from portal.models import Organisation, Site
from portal.permissions import has_perm

logger = logging.getLogger(__name__)

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
# Content signature -> (extension, content type). The extension of the upload must agree.
SIGNATURES = (
    (b"%PDF-", "pdf", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
)
EXTENSIONS = {"pdf": "pdf", "png": "png", "jpg": "jpg", "jpeg": "jpg"}
CONTENT_TYPES = {ext: ctype for _, ext, ctype in SIGNATURES}


def evidence_kind(upload) -> str:
    """The evidence's real type ("pdf", "png" or "jpg") from its first bytes and its name;
    raises DeclarationError for anything else, for a name that disagrees with the content,
    for a file over 10 MB, or for an image that does not open or is over the pixel cap."""
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
    if size > MAX_EVIDENCE_BYTES:
        raise DeclarationError("The evidence file is larger than 10 MB.", field="evidence")
    if size == 0:
        raise DeclarationError("The evidence file is empty.", field="evidence")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    detected = next((ext for magic, ext, _ in SIGNATURES if head.startswith(magic)), None)
    if detected is None:
        raise DeclarationError(
            "Evidence must be a PDF, PNG or JPEG file; this file's content is none of them.",
            field="evidence",
        )
    name = getattr(upload, "name", "") or ""
    claimed = EXTENSIONS.get(name.rsplit(".", 1)[-1].lower()) if "." in name else None
    if claimed != detected:
        raise DeclarationError(
            f"The file name says .{name.rsplit('.', 1)[-1] if '.' in name else '?'} but the "
            f"content is {detected.upper()}; upload the original document.",
            field="evidence",
        )
    if detected != "pdf":
        # A PNG of 100 KB can declare billions of pixels: refuse it from its header.
        images.check_image(upload, name=name, field="evidence", error=DeclarationError)
    return detected


def green_ratio(
    ratio: Decimal | None, green_kwh: Decimal | None, total_kwh: Decimal | None
) -> Decimal:
    """The covered share 0..1: given directly, or green_kwh / total_kwh (6 decimal places)."""
    if green_kwh is not None or total_kwh is not None:
        if green_kwh is None or total_kwh is None:
            raise DeclarationError(
                "Give both the green and the total electricity, or the ratio.", field="green_kwh"
            )
        if total_kwh <= 0:
            raise DeclarationError("The total electricity must be above zero.", field="total_kwh")
        if green_kwh < 0 or green_kwh > total_kwh:
            raise DeclarationError(
                "Green electricity must be between zero and the total.", field="green_kwh"
            )
        computed = (green_kwh / total_kwh).quantize(Decimal("0.000001"))
        if ratio is not None and abs(ratio - computed) > Decimal("0.0005"):
            raise DeclarationError(
                f"The ratio {ratio} disagrees with the kWh given ({computed}).",
                field="green_ratio",
            )
        return computed
    if ratio is None:
        raise DeclarationError(
            "Give the green ratio or the green and total electricity.", field="green_ratio"
        )
    if not Decimal(0) <= ratio <= Decimal(1):
        raise DeclarationError("The green ratio must be between 0 and 1.", field="green_ratio")
    return ratio.quantize(Decimal("0.000001"))


def submit_declaration(
    organisation: Organisation,
    site: Site,
    period_start: date,
    period_end: date,
    *,
    instrument: str,
    evidence,
    by,
    green_ratio_value: Decimal | None = None,
    green_kwh: Decimal | None = None,
    total_kwh: Decimal | None = None,
    request=None,
) -> GreenPowerDeclaration:
    """Record a pending declaration of `site`'s green-power share for the period, with evidence.

    Members and admins of the organisation only. Audited; publishes
    greenloop.carbon.green_power_submitted.
    """
    if not has_perm(by, PERM_SUBMIT, organisation):
        raise PermissionDeniedError("Only members of the organisation can submit declarations.")
    if site.organisation_id != organisation.pk:
        raise DeclarationError("The site belongs to another organisation.", field="site")
    if period_end < period_start:
        raise DeclarationError("The period ends before it starts.", field="period_end")
    if instrument not in Instrument.values:
        raise DeclarationError("Unknown instrument.", field="instrument")
    ratio = green_ratio(green_ratio_value, green_kwh, total_kwh)
    if evidence is None:
        raise DeclarationError("Evidence is required.", field="evidence")
    kind = evidence_kind(evidence)
    with transaction.atomic():
        declaration = GreenPowerDeclaration(
            organisation=organisation,
            site=site,
            period_start=period_start,
            period_end=period_end,
            green_kwh=green_kwh,
            total_kwh=total_kwh,
            green_ratio=ratio,
            instrument=instrument,
            submitted_by=by,
        )
        # A random name: the customer's file name never reaches the file system.
        declaration.evidence.save(f"{uuid.uuid4().hex}.{kind}", File(evidence), save=False)
        declaration.save()
        audit.record(
            "carbon.green_power_submitted",
            actor=by,
            organisation=organisation,
            obj=declaration,
            request=request,
            details={"site": site.name, "ratio": str(ratio), "instrument": instrument},
        )
        events.publish(
            GREEN_POWER_SUBMITTED,
            organisation,
            f"green-power-declarations/{declaration.pk}",
            _data(declaration),
        )
    return declaration


def _data(declaration: GreenPowerDeclaration) -> dict:
    return {
        "declaration_id": declaration.pk,
        "site": declaration.site.name,
        "site_id": declaration.site_id,
        "period_start": declaration.period_start,
        "period_end": declaration.period_end,
        "green_ratio": declaration.green_ratio,
        "instrument": declaration.instrument,
        "status": declaration.status,
    }


def _review(declaration: GreenPowerDeclaration, status: str, by, note: str, request):
    if not can_verify(by):
        raise PermissionDeniedError("Only sustainability staff verify green-power declarations.")
    with transaction.atomic():
        locked = GreenPowerDeclaration.objects.select_for_update().get(pk=declaration.pk)
        if locked.status != DeclarationStatus.PENDING:
            raise DeclarationError(
                f"The declaration is already {locked.get_status_display().lower()}.",
                field="status",
            )
        declaration.status = status
        declaration.verified_by = by
        declaration.verified_at = timezone.now()
        declaration.review_note = note
        declaration.save(update_fields=["status", "verified_by", "verified_at", "review_note"])
        audit.record(
            f"carbon.green_power_{status}",
            actor=by,
            organisation=declaration.organisation,
            obj=declaration,
            request=request,
            details={"note": note[:500]} if note else {},
        )
        events.publish(
            GREEN_POWER_VERIFIED if status == DeclarationStatus.VERIFIED else GREEN_POWER_REJECTED,
            declaration.organisation,
            f"green-power-declarations/{declaration.pk}",
            {**_data(declaration), "note": note},
        )
        if status == DeclarationStatus.VERIFIED:
            # The task module imports this one (orders_covered), hence the late import.
            from carbon.footprint.tasks import recalculate_declaration_orders

            transaction.on_commit(lambda: recalculate_declaration_orders.delay(declaration.pk))
    return declaration


def verify_declaration(
    declaration: GreenPowerDeclaration, by, *, note: str = "", request=None
) -> GreenPowerDeclaration:
    """Mark a pending declaration verified (sustainability staff only); the site's orders in the
    period are recalculated after commit so their market-based Scope 2 uses the ratio."""
    return _review(declaration, DeclarationStatus.VERIFIED, by, note, request)


def reject_declaration(
    declaration: GreenPowerDeclaration, note: str, by, *, request=None
) -> GreenPowerDeclaration:
    """Reject a pending declaration with a note the customer sees."""
    if not (note or "").strip():
        raise DeclarationError("Say why the declaration is rejected.", field="review_note")
    return _review(declaration, DeclarationStatus.REJECTED, by, note.strip(), request)


def orders_covered(declaration: GreenPowerDeclaration):
    return Order.objects.filter(
        organisation_id=declaration.organisation_id,
        delivery_site_id=declaration.site_id,
        order_date__gte=declaration.period_start,
        order_date__lte=declaration.period_end,
    )
