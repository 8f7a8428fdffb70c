"""Community background work: notification fan-out after a post and the digest e-mails.

Tasks take ids, reload rows and are safe to run twice (community.notifications explains how)."""

from __future__ import annotations

import smtplib

from celery import shared_task

from community import notifications, space_actions

# A failed e-mail makes the fan-out raise after the rest are sent; the retry creates no second
# notification and e-mails only the people not yet e-mailed.
_EMAIL_RETRY = {
    "autoretry_for": (smtplib.SMTPException, ConnectionError),
    "retry_backoff": True,
    "max_retries": 6,
    "acks_late": True,
}


@shared_task(**_EMAIL_RETRY)
def notify_post(post_id: int, mentioned_user_ids: list[int]) -> int:
    """Notify mentioned people, the person replied to and followers of a new post."""
    return notifications.post_created(post_id, mentioned_user_ids)


@shared_task(**_EMAIL_RETRY)
def notify_accepted(topic_id: int) -> int:
    """Tell the answer's author their reply was accepted."""
    return notifications.answer_accepted(topic_id)


@shared_task(acks_late=True)
def send_digests(frequency: str) -> int:
    """Celery beat, daily and weekly: the community digest for members who chose this frequency
    and have not visited since the period began. A repeated run in the same period sends
    nothing; returns the number of digests sent."""
    return notifications.send_digests(frequency)


@shared_task(acks_late=True)
def create_cohort_space(group_id: int, cohort_id: int, created_by_id: int | None) -> int | None:
    """A beta cohort's private discussion space (community.space_actions); nothing when the
    group has one already. Returns the new space's id, or None."""
    space = space_actions.create_cohort_space(group_id, cohort_id, created_by_id)
    return space.pk if space else None
