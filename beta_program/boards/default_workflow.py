"""The default idea workflow (staff may rename, reorder and add statuses in the admin): new ideas
are reviewed, then planned, built and shipped, or declined, or merged as duplicates.

Written by migration 0008 and again after any flush that empties the table (a transactional
test's teardown runs post_migrate), never over statuses staff already have."""

from __future__ import annotations

from typing import Any

DEFAULTS = [
    # key, name, Chinese name, kind, initial, note required, roadmap column, may move on to
    ("new", "New", "新建", "open", True, False, False,
     ["under_review", "planned", "declined", "duplicate"]),
    ("under_review", "Under review", "评估中", "open", False, False, True,
     ["planned", "declined", "duplicate", "new"]),
    ("planned", "Planned", "已计划", "planned", False, False, True,
     ["in_progress", "under_review", "declined", "shipped"]),
    ("in_progress", "In progress", "开发中", "active", False, False, True,
     ["shipped", "planned", "declined"]),
    ("shipped", "Shipped", "已发布", "shipped", False, True, True, ["in_progress"]),
    ("declined", "Declined", "已拒绝", "declined", False, True, False, ["under_review"]),
    ("duplicate", "Duplicate", "重复", "duplicate", False, False, False, ["new"]),
]  # fmt: skip


def seed(status_model: Any) -> None:
    """Write the default statuses with `status_model` (the real model, or a migration's
    historical one) when there are none."""
    if status_model.objects.exists():
        return
    made = {}
    for position, (key, name, name_zh, kind, initial, note, roadmap, _next) in enumerate(DEFAULTS):
        made[key] = status_model.objects.create(
            key=key,
            name=name,
            name_zh=name_zh,
            kind=kind,
            position=position * 10,
            is_initial=initial,
            requires_note=note,
            on_roadmap=roadmap,
        )
    for key, *_rest, following in DEFAULTS:
        made[key].allowed_next.set([made[k] for k in following])


def after_migrate(**kwargs: Any) -> None:
    from beta_program.boards.models import IdeaStatus

    seed(IdeaStatus)
