"""Community spaces: categories with one level of sub-spaces, each with a visibility rule.

Who may see a space is answered by `Space.objects.visible_to(user)` in one query; who may start
topics and reply by `Space.objects.postable_by(user)` and `community.permissions.can_post`.
A sub-space only narrows its parent's audience: it is visible when both rules admit the user.
"""

from __future__ import annotations

import operator
from functools import reduce

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from portal.models import Membership, Organisation, Role, Tier
from portal.permissions import is_vendor_staff

# Customer roles that may start topics and reply where a space lets members post.
POSTING_ROLES = (Role.MEMBER, Role.ADMIN)


class Audience(models.TextChoices):
    CUSTOMERS = "customers", _("All signed-in customers")
    ORGANISATIONS = "organisations", _("Chosen organisations")
    TIERS = "tiers", _("Chosen tiers")
    GROUPS = "groups", _("Chosen groups")


class WhoCanPost(models.TextChoices):
    MEMBERS = "members", _("Everyone who can see the space")
    STAFF = "staff", _("Vendor staff only (customers read)")


class SpaceQuerySet(models.QuerySet):
    def visible_to(self, user) -> SpaceQuerySet:
        """Non-archived spaces the user may see (and whose parent they may see), in one query."""
        return self._admitting(user, roles=None)

    def postable_by(self, user) -> SpaceQuerySet:
        """Non-archived spaces the user may start topics and reply in."""
        if _is_staff(user):
            return self._admitting(user, roles=None)
        return self._admitting(user, roles=POSTING_ROLES).filter(who_can_post=WhoCanPost.MEMBERS)

    def _admitting(self, user, roles) -> SpaceQuerySet:
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        live = self.filter(is_archived=False).filter(
            Q(parent__isnull=True) | Q(parent__is_archived=False)
        )
        if _is_staff(user):
            return live
        own = _audience_q(user, roles, outer="pk", prefix="", db=self.db)
        parent = _audience_q(user, roles, outer="parent", prefix="parent__", db=self.db)
        return live.filter(own).filter(Q(parent__isnull=True) | parent)


def _is_staff(user) -> bool:
    return bool(user and user.is_authenticated and is_vendor_staff(user))


def _audience_q(user, roles, *, outer: str, prefix: str, db: str) -> Q:
    """The visibility rule of one space (the row itself, or its parent through `prefix`)."""
    memberships = Membership.objects.filter(user=user, organisation__is_active=True)
    if roles is not None:
        memberships = memberships.filter(role__in=roles)
    audience = f"{prefix}audience"

    rule = Q(**{audience: Audience.CUSTOMERS}) & Exists(memberships)

    allowed_orgs = Space.organisations.through.objects.filter(
        space=OuterRef(outer),
        organisation__in=memberships.values("organisation"),
    )
    rule |= Q(**{audience: Audience.ORGANISATIONS}) & Exists(allowed_orgs)

    # Tier values are a short fixed list: one EXISTS per tier keeps this a single query.
    tier_rule = reduce(
        operator.or_,
        (
            _tier_listed(prefix, tier, db) & Exists(memberships.filter(organisation__tier=tier))
            for tier in Tier.values
        ),
    )
    rule |= Q(**{audience: Audience.TIERS}) & tier_rule

    in_groups = Space.groups.through.objects.filter(
        space=OuterRef(outer), group__in=user.groups.all()
    )
    if roles is not None:
        # Posting in a group space still needs a posting role in an active organisation.
        in_groups = in_groups.filter(Exists(memberships))
    rule |= Q(**{audience: Audience.GROUPS}) & Exists(in_groups)
    return rule


def _tier_listed(prefix: str, tier: str, db: str) -> Q:
    if connections[db].vendor == "postgresql":
        return Q(**{f"{prefix}tiers__contains": [tier]})
    # SQLite has no JSON containment lookup; tier values are plain identifiers, so matching
    # the quoted value in the stored JSON text is exact.
    return Q(**{f"{prefix}tiers__icontains": f'"{tier}"'})


class Space(models.Model):
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    description = models.TextField(_("description"), blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        limit_choices_to={"parent__isnull": True},
        verbose_name=_("parent space"),
        help_text=_("Leave empty for a top-level space. Sub-spaces have no sub-spaces."),
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    is_archived = models.BooleanField(
        _("archived"), default=False, help_text=_("Archived spaces are hidden from everyone.")
    )
    audience = models.CharField(
        _("who can see it"), max_length=20, choices=Audience.choices, default=Audience.CUSTOMERS
    )
    organisations = models.ManyToManyField(
        Organisation,
        blank=True,
        related_name="community_spaces",
        verbose_name=_("organisations"),
        help_text=_("Used when the space is visible to chosen organisations."),
    )
    tiers = models.JSONField(
        _("tiers"),
        default=list,
        blank=True,
        help_text=_("Used when the space is visible to chosen tiers."),
    )
    groups = models.ManyToManyField(
        "auth.Group",
        blank=True,
        related_name="community_spaces",
        verbose_name=_("groups"),
        help_text=_("Used when the space is visible to chosen groups, e.g. a beta cohort."),
    )
    who_can_post = models.CharField(
        _("who can start topics and reply"),
        max_length=20,
        choices=WhoCanPost.choices,
        default=WhoCanPost.MEMBERS,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    objects = SpaceQuerySet.as_manager()

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("space")
        verbose_name_plural = _("spaces")
        constraints = [
            models.CheckConstraint(
                condition=Q(audience__in=Audience.values), name="community_space_audience_valid"
            ),
            models.CheckConstraint(
                condition=Q(who_can_post__in=WhoCanPost.values),
                name="community_space_who_can_post_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.parent} › {self.name}" if self.parent_id else self.name

    def save(self, *args, **kwargs) -> None:
        # Guard the one-level invariant below the forms too (actions, shell, fixtures).
        self.check_hierarchy()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        self.check_hierarchy()
        unknown = sorted(set(self.tiers or []) - set(Tier.values))
        if not isinstance(self.tiers, list) or unknown:
            raise ValidationError({"tiers": _("Choose tiers from the list.")})
        self.tiers = sorted(set(self.tiers))
        if self.audience == Audience.TIERS and not self.tiers:
            raise ValidationError({"tiers": _("Choose at least one tier.")})

    def check_hierarchy(self) -> None:
        """One level of sub-spaces: a sub-space's parent is a top-level space, not itself, and
        a space that has sub-spaces cannot become one."""
        if self.parent_id is None:
            return
        if self.pk is not None and self.parent_id == self.pk:
            raise ValidationError({"parent": _("A space cannot be its own parent.")})
        parent = Space.objects.only("parent").get(pk=self.parent_id)
        if parent.parent_id is not None:
            raise ValidationError({"parent": _("A sub-space cannot have sub-spaces of its own.")})
        if self.pk is not None and Space.objects.filter(parent_id=self.pk).exists():
            raise ValidationError(
                {"parent": _("This space has sub-spaces, so it cannot become a sub-space.")}
            )
