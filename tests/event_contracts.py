"""The domain events' payload contract, written out (issue #11 item 3).

Every event the product writes to the outbox is what the CRM bridge will deliver, so its shape
is a public contract. Each type is listed here literally: its subject, the keys its `data`
always has, and the keys it has only in some cases (community events name the topic only for
spaces open to every customer, since the CRM's readers may not be in a private space's
audience). `tests/conftest.py` checks every outbox row written by any test against this table,
so an event whose shape changes, or a new event type, fails the suite until the contract here
is changed on purpose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Shape:
    subject: str  # a regular expression the whole subject matches
    keys: frozenset[str]
    optional: frozenset[str] = field(default_factory=frozenset)


def _shape(subject: str, keys: str, optional: str = "") -> Shape:
    return Shape(subject, frozenset(keys.split()), frozenset(optional.split()))


_BALANCES = frozenset({"pending", "available", "held"})
_COMMUNITY_PUBLIC = "title kind space url"

EVENT_SHAPES: dict[str, Shape] = {
    "greenloop.account.member_invited": _shape(r"invitations/\d+", "invitation_id role"),
    "greenloop.account.member_joined": _shape(r"users/\d+", "user_id role"),
    "greenloop.account.member_removed": _shape(r"users/\d+", "user_id left erased"),
    "greenloop.account.member_role_changed": _shape(r"users/\d+", "user_id from to"),
    "greenloop.account.personal_data_exported": _shape(r"users/\d+", "user_id"),
    "greenloop.account.personal_data_erased": _shape(r"users/\d+", "user_id"),
    "greenloop.account.signals": _shape(
        r"organisations/[a-z0-9-]+", "day computed_at score components"
    ),
    "greenloop.carbon.dataset_published": _shape(
        r"datasets/[a-z0-9-]+@\d+",
        "dataset_id slug version title publisher source_url is_default supersedes factors "
        "published_at",
    ),
    "greenloop.carbon.order_upserted": _shape(
        r"orders/\d+", "order_id external_id created status order_date by"
    ),
    "greenloop.carbon.orders_imported": _shape(
        r"organisations/[a-z0-9-]+/orders",
        "created updated unchanged external_ids external_ids_truncated",
    ),
    "greenloop.carbon.footprint_calculated": _shape(
        r"orders/\d+", "order order_id snapshot_id wtw_kg datasets"
    ),
    "greenloop.carbon.orders_changed": _shape(
        r"organisations/[a-z0-9-]+/orders", "order_ids reason"
    ),
    "greenloop.carbon.footprints_recalculated": _shape(
        r"organisations/[a-z0-9-]+/orders", "datasets count orders"
    ),
    "greenloop.carbon.green_power_submitted": _shape(
        r"green-power-declarations/\d+",
        "declaration_id site site_id period_start period_end green_ratio instrument status",
    ),
    "greenloop.carbon.green_power_verified": _shape(
        r"green-power-declarations/\d+",
        "declaration_id site site_id period_start period_end green_ratio instrument status note",
    ),
    "greenloop.carbon.green_power_rejected": _shape(
        r"green-power-declarations/\d+",
        "declaration_id site site_id period_start period_end green_ratio instrument status note",
    ),
    "greenloop.carbon.green_power_revoked": _shape(
        r"green-power-declarations/\d+",
        "declaration_id site site_id period_start period_end green_ratio instrument status "
        "revoked_by",
    ),
    "greenloop.carbon.points_awarded": _shape(
        r"points-accounts/\d+", "entry_id kind points balances order award_id"
    ),
    "greenloop.carbon.points_activated": _shape(
        r"points-accounts/\d+", "entry_id kind points balances expires_on"
    ),
    "greenloop.carbon.points_expired": _shape(
        r"points-accounts/\d+", "entry_id kind points balances"
    ),
    "greenloop.carbon.points_reversed": _shape(
        r"points-accounts/\d+",
        "entry_id kind points balances order award_id already_expired",
    ),
    "greenloop.carbon.redemption_requested": _shape(
        r"redemptions/\d+", "redemption_id service service_kind points status balances"
    ),
    "greenloop.carbon.redemption_fulfilled": _shape(
        r"redemptions/\d+",
        "redemption_id service service_kind points status balances scheduled_for",
    ),
    "greenloop.carbon.redemption_rejected": _shape(
        r"redemptions/\d+", "redemption_id service service_kind points status balances"
    ),
    "greenloop.carbon.redemption_cancelled": _shape(
        r"redemptions/\d+", "redemption_id service service_kind points status balances"
    ),
    "greenloop.carbon.report_generated": _shape(
        r"reports/[0-9a-f-]{36}",
        "report_id organisation_id requested_by_id period period_kind period_start period_end "
        "format language basis figures_as_of data_hash file_sha256 size",
    ),
    # Sent straight to one CRM endpoint by the admin's "send test event" (never in the outbox).
    "greenloop.crm.endpoint_tested": _shape(r"crm-endpoints/\d+", "endpoint"),
    "greenloop.community.topic_created": _shape(
        r"community/topics/\d+", "topic_id space_id post_id author_id", _COMMUNITY_PUBLIC
    ),
    "greenloop.community.reply_posted": _shape(
        r"community/topics/\d+", "topic_id space_id post_id author_id number", _COMMUNITY_PUBLIC
    ),
    "greenloop.community.post_flagged": _shape(
        r"community/topics/\d+",
        "topic_id space_id post_id author_id reason flag_count",
        _COMMUNITY_PUBLIC,
    ),
    "greenloop.community.answer_accepted": _shape(
        r"community/topics/\d+",
        "topic_id space_id post_id author_id accepted_by_id answer_organisation_id",
        _COMMUNITY_PUBLIC,
    ),
    # Beta programmes: ids only (a programme may be under NDA and the CRM's readers outside it).
    "greenloop.beta.application_submitted": _shape(
        r"beta/applications/\d+", "application_id programme_id applicant_id status"
    ),
    "greenloop.beta.application_accepted": _shape(
        r"beta/applications/\d+", "application_id programme_id applicant_id"
    ),
    "greenloop.beta.application_rejected": _shape(
        r"beta/applications/\d+", "application_id programme_id applicant_id"
    ),
    "greenloop.beta.application_withdrawn": _shape(
        r"beta/applications/\d+", "application_id programme_id applicant_id withdrawn_by was"
    ),
    "greenloop.beta.programme_graduated": _shape(
        r"beta/programmes/\d+", "programme_id graduated_by grants"
    ),
    "greenloop.beta.cohort_created": _shape(
        r"beta/cohorts/\d+", "cohort_id programme_id group_id created_by create_space"
    ),
    "greenloop.beta.participant_reminded": _shape(
        r"beta/reminders/\d+", "reminder_id programme_id phase_id user_id"
    ),
    "greenloop.boards.idea_created": _shape(
        r"boards/ideas/\d+", "idea_id board_id author_id private_board"
    ),
    "greenloop.boards.idea_voted": _shape(
        r"boards/ideas/\d+", "idea_id vote_id voter_id importance changed on_behalf"
    ),
    "greenloop.boards.idea_status_changed": _shape(
        r"boards/ideas/\d+", "idea_id board_id from to kind changed_by"
    ),
    "greenloop.boards.idea_shipped": _shape(
        r"boards/ideas/\d+", "idea_id board_id changelog_page_id organisation_ids"
    ),
    "greenloop.beta.announcement_published": _shape(
        r"beta/announcements/\d+", "announcement_id programme_id published_by cohort_ids"
    ),
    "greenloop.beta.build_downloaded": _shape(
        r"beta/builds/\d+", "download_id build_id programme_id user_id"
    ),
    "greenloop.beta.nda_accepted": _shape(
        r"beta/nda-acceptances/\d+", "acceptance_id programme_id nda_version user_id"
    ),
    "greenloop.beta.feedback_submitted": _shape(
        r"beta/feedback/\d+", "feedback_id programme_id build_id kind severity"
    ),
    "greenloop.beta.bug_confirmed": _shape(
        r"beta/feedback/\d+", "feedback_id programme_id build_id severity"
    ),
}


def contract_violation(type_: str, subject: str, data: object) -> str | None:
    """What is wrong with this event against the contract, or None when it conforms."""
    shape = EVENT_SHAPES.get(type_)
    if shape is None:
        return f"event type {type_!r} is not in the contract (tests/event_contracts.py)"
    if not re.fullmatch(shape.subject, subject):
        return f"{type_}: subject {subject!r} does not match {shape.subject!r}"
    if not isinstance(data, dict):
        return f"{type_}: data is {type(data).__name__}, not an object"
    keys = set(data)
    missing = sorted(shape.keys - keys)
    unexpected = sorted(keys - shape.keys - shape.optional)
    partial = shape.optional & keys
    if missing or unexpected:
        return f"{type_}: missing keys {missing}, unexpected keys {unexpected}"
    if partial and partial != shape.optional:
        return f"{type_}: has {sorted(partial)} but not all of {sorted(shape.optional)}"
    if "balances" in data and set(data["balances"]) != _BALANCES:
        return f"{type_}: balances has {sorted(data['balances'])}, expected {sorted(_BALANCES)}"
    return None
