"""Carbon's part of a person's personal data (portal.privacy): the redemption requests they made,
the order files they uploaded and the green-power declarations they submitted. Registered as
Wagtail hooks in carbon.portal_hooks.

These records belong to the organisation (its orders, its points, its plants), so erasure keeps
them; they go on pointing at the anonymised user row, which names nobody. Nothing is e-mailed to
an erased person any more (carbon.tasks skips inactive requesters).
"""

from __future__ import annotations

from typing import Any

from carbon.models import GreenPowerDeclaration, ImportJob, Redemption
from carbon.points.catalogue import service_name
from portal.models import User


def personal_data(user: User) -> dict[str, Any]:
    redemptions = (
        Redemption.objects.filter(requested_by=user)
        .select_related("organisation", "service", "site")
        .order_by("pk")
    )
    imports = ImportJob.objects.filter(created_by=user).select_related("organisation")
    declarations = GreenPowerDeclaration.objects.filter(submitted_by=user).select_related(
        "organisation", "site"
    )
    return {
        "carbon": {
            # Who at the vendor handled a request is someone else's data: left out.
            "redemption_requests": [
                {
                    "id": r.pk,
                    "organisation": r.organisation.slug,
                    "service": service_name(r.service),
                    "points": r.points,
                    "status": r.status,
                    "site": r.site.name if r.site else None,
                    "preferred_date": r.preferred_date,
                    "note": r.customer_note,
                    "requested_at": r.requested_at,
                    "scheduled_for": r.scheduled_for,
                    "decided_at": r.decided_at,
                    "vendor_note": r.staff_note,
                    "cancelled_at": r.cancelled_at,
                }
                for r in redemptions
            ],
            "order_imports": [
                {
                    "id": j.pk,
                    "organisation": j.organisation.slug,
                    "file_name": j.original_name,
                    "status": j.status,
                    "rows": j.rows_total,
                    "created_at": j.created_at,
                    "finished_at": j.finished_at,
                }
                for j in imports.order_by("pk")
            ],
            "green_power_declarations": [
                {
                    "id": d.pk,
                    "organisation": d.organisation.slug,
                    "site": d.site.name,
                    "period_start": d.period_start,
                    "period_end": d.period_end,
                    "green_ratio": d.green_ratio,
                    "instrument": d.instrument,
                    "status": d.status,
                    "submitted_at": d.submitted_at,
                }
                for d in declarations.order_by("pk")
            ],
        }
    }
