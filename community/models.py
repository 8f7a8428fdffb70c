"""Community spaces: categories with one level of sub-spaces, each with a visibility rule.

Who may see a space is answered by `Space.objects.visible_to(user)` in one query; who may start
topics and reply by `Space.objects.postable_by(user)` and `community.permissions.can_post`.
A sub-space only narrows its parent's audience: it is visible when both rules admit the user.
"""

from __future__ import annotations

import operator
import posixpath
import uuid
from collections.abc import Iterable
from functools import reduce

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import connections, models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal.models import Membership, Organisation, Role, Tier, User
from portal.permissions import has_second_factor_q, in_staff_role, is_vendor_staff
from portal.staff_roles import StaffRole
from portal.storage import private_storage

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


class SpaceQuerySet(models.QuerySet["Space"]):
    def visible_to(self, user) -> SpaceQuerySet:
        """Non-archived spaces the user may see (and whose parent they may see): the rule below,
        answered once per person and cached as ids (community.visibility)."""
        from community.visibility import known_space_ids

        ids = known_space_ids(user)
        return self._admitting(user, roles=None) if ids is None else self.filter(pk__in=ids)

    def visible_to_uncached(self, user) -> SpaceQuerySet:
        """The visibility rule itself, in one query."""
        return self._admitting(user, roles=None)

    def update(self, **kwargs) -> int:
        # A bulk update sends no signal: the cached visibility answers and pages are dropped
        # here.
        from community.page_cache import content_changed
        from community.visibility import everyone_changed

        changed = super().update(**kwargs)
        everyone_changed()
        content_changed()
        return changed

    def postable_by(self, user) -> SpaceQuerySet:
        """Non-archived spaces the user may start topics and reply in."""
        if is_community_staff(user):
            return self._admitting(user, roles=None)
        return self._admitting(user, roles=POSTING_ROLES).filter(who_can_post=WhoCanPost.MEMBERS)

    def visible_to_organisation(self, organisation) -> SpaceQuerySet:
        """Spaces an organisation's API token may read: audience rules that name the organisation
        itself (all customers, the organisation, its tier). Group spaces are per person: no."""
        if organisation is None or not organisation.is_active:
            return self.none()
        live = self.filter(is_archived=False).filter(
            Q(parent__isnull=True) | Q(parent__is_archived=False)
        )
        return live.filter(_org_audience_q(organisation, "pk", "", self.db)).filter(
            Q(parent__isnull=True) | _org_audience_q(organisation, "parent", "parent__", self.db)
        )

    def viewers(self, space: Space, user_ids: Iterable[int]) -> models.QuerySet:
        """The people among `user_ids` who may see `space` now, in one query: the set-wise twin
        of `visible_to(user)` (active users; vendor staff see every live space; others through
        the audience rule of the space and of its parent)."""
        ids = list(set(user_ids))
        parent = space.parent if space.parent_id else None
        if not ids or space.is_archived or (parent is not None and parent.is_archived):
            return User.objects.none()
        in_staff_group = User.groups.through.objects.filter(
            user_id=OuterRef("pk"), group__name__in=StaffRole.values
        )
        staff = (
            Q(is_staff=True)
            & has_second_factor_q()
            & (Q(is_superuser=True) | Exists(in_staff_group))
        )
        audience = _space_audience(space)
        if parent is not None:
            audience &= _space_audience(parent)
        return User.objects.filter(pk__in=ids, is_active=True).filter(staff | audience)

    def _admitting(self, user, roles) -> SpaceQuerySet:
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        live = self.filter(is_archived=False).filter(
            Q(parent__isnull=True) | Q(parent__is_archived=False)
        )
        if is_community_staff(user):
            return live
        own = _audience_q(user, roles, outer="pk", prefix="", db=self.db)
        parent = _audience_q(user, roles, outer="parent", prefix="parent__", db=self.db)
        return live.filter(own).filter(Q(parent__isnull=True) | parent)


def public_name(user) -> str:
    """What other members see of a person: their name, else their @handle. Never the e-mail
    address (User.display_name falls back to it). Needs `community_member` loaded."""
    if user is None:
        return str(_("Former member"))
    name = user.get_full_name()
    if name:
        return name
    # A reverse one-to-one without a row raises AttributeError even when joined.
    member = getattr(user, "community_member", None)
    return f"@{member.handle}" if member is not None else str(_("Member"))


def is_community_staff(user) -> bool:
    """Vendor staff of any role (engineers, moderators, product, success) see every space and
    may post in it: they answer customers' questions."""
    if not (user and user.is_authenticated and user.is_active and user.is_staff):
        return False
    return is_vendor_staff(user) or in_staff_role(user, *StaffRole.values)


def is_moderator(user) -> bool:
    return bool(user and user.is_authenticated and in_staff_role(user, StaffRole.MODERATOR))


def _org_audience_q(organisation, outer: str, prefix: str, db: str) -> Q:
    audience = f"{prefix}audience"
    return (
        Q(**{audience: Audience.CUSTOMERS})
        | (
            Q(**{audience: Audience.ORGANISATIONS})
            & Exists(
                Space.organisations.through.objects.filter(
                    space=OuterRef(outer), organisation=organisation
                )
            )
        )
        | (Q(**{audience: Audience.TIERS}) & _tier_listed(prefix, organisation.tier, db))
    )


def _audience_q(user, roles, *, outer: str, prefix: str, db: str) -> Q:
    """The visibility rule of one space (the row itself, or its parent through `prefix`)."""
    memberships = Membership.objects.filter(user=user, organisation__is_active=True)
    if roles is not None:
        memberships = memberships.filter(role__in=roles)
    audience = f"{prefix}audience"

    rule = Q(**{audience: Audience.CUSTOMERS}) & Q(Exists(memberships))

    allowed_orgs = Space.organisations.through.objects.filter(
        space=OuterRef(outer),
        organisation__in=memberships.values("organisation"),
    )
    rule |= Q(**{audience: Audience.ORGANISATIONS}) & Q(Exists(allowed_orgs))

    # Tier values are a short fixed list: one EXISTS per tier keeps this a single query.
    tier_rule: Q = reduce(
        operator.or_,
        (
            _tier_listed(prefix, tier, db) & Q(Exists(memberships.filter(organisation__tier=tier)))
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
    rule |= Q(**{audience: Audience.GROUPS}) & Q(Exists(in_groups))
    return rule


def _space_audience(space: Space) -> Q:
    memberships = Membership.objects.filter(user_id=OuterRef("pk"), organisation__is_active=True)
    if space.audience == Audience.CUSTOMERS:
        return Q(Exists(memberships))
    if space.audience == Audience.ORGANISATIONS:
        listed_orgs = Space.organisations.through.objects.filter(space_id=space.pk)
        return Q(
            Exists(memberships.filter(organisation_id__in=listed_orgs.values("organisation_id")))
        )
    if space.audience == Audience.TIERS:
        return Q(Exists(memberships.filter(organisation__tier__in=list(space.tiers or []))))
    if space.audience == Audience.GROUPS:
        listed_groups = Space.groups.through.objects.filter(space_id=space.pk)
        in_group = User.groups.through.objects.filter(
            user_id=OuterRef("pk"), group_id__in=listed_groups.values("group_id")
        )
        return Q(Exists(in_group))
    return Q(pk__in=[])


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

    # Not stored: set on the spaces the list pages show (community.views_lists).
    topic_count: int
    total_topics: int
    subspaces: list[Space]

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

    def is_public_to_customers(self) -> bool:
        """Open to every signed-in customer (its parent too): events may carry its content."""
        if self.audience != Audience.CUSTOMERS:
            return False
        return self.parent is None or self.parent.audience == Audience.CUSTOMERS


# --------------------------------------------------------------------------------------------
# Topics and posts
# --------------------------------------------------------------------------------------------


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=40, unique=True)
    slug = models.SlugField(_("slug"), max_length=50, unique=True, allow_unicode=True)
    description = models.CharField(_("description"), max_length=200, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class TopicKind(models.TextChoices):
    QUESTION = "question", _("Question")
    DISCUSSION = "discussion", _("Discussion")


class PostStatus(models.TextChoices):
    VISIBLE = "visible", _("Visible")
    # Hidden automatically once flags pass the threshold, until a moderator decides.
    PENDING_REVIEW = "pending_review", _("Hidden pending review")
    HIDDEN = "hidden", _("Hidden by a moderator")
    DELETED = "deleted", _("Deleted")


# List orders shared by the pages, the API and the blocks: pinned first for "latest".
TOPIC_ORDERINGS = {
    "latest": ("-is_pinned", "-last_activity_at", "-pk"),
    "top": ("-score", "-reply_count", "-last_activity_at", "-pk"),
    "newest": ("-created_at", "-pk"),
}


# Questions nobody has replied to yet (lists, digests, page blocks).
UNANSWERED = Q(kind=TopicKind.QUESTION, accepted_answer__isnull=True, reply_count=0)


# The named list filters a reader can choose, on the pages (`?filter=`) and in the API.
TOPIC_FILTERS = ("unanswered", "solved", "mine", "followed")


def _in_visible_spaces(user, field: str) -> Q:
    """`field` (a path to a space) is a space the user may see: by the cached ids when they are
    known, else by the rule as a subquery (community.visibility)."""
    from community.visibility import known_space_ids

    ids = known_space_ids(user)
    if ids is None:
        return Q(**{f"{field}__in": Space.objects.visible_to_uncached(user)})
    return Q(**{f"{field}_id__in": ids})


class TopicQuerySet(models.QuerySet["Topic"]):
    def update(self, **kwargs) -> int:
        # A bulk update sends no signal: the kept list and search pages are dropped here.
        from community.page_cache import content_changed

        changed = super().update(**kwargs)
        content_changed()
        return changed

    def filtered(self, name: str | None, user) -> TopicQuerySet:
        """The topics that the list filter `name` keeps (one of TOPIC_FILTERS; empty: all).
        `mine` and `followed` are about `user`, a person; callers without one must refuse those
        filters before asking."""
        if not name:
            return self
        if name == "unanswered":
            return self.unanswered()
        if name == "solved":
            return self.solved()
        if name == "mine":
            return self.started_by(user)
        if name == "followed":
            return self.followed_by(user)
        raise ValueError(f"Unknown topic filter {name!r}; choose one of {TOPIC_FILTERS}.")

    def unanswered(self) -> TopicQuerySet:
        """Questions nobody has replied to yet."""
        return self.filter(UNANSWERED)

    def solved(self) -> TopicQuerySet:
        return self.filter(accepted_answer__isnull=False)

    def started_by(self, user) -> TopicQuerySet:
        return self.filter(author=user)

    def followed_by(self, user) -> TopicQuerySet:
        """Topics the person watches or tracks."""
        return self.filter(
            Exists(
                Subscription.objects.filter(
                    user=user, topic=OuterRef("pk"), level__in=[Level.WATCHING, Level.TRACKING]
                )
            )
        )

    def visible_to(self, user) -> TopicQuerySet:
        """Live topics in spaces the user may see (merged-away and hidden topics left out)."""
        return self.filter(
            _in_visible_spaces(user, "space"), merged_into__isnull=True, is_hidden=False
        )

    def visible_to_organisation(self, organisation) -> TopicQuerySet:
        return self.filter(
            space__in=Space.objects.visible_to_organisation(organisation),
            merged_into__isnull=True,
            is_hidden=False,
        )


class Topic(models.Model):
    space = models.ForeignKey(
        Space, on_delete=models.PROTECT, related_name="topics", verbose_name=_("space")
    )
    kind = models.CharField(
        _("kind"), max_length=20, choices=TopicKind.choices, default=TopicKind.QUESTION
    )
    title = models.CharField(_("title"), max_length=200)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="community_topics",
        verbose_name=_("author"),
    )
    # The author's organisation when the topic was opened: the CRM files the event there.
    organisation = models.ForeignKey(
        Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="topics", verbose_name=_("tags"))
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now)
    last_poster = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Denormalised for lists: replies that readers see, and reactions on the opening post.
    reply_count = models.PositiveIntegerField(_("replies"), default=0)
    score = models.PositiveIntegerField(_("reactions"), default=0)
    accepted_answer = models.ForeignKey(
        "Post",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted answer"),
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    is_pinned = models.BooleanField(_("pinned"), default=False)
    is_locked = models.BooleanField(_("locked"), default=False)
    # Mirrors the opening post: a hidden or deleted opening post hides the topic from lists.
    is_hidden = models.BooleanField(_("hidden"), default=False)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_topics",
        verbose_name=_("merged into"),
    )

    objects = TopicQuerySet.as_manager()

    # Not stored: what the topic lists show beside a topic, set on the page's rows by
    # community.views_lists.topic_list.
    author_name: str
    author_handle: str
    last_poster_name: str

    class Meta:
        ordering = ["-is_pinned", "-last_activity_at"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        indexes = [
            models.Index(fields=["space", "-last_activity_at"], name="community_topic_activity"),
            models.Index(fields=["-score", "-last_activity_at"], name="community_topic_top"),
            # The default list order (pinned first, then latest activity): the first page of
            # 10,000 topics reads 20 index entries instead of sorting them all.
            models.Index(
                fields=["-is_pinned", "-last_activity_at", "-id"], name="community_topic_latest"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=TopicKind.values), name="community_topic_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(accepted_answer__isnull=True) | Q(kind=TopicKind.QUESTION),
                name="community_topic_only_questions_accept",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("community:topic", kwargs={"topic_id": self.pk})

    @property
    def is_solved(self) -> bool:
        return self.accepted_answer_id is not None


class PostQuerySet(models.QuerySet["Post"]):
    def update(self, **kwargs) -> int:
        # A bulk update sends no signal: the kept list and search pages are dropped here.
        from community.page_cache import content_changed

        changed = super().update(**kwargs)
        content_changed()
        return changed

    def readable_by(self, user) -> PostQuerySet:
        """Posts in spaces the reader may see that they may read: visible posts of live topics,
        their own posts while under review (an opening post under review hides its topic from
        everyone else, not from its author), and everything but deleted posts for moderators."""
        posts = self.filter(
            _in_visible_spaces(user, "topic__space"), topic__merged_into__isnull=True
        )
        if is_moderator(user):
            return posts.exclude(status=PostStatus.DELETED)
        return posts.filter(
            Q(status=PostStatus.VISIBLE, topic__is_hidden=False)
            | Q(status=PostStatus.PENDING_REVIEW, author=user)
        )


class Post(models.Model):
    topic = models.ForeignKey(
        Topic, on_delete=models.PROTECT, related_name="posts", verbose_name=_("topic")
    )
    # 1 is the opening post; replies count up from 2 within the topic.
    number = models.PositiveIntegerField(_("number"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="community_posts",
        verbose_name=_("author"),
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField(_("text (Markdown)"))
    # Rendered and sanitised once when written (community.markdown.POSTS): pages print it as is.
    html = models.TextField(_("rendered text"), editable=False)
    reply_to = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("in reply to"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=PostStatus.choices, default=PostStatus.VISIBLE
    )
    created_at = models.DateTimeField(_("posted"), default=timezone.now)
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True)
    edit_count = models.PositiveIntegerField(default=0)
    reaction_count = models.PositiveIntegerField(default=0)
    open_flag_count = models.PositiveIntegerField(default=0)
    # Searchable text: title (opening post) and body, with Chinese split into overlapping pairs
    # of characters (portal.search_text.document), so both languages match word by word.
    search_document = models.TextField(default="", editable=False)
    search_vector = SearchVectorField(null=True, editable=False)

    objects = PostQuerySet.as_manager()

    # Not stored: what a page shows beside a post, set on the rows it lists (community.views_*:
    # the author's handle, the reader's reactions and what the reader may do; an excerpt) and
    # by the review queue (its open flags, prefetched).
    handle: str
    organisation_shown: str | None  # the topic page: the name of the author's organisation
    files: list[Attachment]  # the topic page: the post's attachments
    excerpt: str
    author_name: str  # the dashboard panel: community.models.public_name of the author
    reply_to_number: int | None
    is_accepted: bool
    reactions_shown: list[dict[str, object]]
    can_react: bool
    can_edit: bool
    can_flag: bool
    can_accept: bool
    open_flags: list[Flag]

    class Meta:
        ordering = ["topic", "number"]
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        constraints = [
            models.UniqueConstraint(fields=["topic", "number"], name="community_post_number"),
            models.CheckConstraint(
                condition=Q(status__in=PostStatus.values), name="community_post_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic} #{self.number}"

    def get_absolute_url(self) -> str:
        return f"{self.topic.get_absolute_url()}#post-{self.number}"

    @property
    def is_opening(self) -> bool:
        return self.number == 1


class PostRevision(models.Model):
    """The text a post had before an edit: the edit history readers can open."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    # Not stored: set by the history page (community.views_topic.history) for display.
    html: str
    editor_handle: str

    class Meta:
        ordering = ["post", "number"]
        constraints = [
            models.UniqueConstraint(fields=["post", "number"], name="community_revision_number")
        ]

    def __str__(self) -> str:
        return f"{self.post} v{self.number}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"private/community/{timezone.now():%Y/%m}/{uuid.uuid4().hex}/{filename}"


def thumbnail_path(instance: Attachment, filename: str) -> str:
    """Beside the original, in the same private folder."""
    return f"{posixpath.dirname(instance.file.name)}/{filename}"


class Attachment(models.Model):
    post = models.ForeignKey(
        Post, on_delete=models.CASCADE, related_name="attachments", null=True, blank=True
    )
    file = models.FileField(upload_to=attachment_path, storage=private_storage, max_length=255)
    # A large image is shown inline as this smaller copy (portal.images.thumbnail); the
    # original stays available as a download. Empty for PDFs and for images small enough.
    thumbnail = models.FileField(
        upload_to=thumbnail_path, storage=private_storage, max_length=255, blank=True
    )
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["post", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class ReactionKind(models.TextChoices):
    UPVOTE = "upvote", _("Helpful")
    THANKS = "thanks", _("Thanks")
    INSIGHTFUL = "insightful", _("Insightful")


class Reaction(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=ReactionKind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["post", "user", "kind"], name="community_reaction_once"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ReactionKind.values), name="community_reaction_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.post}"


# --------------------------------------------------------------------------------------------
# Subscriptions and notifications
# --------------------------------------------------------------------------------------------


class Level(models.TextChoices):
    WATCHING = "watching", _("Watching")  # every new post: in-app and e-mail
    TRACKING = "tracking", _("Tracking")  # every new post: in-app only
    NORMAL = "normal", _("Normal")  # only mentions and replies to you
    MUTED = "muted", _("Muted")  # nothing, not even in digests


class Subscription(models.Model):
    """A person's notification level for one topic, space or tag (exactly one of the three)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="community_subscriptions"
    )
    level = models.CharField(_("level"), max_length=20, choices=Level.choices)
    topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, null=True, blank=True, related_name="subscriptions"
    )
    space = models.ForeignKey(
        Space, on_delete=models.CASCADE, null=True, blank=True, related_name="subscriptions"
    )
    tag = models.ForeignKey(
        Tag, on_delete=models.CASCADE, null=True, blank=True, related_name="subscriptions"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(topic__isnull=False, space__isnull=True, tag__isnull=True)
                    | Q(topic__isnull=True, space__isnull=False, tag__isnull=True)
                    | Q(topic__isnull=True, space__isnull=True, tag__isnull=False)
                ),
                name="community_subscription_one_target",
            ),
            models.CheckConstraint(
                condition=Q(level__in=Level.values), name="community_subscription_level_valid"
            ),
            models.UniqueConstraint(
                fields=["user", "topic"],
                condition=Q(topic__isnull=False),
                name="community_subscription_topic_once",
            ),
            models.UniqueConstraint(
                fields=["user", "space"],
                condition=Q(space__isnull=False),
                name="community_subscription_space_once",
            ),
            models.UniqueConstraint(
                fields=["user", "tag"],
                condition=Q(tag__isnull=False),
                name="community_subscription_tag_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.level}: {self.topic or self.space or self.tag}"


class NotificationKind(models.TextChoices):
    MENTION = "mention", _("Mentioned you")
    REPLY = "reply", _("Replied to you")
    WATCHED = "watched", _("New post in a topic you follow")
    ACCEPTED = "accepted", _("Your answer was accepted")
    MODERATION = "moderation", _("A moderator acted on your post")


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="community_notifications"
    )
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, null=True, related_name="+")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, null=True, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"], name="community_notification_unread")]
        constraints = [
            # One notification per person per post (mention, reply or watched), even if the
            # fan-out task runs twice at once.
            models.UniqueConstraint(
                fields=["user", "post"],
                condition=Q(kind__in=["mention", "reply", "watched"]),
                name="community_notification_once_per_post",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"


class Digest(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    NEVER = "never", _("Never")


class Member(models.Model):
    """A person's standing in the community: last visit (for digests), digest choice, posting
    suspension and the counters behind the new-member rate limit."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="community_member",
    )
    # What @mentions use: derived from the e-mail's local part, unique; e-mail addresses are
    # never shown to other customers.
    handle = models.CharField(_("handle"), max_length=40, unique=True)
    last_seen_at = models.DateTimeField(_("last visit"), null=True, blank=True)
    digest = models.CharField(
        _("digest e-mail"), max_length=10, choices=Digest.choices, default=Digest.WEEKLY
    )
    digest_sent_at = models.DateTimeField(null=True, blank=True)
    post_count = models.PositiveIntegerField(_("posts"), default=0)
    first_post_at = models.DateTimeField(null=True, blank=True)
    suspended_until = models.DateTimeField(_("posting suspended until"), null=True, blank=True)
    suspension_reason = models.CharField(_("reason"), max_length=300, blank=True)
    warning_count = models.PositiveIntegerField(_("warnings"), default=0)

    class Meta:
        verbose_name = _("community member")
        verbose_name_plural = _("community members")

    def __str__(self) -> str:
        return str(self.user)

    def is_suspended(self, now=None) -> bool:
        return self.suspended_until is not None and self.suspended_until > (now or timezone.now())


# --------------------------------------------------------------------------------------------
# Moderation
# --------------------------------------------------------------------------------------------


class FlagReason(models.TextChoices):
    SPAM = "spam", _("Spam")
    OFF_TOPIC = "off_topic", _("Off-topic")
    INAPPROPRIATE = "inappropriate", _("Inappropriate")
    OTHER = "other", _("Something else")


class FlagStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("flag status", "Open")
    AGREED = "agreed", _("Moderator agreed")
    DISAGREED = "disagreed", _("Moderator disagreed")


class Flag(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="flags")
    flagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=20, choices=FlagReason.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=FlagStatus.choices, default=FlagStatus.OPEN
    )
    created_at = models.DateTimeField(_("flagged"), default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("flag")
        verbose_name_plural = _("flags")
        constraints = [
            models.UniqueConstraint(fields=["post", "flagged_by"], name="community_flag_once"),
            models.CheckConstraint(
                condition=Q(reason__in=FlagReason.values), name="community_flag_reason_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reason} on {self.post}"
