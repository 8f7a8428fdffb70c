"""Green-power declarations: customers submit a site's green share for a period with evidence;
sustainability staff verify or reject it. A verified ratio drives the market-based Scope 2
figure of that site's orders in the period, so verifying recalculates them (in the background,
after commit). Submitting and reviewing are actions (`carbon.footprint.actions`); this module
holds the checks of what is submitted.

Evidence files are checked by their content signature (PDF, PNG, JPEG only, at most 10 MB,
images within the pixel cap of `portal.images`),
stored in private storage under a random name, and served only through a permission-checked view.
"""

from __future__ import annotations

from decimal import Decimal

from carbon.footprint.exceptions import DeclarationError
from carbon.models import GreenPowerDeclaration, Order
from portal import images

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


def event_data(declaration: GreenPowerDeclaration) -> dict:
    """The payload of the declaration's events (submitted, verified, rejected)."""
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


def orders_covered(declaration: GreenPowerDeclaration):
    """The orders of the declaration's site in its period: those its ratio applies to."""
    return Order.objects.filter(
        organisation_id=declaration.organisation_id,
        delivery_site_id=declaration.site_id,
        order_date__gte=declaration.period_start,
        order_date__lte=declaration.period_end,
    )
