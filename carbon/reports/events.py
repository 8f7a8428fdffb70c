"""The event type carbon reports publish and its payload (JSON Schema, registered in the portal's
catalogue). Ids only: no organisation name, no person."""

from __future__ import annotations

from carbon.models import ReportBasis, ReportLanguage
from carbon.reports.formats import FORMATS
from carbon.reports.period import PeriodKind
from portal.event_catalogue import (
    DATE,
    DATETIME,
    choice,
    identifier,
    integer,
    nullable,
    register,
    string,
)

REPORT_GENERATED = "greenloop.carbon.report_generated"
SHA256 = string("SHA-256, hex", pattern=r"^[0-9a-f]{64}$")

register(
    REPORT_GENERATED,
    version=1,
    subject=r"reports/[0-9a-f-]{36}",
    description=(
        "A carbon report's file is ready: which organisation (null: every customer), period, "
        "format and language, and the SHA-256 of its figures (the same for a reissue of a "
        "closed period)."
    ),
    owner="carbon",
    properties={
        "report_id": string("the report's public id (UUID)", pattern=r"^[0-9a-f-]{36}$"),
        "organisation_id": nullable(identifier("organisation")),
        "requested_by_id": nullable(identifier("user who asked for it")),
        "period": string("2026, 2026-Q1, 2026-03 or 2026-01-05..2026-02-10"),
        "period_kind": choice([str(kind) for kind in PeriodKind]),
        "period_start": DATE,
        "period_end": DATE,
        "format": choice(list(FORMATS)),
        "language": choice(ReportLanguage.values),
        "basis": choice(ReportBasis.values),
        "figures_as_of": DATETIME,
        "data_hash": SHA256,
        "file_sha256": SHA256,
        "size": integer("bytes", minimum=0),
    },
)
