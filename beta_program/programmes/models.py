"""Beta programmes: what product teams recruit customers into, and the applications to them.

A programme is shared reference data run by vendor staff; an application belongs to one customer
organisation. Who may see a programme is answered by `Programme.objects.visible_to(user, org)`,
who may apply by `beta_program.programmes.eligibility`.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.models import Orderable

from portal.audit_labels import AuditLabel, named, twins
from portal.localised import chinese, localised
from portal.models import Organisation, Role, Tier
from portal.storage import private_storage


class ProgrammeStatus(models.TextChoices):
    PLANNING = "planning", _("Planning")
    RECRUITING = "recruiting", _("Recruiting")
    RUNNING = "running", pgettext_lazy("beta programme status", "Running")
    CLOSED = "closed", _("Closed")
    GRADUATED = "graduated", _("Graduated")


# Which status may follow which. Running goes back to recruiting for a further wave; graduation
# (general availability) is final and comes only after the programme has closed.
TRANSITIONS: dict[str, frozenset[str]] = {
    ProgrammeStatus.PLANNING: frozenset({ProgrammeStatus.RECRUITING, ProgrammeStatus.RUNNING}),
    ProgrammeStatus.RECRUITING: frozenset({ProgrammeStatus.RUNNING, ProgrammeStatus.CLOSED}),
    ProgrammeStatus.RUNNING: frozenset({ProgrammeStatus.RECRUITING, ProgrammeStatus.CLOSED}),
    ProgrammeStatus.CLOSED: frozenset({ProgrammeStatus.GRADUATED}),
    ProgrammeStatus.GRADUATED: frozenset(),
}


class Confidentiality(models.TextChoices):
    OPEN = "open", _("Open")
    NDA = "nda", _("Under NDA")


class ApplicationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    ACCEPTED = "accepted", _("Accepted")
    WAITLISTED = "waitlisted", _("Waitlisted")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# Applications that hold a place or are still open: an organisation has at most one of these per
# programme, and accepted ones count against capacity.
OPEN_APPLICATION_STATUSES = (
    ApplicationStatus.PENDING,
    ApplicationStatus.ACCEPTED,
    ApplicationStatus.WAITLISTED,
)
# What the applicant (or their organisation's admin) may withdraw: every open application; an
# accepted one means leaving the programme.
WITHDRAWABLE = OPEN_APPLICATION_STATUSES


class ProgrammeQuerySet(models.QuerySet):
    def visible_to(self, user, organisation: Organisation | None) -> ProgrammeQuerySet:
        """Programmes the user may see while acting for `organisation`, in one query: vendor
        staff see all, customers what `for_organisation` admits."""
        from beta_program.programmes.access import is_beta_staff

        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        if is_beta_staff(user):
            return self.all()
        return self.for_organisation(organisation)

    def for_organisation(self, organisation: Organisation | None) -> ProgrammeQuerySet:
        """What a customer organisation (its people, its API token) may see: programmes that
        are recruiting and whose tier and country rules admit it (the SKU rule is added by
        `access.programmes_for`), and those it has an application to that is not withdrawn.
        Nothing in planning."""
        if organisation is None or not organisation.is_active:
            return self.none()
        recruiting = Q(status=ProgrammeStatus.RECRUITING) & self._rules_admit(organisation)
        applied = Exists(
            Application.objects.filter(programme=OuterRef("pk"), organisation=organisation).exclude(
                status=ApplicationStatus.WITHDRAWN
            )
        )
        return self.exclude(status=ProgrammeStatus.PLANNING).filter(recruiting | applied)

    def participating(self, organisation: Organisation) -> ProgrammeQuerySet:
        """Programmes in which the organisation holds an accepted place."""
        return self.filter(
            Exists(
                Application.objects.filter(
                    programme=OuterRef("pk"),
                    organisation=organisation,
                    status=ApplicationStatus.ACCEPTED,
                )
            )
        )

    def _rules_admit(self, organisation: Organisation) -> Q:
        # Empty lists mean "any".
        tiers = json_list_contains("eligible_tiers", organisation.tier, self.db)
        countries = json_list_contains("eligible_countries", organisation.country, self.db)
        return (Q(eligible_tiers=[]) | tiers) & (Q(eligible_countries=[]) | countries)


def json_list_contains(field: str, value: str, db: str) -> Q:
    """The rows whose JSON list `field` holds the string `value`, on database `db`'s vendor."""
    if connections[db].vendor == "postgresql":
        return Q(**{f"{field}__contains": [value]})
    # SQLite has no JSON containment lookup; tiers and country codes are plain identifiers, so
    # matching the quoted value in the stored JSON text is exact.
    return Q(**{f"{field}__icontains": f'"{value}"'})


class Programme(ClusterableModel):
    name = models.CharField(_("name"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120, blank=True)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    product_line = models.CharField(_("product line"), max_length=120)
    product_line_zh = models.CharField(_("product line (Chinese)"), max_length=120, blank=True)
    summary = models.TextField(
        _("public summary"),
        max_length=600,
        help_text=_(
            "Shown to eligible customers before they join. Nothing confidential: for a "
            "programme under NDA this is all an applicant sees."
        ),
    )
    summary_zh = models.TextField(_("public summary (Chinese)"), max_length=600, blank=True)
    goals = models.TextField(_("goals"), blank=True)
    goals_zh = models.TextField(_("goals (Chinese)"), blank=True)
    exit_criteria = models.TextField(_("exit criteria"), blank=True)
    exit_criteria_zh = models.TextField(_("exit criteria (Chinese)"), blank=True)
    confidentiality = models.CharField(
        _("confidentiality"),
        max_length=10,
        choices=Confidentiality.choices,
        default=Confidentiality.OPEN,
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ProgrammeStatus.choices,
        default=ProgrammeStatus.PLANNING,
        editable=False,
    )
    status_changed_at = models.DateTimeField(_("status changed"), default=timezone.now)
    capacity_total = models.PositiveIntegerField(
        _("places in total"), null=True, blank=True, help_text=_("Empty: no limit.")
    )
    capacity_per_organisation = models.PositiveIntegerField(
        _("places per organisation"),
        null=True,
        blank=True,
        help_text=_("Accepted applicants per organisation. Empty: no limit."),
    )
    auto_accept = models.BooleanField(
        _("accept automatically"),
        default=True,
        help_text=_(
            "Accept an eligible application at once while places are free; otherwise every "
            "application waits in the review queue."
        ),
    )
    # Eligibility rules (empty: anyone).
    eligible_tiers = models.JSONField(_("eligible tiers"), default=list, blank=True)
    eligible_countries = models.JSONField(
        _("eligible countries/regions"),
        default=list,
        blank=True,
        help_text=_("ISO 3166-1 alpha-2 codes, e.g. CN, DE. Empty: any."),
    )
    required_skus = models.JSONField(
        _("products owned (SKUs)"),
        default=list,
        blank=True,
        help_text=_("The organisation must have ordered at least one of these. Empty: any."),
    )
    applicant_min_role = models.CharField(
        _("applicant's minimum role"),
        max_length=10,
        choices=Role.choices,
        default=Role.MEMBER,
    )
    owners = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owning product staff"),
        related_name="owned_beta_programmes",
        blank=True,
        limit_choices_to={"is_staff": True},
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    objects = ProgrammeQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("beta programme")
        verbose_name_plural = _("beta programmes")

    def __str__(self) -> str:
        return self.name

    def audit_label(self) -> AuditLabel:
        # The audit trail names it as staff did, in each reader's language (its Chinese twin).
        return named(self)

    display_name = property(lambda self: localised(self, "name"))

    display_product_line = property(lambda self: localised(self, "product_line"))

    display_goals = property(lambda self: localised(self, "goals"))

    display_exit_criteria = property(lambda self: localised(self, "exit_criteria"))

    display_summary = property(lambda self: localised(self, "summary"))

    @property
    def is_confidential(self) -> bool:
        return self.confidentiality == Confidentiality.NDA

    def clean(self) -> None:
        super().clean()
        unknown = sorted(set(self.eligible_tiers or []) - set(Tier.values))
        if unknown:
            raise ValidationError({"eligible_tiers": _("Unknown tier(s): %s") % ", ".join(unknown)})
        codes = [str(c).strip().upper() for c in self.eligible_countries or []]
        if any(len(c) != 2 or not c.isascii() or not c.isalpha() for c in codes):
            raise ValidationError(
                {"eligible_countries": _("Use two-letter ISO codes such as CN or DE.")}
            )
        self.eligible_countries = codes
        self.required_skus = [str(s).strip() for s in self.required_skus or [] if str(s).strip()]


class Phase(Orderable):
    programme = ParentalKey(Programme, on_delete=models.CASCADE, related_name="phases")
    name = models.CharField(_("name"), max_length=80)
    name_zh = models.CharField(_("name (Chinese)"), max_length=80, blank=True)
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"))

    class Meta(Orderable.Meta):
        verbose_name = _("phase")
        verbose_name_plural = _("phases")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="beta_phase_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.name

    display_name = property(lambda self: localised(self, "name"))

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("A phase cannot end before it starts.")})


class StatusChange(models.Model):
    """The programme's status history (the audit trail has the same with IP and user agent);
    written only by `actions.change_status`."""

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=12, choices=ProgrammeStatus.choices)
    to_status = models.CharField(max_length=12, choices=ProgrammeStatus.choices)
    note = models.TextField(blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class QuestionKind(models.TextChoices):
    CHOICE = "choice", _("One choice")
    MULTIPLE = "multiple", _("Several choices")
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")


class ScreeningQuestion(Orderable):
    programme = ParentalKey(Programme, on_delete=models.CASCADE, related_name="questions")
    text = models.CharField(_("question"), max_length=300)
    text_zh = models.CharField(_("question (Chinese)"), max_length=300, blank=True)
    kind = models.CharField(
        _("kind"), max_length=10, choices=QuestionKind.choices, default=QuestionKind.TEXT
    )
    choices = models.TextField(
        _("choices"),
        blank=True,
        help_text=_("One per line, for choice questions. Chinese after a “|”: Yes|是"),
    )
    required = models.BooleanField(_("required"), default=True)

    class Meta(Orderable.Meta):
        verbose_name = _("screening question")
        verbose_name_plural = _("screening questions")

    def __str__(self) -> str:
        return self.text

    display_text = property(lambda self: localised(self, "text"))

    def options(self) -> list[tuple[str, str]]:
        """(stored value, label in the reader's language) per line of `choices`."""
        result = []
        for line in self.choices.splitlines():
            value, _sep, zh = line.partition("|")
            value = value.strip()
            if value:
                result.append((value, zh.strip() if chinese() and zh.strip() else value))
        return result

    def clean(self) -> None:
        if self.kind in (QuestionKind.CHOICE, QuestionKind.MULTIPLE) and not self.options():
            raise ValidationError({"choices": _("A choice question needs at least one choice.")})


class Application(models.Model):
    """One organisation's application to a programme, made by one of its people."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="applications")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="beta_applications"
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="beta_applications",
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.PENDING,
    )
    # {question id (str): answer (str, number or list of str)}, as the applicant gave them.
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Accepted automatically (rules and capacity allowed) rather than by a reviewer.
    auto_decided = models.BooleanField(default=False)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        constraints = [
            # A person applies once per programme while an application is open or accepted.
            models.UniqueConstraint(
                fields=["programme", "applicant"],
                condition=Q(status__in=["pending", "accepted", "waitlisted"]),
                name="beta_one_open_application_per_person",
            )
        ]

    def __str__(self) -> str:
        return f"{self.programme} · {self.organisation}"

    def audit_label(self) -> AuditLabel:
        # The programme in each reader's language, then the organisation.
        return {
            "text": gettext_noop("%(programme)s · %(organisation)s"),
            "args": {"organisation": str(self.organisation)},
            "localised": {"programme": twins(self.programme, "name")},
        }


class NdaStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class ImmutableError(Exception):
    """A published NDA version or a recorded acceptance cannot change."""


class NdaVersionQuerySet(models.QuerySet):
    def published(self) -> NdaVersionQuerySet:
        return self.filter(status=NdaStatus.PUBLISHED)


class NdaVersion(models.Model):
    """One version of a programme's non-disclosure agreement. A draft is edited freely; publishing
    numbers it, fixes its SHA-256 content hash and makes it immutable. The newest published
    version is the one participants must have accepted to see confidential content."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="nda_versions")
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(
        _("text"), help_text=_("The agreement as participants read and accept it.")
    )
    body_zh = models.TextField(
        _("text (Chinese)"),
        blank=True,
        help_text=_("A Chinese rendering shown beside the binding text, if any."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=NdaStatus.choices, default=NdaStatus.DRAFT
    )
    version = models.PositiveIntegerField(_("version"), null=True, blank=True, editable=False)
    content_hash = models.CharField(_("SHA-256"), max_length=64, blank=True, editable=False)
    published_at = models.DateTimeField(_("published"), null=True, blank=True, editable=False)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = NdaVersionQuerySet.as_manager()

    class Meta:
        ordering = ["programme", "-version", "-id"]
        verbose_name = _("NDA version")
        verbose_name_plural = _("NDA versions")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "version"], name="beta_one_number_per_nda_version"
            ),
            models.CheckConstraint(
                condition=Q(status="draft")
                | (Q(version__isnull=False) & ~Q(content_hash="") & Q(published_at__isnull=False)),
                name="beta_published_nda_is_numbered_and_hashed",
            ),
        ]

    def __str__(self) -> str:
        if self.version:
            return f"{self.title} (v{self.version})"
        return f"{self.title} ({self.get_status_display()})"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            stored = NdaVersion.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored == NdaStatus.PUBLISHED:
                raise ImmutableError("A published NDA version cannot change; publish a new one.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.status == NdaStatus.PUBLISHED:
            raise ImmutableError("A published NDA version is kept for the record.")
        return super().delete(*args, **kwargs)

    def audit_label(self) -> AuditLabel:
        # The agreement with its number, or (a draft) its status, in each reader's language.
        if self.version:
            return {
                "text": gettext_noop("%(title)s (v%(version)s)"),
                "args": {"title": self.title, "version": str(self.version)},
            }
        return {
            "text": gettext_noop("%(title)s (%(status)s)"),
            "args": {"title": self.title},
            "choices": {"status": self.status},
        }

    display_body = property(lambda self: localised(self, "body"))

    def compute_hash(self) -> str:
        import hashlib

        text = f"{self.title}\n\n{self.body}\n\n{self.body_zh}"
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


class NdaAcceptance(models.Model):
    """Who accepted which NDA version, when, from where: append-only evidence."""

    nda = models.ForeignKey(NdaVersion, on_delete=models.PROTECT, related_name="acceptances")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="beta_nda_acceptances"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="beta_nda_acceptances"
    )
    version = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64)
    accepted_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)

    class Meta:
        ordering = ["-accepted_at", "-id"]
        verbose_name = _("NDA acceptance")
        verbose_name_plural = _("NDA acceptances")
        constraints = [
            models.UniqueConstraint(fields=["nda", "user"], name="beta_accept_an_nda_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} accepted {self.nda_id}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ImmutableError("NDA acceptances are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("NDA acceptances are append-only.")

    def audit_label(self) -> AuditLabel:
        # The agreement and the version accepted (not "<user id> accepted <nda id>").
        return {
            "text": gettext_noop("%(title)s (v%(version)s)"),
            "args": {"title": self.nda.title, "version": str(self.version)},
        }


# --- cohorts and the release channel


class Cohort(models.Model):
    """A wave of participants, backed by a Django group so that community spaces, pages and
    downloads can be restricted to it. Created only by `actions.create_cohort`."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="cohorts")
    name = models.CharField(_("name"), max_length=80)
    name_zh = models.CharField(_("name (Chinese)"), max_length=80, blank=True)
    group = models.OneToOneField(
        "auth.Group", on_delete=models.PROTECT, related_name="beta_cohort", editable=False
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["programme", "created_at", "id"]
        verbose_name = _("cohort")
        verbose_name_plural = _("cohorts")
        constraints = [
            models.UniqueConstraint(fields=["programme", "name"], name="beta_cohort_name_unique")
        ]

    def __str__(self) -> str:
        return f"{self.programme} · {self.name}"

    def audit_label(self) -> AuditLabel:
        # The programme and the cohort, each as staff named it in the reader's language.
        return {
            "text": gettext_noop("%(programme)s · %(cohort)s"),
            "localised": {
                "programme": twins(self.programme, "name"),
                "cohort": twins(self, "name"),
            },
        }


def default_build_expiry():
    import datetime as dt

    return timezone.localdate() + dt.timedelta(days=90)


def build_upload_to(instance: Build, filename: str) -> str:
    import uuid

    # A random directory: the stored name never reveals another build's file.
    return f"beta/builds/{instance.programme_id}/{uuid.uuid4().hex}/{filename}"


class BuildQuerySet(models.QuerySet):
    def current(self) -> BuildQuerySet:
        return self.filter(expires_on__gte=timezone.localdate())


class Build(models.Model):
    """A pre-release build: a file in private storage or an external link, with what to test.
    Downloads go through an access-checked view; after `expires_on` it is refused."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="builds")
    version = models.CharField(_("version"), max_length=40)
    release_notes = models.TextField(_("release notes"), blank=True)
    release_notes_zh = models.TextField(_("release notes (Chinese)"), blank=True)
    what_to_test = models.TextField(_("what to test"), blank=True)
    what_to_test_zh = models.TextField(_("what to test (Chinese)"), blank=True)
    file = models.FileField(
        _("file"),
        upload_to=build_upload_to,
        storage=private_storage,
        blank=True,
        max_length=300,
    )
    external_url = models.URLField(_("external link"), blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True, editable=False)
    size = models.PositiveBigIntegerField(_("size (bytes)"), null=True, editable=False)
    published_at = models.DateTimeField(_("published"), default=timezone.now)
    expires_on = models.DateField(_("expires"), default=default_build_expiry)
    min_nda_version = models.PositiveIntegerField(
        _("minimum NDA version"),
        null=True,
        blank=True,
        help_text=_("Under NDA: participants must have accepted this version or a later one."),
    )
    cohorts = models.ManyToManyField(
        Cohort,
        blank=True,
        related_name="builds",
        verbose_name=_("cohorts"),
        help_text=_("None chosen: every participant."),
    )

    objects = BuildQuerySet.as_manager()

    class Meta:
        ordering = ["programme", "-published_at", "-id"]
        verbose_name = _("build")
        verbose_name_plural = _("builds")
        constraints = [
            models.UniqueConstraint(fields=["programme", "version"], name="beta_build_version")
        ]

    def __str__(self) -> str:
        return f"{self.programme} {self.version}"

    def clean(self) -> None:
        if bool(self.file) == bool(self.external_url):
            raise ValidationError(_("Give either a file or an external link."))

    display_release_notes = property(lambda self: localised(self, "release_notes"))

    display_what_to_test = property(lambda self: localised(self, "what_to_test"))

    @property
    def is_expired(self) -> bool:
        return self.expires_on < timezone.localdate()


class BuildDownload(models.Model):
    """Who downloaded which build, when: written by the download view, never changed."""

    build = models.ForeignKey(Build, on_delete=models.PROTECT, related_name="downloads")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="beta_downloads"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="beta_downloads"
    )
    downloaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-downloaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_id} downloaded {self.build_id}"
