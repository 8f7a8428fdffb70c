"""The shape of settings.GREENLOOP_CRM (portal/settings/base.py), for the type checker.

Django settings are plain module attributes, so the checker infers the dict's value type as the
union of every value in it; `crm_settings()` reads the dict at call time (tests override it) and
gives each key the type base.py sets it to."""

from __future__ import annotations

from typing import TypedDict, cast

from django.conf import settings


class TimeoutSeconds(TypedDict):
    connect: float
    read: float


class CrmSettings(TypedDict):
    kick_after_commit: bool
    queue: str | None
    batch_size: int
    route_batch_size: int
    parallel_lanes: int
    lanes_per_pass: int
    pass_budget_seconds: float
    retry_base_seconds: float
    retry_max_seconds: float
    max_attempts: int
    wake_up_within_seconds: float
    timeout_seconds: TimeoutSeconds
    allowed_private_networks: list[str]


def crm_settings() -> CrmSettings:
    # A cast, not a check: base.py defines every key, and the overrides only change values.
    return cast(CrmSettings, settings.GREENLOOP_CRM)
