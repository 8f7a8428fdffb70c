"""What every page of a signed-in person needs, kept in the shared cache per person rather than
read on every request: the organisations of the top bar's switcher, and the organisation (if
any) whose policy requires two-factor authentication (`portal.middleware`).

Both depend only on the person's memberships and those organisations' own fields, so a write to
either forgets the entries of everyone concerned (`forget`, connected below to every save and
delete of a Membership or an Organisation), at once and again after the transaction commits (a
request that read the old rows in between cannot leave them cached). Bulk `QuerySet.update()`
calls bypass the signals; the portal makes none on these models.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from portal.models import Membership, Organisation

# Entries are forgotten when their rows change; the timeout only bounds what an unseen write
# (a bulk update, a change made in the database by hand) could leave behind.
TIMEOUT_SECONDS = 15 * 60
_SWITCHER = "greenloop:person:{}:switcher"
_MFA_REQUIRED_BY = "greenloop:person:{}:mfa-required-by"


@dataclass(frozen=True)
class OrganisationChoice:
    """An organisation as the switcher shows it."""

    name: str
    slug: str

    def __str__(self) -> str:
        return self.name


def switcher_organisations(user_id: int) -> list[OrganisationChoice]:
    """The active organisations `user_id` is a member of, by name (as the switcher lists them)."""
    key = _SWITCHER.format(user_id)
    choices = cache.get(key)
    if choices is None:
        choices = [
            OrganisationChoice(name, slug)
            for name, slug in Organisation.objects.filter(
                is_active=True, memberships__user_id=user_id
            )
            .distinct()
            .order_by("name", "pk")
            .values_list("name", "slug")
        ]
        cache.set(key, choices, TIMEOUT_SECONDS)
    return choices


def mfa_required_by(user_id: int) -> str | None:
    """The name of an organisation of `user_id` that requires two-factor authentication, or
    None."""
    key = _MFA_REQUIRED_BY.format(user_id)
    name = cache.get(key)
    if name is None:
        name = (
            Membership.objects.filter(user_id=user_id, organisation__require_mfa=True)
            .order_by("organisation__name", "organisation_id")
            .values_list("organisation__name", flat=True)
            .first()
        ) or ""
        cache.set(key, name, TIMEOUT_SECONDS)
    return name or None


def forget(user_ids: Iterable[int]) -> None:
    """Drop the entries of these people, now and once the current transaction commits."""
    keys = [pattern.format(pk) for pk in set(user_ids) for pattern in (_SWITCHER, _MFA_REQUIRED_BY)]
    if not keys:
        return
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


@receiver([post_save, post_delete], sender=Membership, dispatch_uid="person_cache.membership")
def _membership_changed(sender: Any, instance: Membership, **kwargs: Any) -> None:
    forget([instance.user_id])


@receiver([post_save, post_delete], sender=Organisation, dispatch_uid="person_cache.organisation")
def _organisation_changed(sender: Any, instance: Organisation, **kwargs: Any) -> None:
    if instance.pk is None:
        return
    forget(Membership.objects.filter(organisation_id=instance.pk).values_list("user_id", flat=True))
