"""Joint R&D boards: where customers and the vendor shape the roadmap together.

A board is public to every customer or private to chosen organisations and the vendor team (a
co-development board); it may also require a beta programme's NDA. Ideas live on one board, carry
votes (one per person, with an importance), comments and subscriptions, and move along the
status workflow staff configure (`IdeaStatus`, with `allowed_next`). A duplicate is merged into
its primary (`IdeaMerge` records what moved, so the merge can be undone).

Who may see a board is answered in one place, `Board.objects.visible_to(user, organisation)`;
ideas follow their board (`Idea.objects.visible_to`). Writes go through
`beta_program.boards.actions`, which keep the idea's vote counters in step inside the same
transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from modelcluster.models import ClusterableModel
from wagtail.models import Orderable

from beta_program.attachments import Attachment, private_file_field, private_upload_path
from beta_program.programmes.models import Programme, localised
from portal.audit_labels import AuditLabel, named
from portal.models import Organisation


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Every customer")
    PRIVATE = "private", _("Chosen organisations (co-development)")


class BoardQuerySet(models.QuerySet):
    def visible_to(self, user, organisation: Organisation | None) -> BoardQuerySet:
        """Boards the user may see while acting for `organisation`, in one query: vendor staff
        with the product role (or account-facing staff) see all; a customer sees the public
        boards and the private boards its organisation was invited to, and of those that
        require a programme's NDA only those whose current NDA the person has accepted."""
        from beta_program.boards.access import is_board_staff

        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        if is_board_staff(user):
            return self.filter(archived=False)
        return self.for_organisation(organisation).filter(nda_admits(user))

    def for_organisation(self, organisation: Organisation | None) -> BoardQuerySet:
        """What a customer organisation (its people, its API token) may see, before the NDA
        rule (which is per person)."""
        if organisation is None or not organisation.is_active:
            return self.none()
        invited = Exists(
            Board.organisations.through.objects.filter(
                board_id=OuterRef("pk"), organisation_id=organisation.pk
            )
        )
        return self.filter(archived=False).filter(Q(visibility=Visibility.PUBLIC) | invited)


def nda_admits(user) -> Q:
    """Boards without an NDA, and those whose programme's newest published NDA `user` accepted
    (one subquery: no NDA acceptance means no NDA board, whatever the organisation)."""
    from beta_program.programmes.models import NdaAcceptance, NdaStatus, NdaVersion

    newest = (
        NdaVersion.objects.filter(
            programme=OuterRef(OuterRef("nda_programme")), status=NdaStatus.PUBLISHED
        )
        .order_by("-version")
        .values("pk")[:1]
    )
    accepted = Exists(
        NdaAcceptance.objects.filter(user_id=getattr(user, "pk", None), nda_id=newest)
    )
    return Q(nda_programme__isnull=True) | accepted


class Board(ClusterableModel):
    name = models.CharField(_("name"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120, blank=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    description_zh = models.TextField(_("description (Chinese)"), max_length=2000, blank=True)
    visibility = models.CharField(
        _("who sees it"), max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    organisations = ParentalManyToManyField(
        Organisation,
        blank=True,
        related_name="idea_boards",
        verbose_name=_("organisations"),
        help_text=_("Private boards: the customer organisations that take part."),
    )
    nda_programme = models.ForeignKey(
        Programme,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="idea_boards",
        verbose_name=_("requires the NDA of"),
        help_text=_("Only people who accepted this programme's current NDA see the board."),
    )
    archived = models.BooleanField(_("archived"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = BoardQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("ideas board")
        verbose_name_plural = _("ideas boards")
        constraints = [
            models.CheckConstraint(
                condition=Q(visibility__in=["public", "private"]), name="boards_visibility_known"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def audit_label(self) -> AuditLabel:
        # The audit trail names it as staff did, in each reader's language (its Chinese twin).
        return named(self)

    display_name = property(lambda self: localised(self, "name"))
    display_description = property(lambda self: localised(self, "description"))

    @property
    def is_private(self) -> bool:
        return self.visibility == Visibility.PRIVATE


class Category(Orderable):
    board = ParentalKey(Board, on_delete=models.CASCADE, related_name="categories")
    name = models.CharField(_("name"), max_length=80)
    name_zh = models.CharField(_("name (Chinese)"), max_length=80, blank=True)

    class Meta(Orderable.Meta):
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.UniqueConstraint(fields=["board", "name"], name="boards_category_name_unique")
        ]

    def __str__(self) -> str:
        return self.name

    display_name = property(lambda self: localised(self, "name"))


class Tag(models.Model):
    """Staff-curated labels shared by every board (customers choose from them, never add)."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=60, blank=True)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("idea tag")
        verbose_name_plural = _("idea tags")

    def __str__(self) -> str:
        return self.name

    def audit_label(self) -> AuditLabel:
        # The audit trail names it as staff did, in each reader's language (its Chinese twin).
        return named(self)

    display_name = property(lambda self: localised(self, "name"))


class StatusKind(models.TextChoices):
    """What a staff-defined status means to the portal (who is notified, what the roadmap and
    the counters do); staff name statuses freely within these."""

    OPEN = "open", pgettext_lazy("idea status kind", "Open")
    PLANNED = "planned", pgettext_lazy("idea status kind", "Planned")
    ACTIVE = "active", pgettext_lazy("idea status kind", "In progress")
    SHIPPED = "shipped", pgettext_lazy("idea status kind", "Shipped")
    DECLINED = "declined", pgettext_lazy("idea status kind", "Declined")
    DUPLICATE = "duplicate", pgettext_lazy("idea status kind", "Duplicate")


# Ideas in these kinds take no new votes (the decision is made).
CLOSED_KINDS = (StatusKind.SHIPPED, StatusKind.DECLINED, StatusKind.DUPLICATE)


class IdeaStatusQuerySet(models.QuerySet):
    def initial(self) -> IdeaStatus:
        """The status new ideas start in: the first `is_initial` status."""
        return (
            self.filter(is_initial=True).order_by("position", "pk").first()
            or self.order_by("position", "pk").first()
        )


class IdeaStatus(models.Model):
    """One step of the workflow staff configure. Seeded with new, under review, planned, in
    progress, shipped, declined and duplicate (migration 0008)."""

    key = models.SlugField(_("key"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    name_zh = models.CharField(_("name (Chinese)"), max_length=60, blank=True)
    kind = models.CharField(_("meaning"), max_length=10, choices=StatusKind.choices)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_initial = models.BooleanField(_("new ideas start here"), default=False)
    requires_note = models.BooleanField(
        _("a public note is required"),
        default=False,
        help_text=_("Moving an idea here needs a note that voters read (declined, shipped)."),
    )
    on_roadmap = models.BooleanField(_("a roadmap column"), default=False)
    allowed_next = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="+",
        verbose_name=_("may move on to"),
        help_text=_("None chosen: any other status."),
    )

    objects = IdeaStatusQuerySet.as_manager()

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("idea status")
        verbose_name_plural = _("idea statuses")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=["open", "planned", "active", "shipped", "declined", "duplicate"]
                ),
                name="boards_status_kind_known",
            ),
            # Voters must read why an idea was declined or what shipped.
            models.CheckConstraint(
                condition=~Q(kind__in=["shipped", "declined"]) | Q(requires_note=True),
                name="boards_closing_status_needs_note",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def audit_label(self) -> AuditLabel:
        # The audit trail names it as staff did, in each reader's language (its Chinese twin).
        return named(self)

    display_name = property(lambda self: localised(self, "name"))

    @property
    def is_closed(self) -> bool:
        return self.kind in CLOSED_KINDS

    def clean(self) -> None:
        if self.kind in (StatusKind.SHIPPED, StatusKind.DECLINED) and not self.requires_note:
            raise ValidationError(
                {"requires_note": _("Shipped and declined statuses always need a public note.")}
            )


class Importance(models.IntegerChoices):
    # How much an idea matters to a voter; "Critical" here is not a bug's severity (严重).
    NICE = 1, _("Nice to have")
    IMPORTANT = 2, _("Important")
    CRITICAL = 3, pgettext_lazy("idea importance", "Critical")


class IdeaQuerySet(models.QuerySet):
    def visible_to(self, user, organisation: Organisation | None) -> IdeaQuerySet:
        """Ideas on the boards the user sees (merged duplicates included: their pages redirect
        to the primary, and lists leave them out with `.listed()`)."""
        return self.filter(board__in=Board.objects.visible_to(user, organisation))

    def for_organisation(self, organisation: Organisation | None) -> IdeaQuerySet:
        """What an organisation's API token sees: ideas on its boards without an NDA (a token
        has accepted no NDA)."""
        boards = Board.objects.for_organisation(organisation).filter(nda_programme__isnull=True)
        return self.filter(board__in=boards)

    def listed(self) -> IdeaQuerySet:
        return self.filter(merged_into__isnull=True)


def quarter_start(value):
    """The first day of `value`'s calendar quarter."""
    return value.replace(month=3 * ((value.month - 1) // 3) + 1, day=1)


class Idea(models.Model):
    board = models.ForeignKey(Board, on_delete=models.PROTECT, related_name="ideas")
    category = models.ForeignKey(
        Category,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ideas",
        verbose_name=_("category"),
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="ideas", verbose_name=_("tags"))
    title = models.CharField(_("title"), max_length=160)
    problem = models.TextField(
        _("problem"), max_length=10000, help_text=_("What gets in your way today (Markdown).")
    )
    solution = models.TextField(
        _("proposed solution"), max_length=10000, blank=True, help_text=_("Markdown.")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="ideas",
        verbose_name=_("author"),
    )
    # The organisation the author acted for: it counts as asking for the idea.
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ideas",
        verbose_name=_("organisation"),
    )
    status = models.ForeignKey(
        IdeaStatus, on_delete=models.PROTECT, related_name="ideas", verbose_name=_("status")
    )
    status_changed_at = models.DateTimeField(_("status changed"), default=timezone.now)
    planned_quarter = models.DateField(
        _("planned for quarter"),
        null=True,
        blank=True,
        help_text=_("The first day of the quarter the roadmap shows it in."),
    )
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_ideas",
        verbose_name=_("merged into"),
    )
    co_owners = models.ManyToManyField(
        Organisation,
        blank=True,
        related_name="co_owned_ideas",
        verbose_name=_("co-owning organisations"),
        help_text=_("Private boards only: customers who develop the idea with the vendor."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now)
    # Counters kept by `actions` inside the vote's transaction (the idea row is locked first).
    vote_count = models.PositiveIntegerField(_("votes"), default=0, editable=False)
    organisation_count = models.PositiveIntegerField(_("organisations"), default=0, editable=False)
    importance_total = models.PositiveIntegerField(default=0, editable=False)
    comment_count = models.PositiveIntegerField(_("comments"), default=0, editable=False)
    # Search terms of title and text (portal.search_text.document), for lists and suggestions.
    search_document = models.TextField(default="", editable=False)
    search_vector = SearchVectorField(null=True, editable=False)

    objects = IdeaQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("idea")
        verbose_name_plural = _("ideas")
        indexes = [
            models.Index(fields=["board", "status"], name="boards_idea_board_status"),
            models.Index(fields=["board", "-vote_count"], name="boards_idea_board_votes"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(merged_into=models.F("pk")), name="boards_idea_not_merged_into_itself"
            ),
            models.CheckConstraint(
                condition=Q(planned_quarter__isnull=True)
                | (Q(planned_quarter__day=1) & Q(planned_quarter__month__in=[1, 4, 7, 10])),
                name="boards_planned_quarter_starts_quarter",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    def clean(self) -> None:
        if self.planned_quarter:
            self.planned_quarter = quarter_start(self.planned_quarter)
        if self.category_id and self.board_id and self.category.board_id != self.board_id:
            raise ValidationError({"category": _("Choose a category of the idea's board.")})

    @property
    def quarter_label(self) -> str:
        if not self.planned_quarter:
            return ""
        return f"{self.planned_quarter.year} Q{(self.planned_quarter.month - 1) // 3 + 1}"


class Vote(models.Model):
    """One person's vote on an idea, for the organisation they acted for, or (`on_behalf`) a
    vote product staff record for an organisation that asked through its account manager.

    A merge moves votes to the primary idea; where a person voted on both, the weaker vote is
    `suppressed_by` the merge (kept, so undoing the merge restores it)."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="votes")
    voter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="idea_votes"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="idea_votes"
    )
    importance = models.PositiveSmallIntegerField(
        _("importance"), choices=Importance.choices, default=Importance.IMPORTANT
    )
    reason = models.TextField(_("why it matters"), max_length=2000, blank=True)
    on_behalf = models.BooleanField(_("recorded by staff for the organisation"), default=False)
    note = models.TextField(
        _("staff note"), max_length=2000, blank=True, help_text=_("Staff only: who asked, where.")
    )
    # The idea the vote was cast on, when a merge moved it here.
    origin_idea = models.ForeignKey(
        Idea, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    suppressed_by = models.ForeignKey(
        "IdeaMerge", on_delete=models.SET_NULL, null=True, blank=True, related_name="suppressed"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        indexes = [models.Index(fields=["idea", "created_at"], name="boards_vote_idea_time")]
        constraints = [
            # One counted vote per person per idea, and one staff-recorded vote per organisation.
            models.UniqueConstraint(
                fields=["idea", "voter"],
                condition=Q(on_behalf=False, suppressed_by__isnull=True),
                name="boards_one_vote_per_person",
            ),
            models.UniqueConstraint(
                fields=["idea", "organisation"],
                condition=Q(on_behalf=True, suppressed_by__isnull=True),
                name="boards_one_staff_vote_per_organisation",
            ),
            models.CheckConstraint(
                condition=Q(importance__in=[1, 2, 3]), name="boards_importance_known"
            ),
        ]

    def __str__(self) -> str:
        return f"vote {self.pk} on {self.idea_id}"


class Comment(models.Model):
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    body = models.TextField(_("comment"), max_length=10000)
    origin_idea = models.ForeignKey(
        Idea, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    hidden = models.BooleanField(_("hidden by staff"), default=False)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("comment")
        verbose_name_plural = _("comments")

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.idea_id}"


class Subscription(models.Model):
    """Who hears about the idea (its author, voters and commenters join; anyone may leave).
    `active=False` remembers that the person left, so voting again does not re-subscribe them."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="subscriptions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idea_subscriptions"
    )
    active = models.BooleanField(default=True)
    origin_idea = models.ForeignKey(
        Idea, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["idea", "user"], name="boards_subscribe_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.idea_id}"


def attachment_upload_to(instance: IdeaAttachment, filename: str) -> str:
    return private_upload_path("boards/ideas", instance.idea_id, filename)


class IdeaAttachment(Attachment):
    """A screenshot or PDF attached to an idea."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="attachments")
    file = private_file_field(attachment_upload_to)


class IdeaStatusChange(models.Model):
    """The idea's public status history, with the note voters read; written only by
    `actions.change_status`."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.ForeignKey(IdeaStatus, on_delete=models.PROTECT, related_name="+")
    to_status = models.ForeignKey(IdeaStatus, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(_("public note"), max_length=5000, blank=True)
    note_zh = models.TextField(_("public note (Chinese)"), max_length=5000, blank=True)
    # The changelog entry (a Wagtail page) that announced the shipment, if any.
    changelog_page = models.ForeignKey(
        "wagtailcore.Page", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status_id} → {self.to_status_id}"

    display_note = property(lambda self: localised(self, "note"))


class IdeaMerge(models.Model):
    """A duplicate merged into its primary: who, when, and what moved (`moved` holds the ids of
    the votes, comments and subscriptions moved and the tags added, so `undone_at` can restore
    the duplicate exactly)."""

    duplicate = models.ForeignKey(Idea, on_delete=models.PROTECT, related_name="merges_out")
    primary = models.ForeignKey(Idea, on_delete=models.PROTECT, related_name="merges_in")
    previous_status = models.ForeignKey(IdeaStatus, on_delete=models.PROTECT, related_name="+")
    moved = models.JSONField(default=dict)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    merged_at = models.DateTimeField(default=timezone.now)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-merged_at", "-id"]
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        constraints = [
            models.CheckConstraint(
                condition=~Q(duplicate=models.F("primary")), name="boards_merge_two_ideas"
            ),
            # A duplicate is merged once at a time.
            models.UniqueConstraint(
                fields=["duplicate"],
                condition=Q(undone_at__isnull=True),
                name="boards_one_live_merge_per_duplicate",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.duplicate_id} → {self.primary_id}"


# --- co-development (private boards)


class MilestoneStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    ACTIVE = "active", _("In progress")
    DONE = "done", _("Done")
    AT_RISK = "at_risk", _("At risk")


class Milestone(models.Model):
    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("title"), max_length=160)
    title_zh = models.CharField(_("title (Chinese)"), max_length=160, blank=True)
    due_on = models.DateField(_("due"))
    status = models.CharField(
        _("status"), max_length=10, choices=MilestoneStatus.choices, default=MilestoneStatus.PLANNED
    )
    completed_on = models.DateField(_("completed"), null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["due_on", "position", "id"]
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="done") | Q(completed_on__isnull=False),
                name="boards_done_milestone_has_date",
            )
        ]

    def __str__(self) -> str:
        return self.title

    display_title = property(lambda self: localised(self, "title"))


def document_upload_to(instance: SharedDocument, filename: str) -> str:
    return private_upload_path("boards/documents", instance.idea_id, filename)


class SharedDocument(models.Model):
    """A document shared on a co-development idea: private storage, downloaded through an
    access-checked view by the board's organisations and the vendor team only."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(_("title"), max_length=200)
    file = private_file_field(document_upload_to)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=80)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        verbose_name = _("shared document")
        verbose_name_plural = _("shared documents")

    def __str__(self) -> str:
        return self.title
