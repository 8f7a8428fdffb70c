from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models, transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class UserQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        """The update, and the people's cached rows forgotten (portal.person_cache keeps every
        signed-in person's row; signals do not see a bulk update). The rows are locked and the
        update is made to exactly those, so none changes without being forgotten. `bulk_update`
        comes through here too."""
        from portal import person_cache

        with transaction.atomic(using=self.db, savepoint=False):
            ids = list(self.select_for_update().values_list("pk", flat=True))
            # The base manager's plain QuerySet: this method again would recurse.
            rows = models.QuerySet.update(
                self.model._base_manager.db_manager(self.db).filter(pk__in=ids), **kwargs
            )
            person_cache.forget(ids)
        return rows

    update.alters_data = True  # type: ignore[attr-defined]


class EmailUserManager(UserManager):
    """E-mail is the only login; there is no username."""

    use_in_migrations = True

    def get_queryset(self) -> UserQuerySet:
        return UserQuerySet(self.model, using=self._db)

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email=None, password=None, **extra_fields):  # type: ignore[override]
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email=None, password=None, **extra_fields):  # type: ignore[override]
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class NotificationEmail(models.TextChoices):
    """How often the portal's notifications (portal.notifications) are also e-mailed."""

    IMMEDIATELY = "immediately", _("Immediately")
    DAILY = "daily", _("Daily digest")
    WEEKLY = "weekly", _("Weekly digest")
    NEVER = "never", _("Never")


def default_time_zone() -> str:
    return settings.TIME_ZONE


class User(AbstractUser):
    username = None  # type: ignore[assignment]
    email = models.EmailField(_("e-mail address"), unique=True)
    preferred_language = models.CharField(_("preferred language"), max_length=10, blank=True)
    notification_email = models.CharField(
        _("notification e-mails"),
        max_length=12,
        choices=NotificationEmail.choices,
        default=NotificationEmail.IMMEDIATELY,
    )
    # An IANA name (portal.timezones): pages show times in it; digests go out at 07:00 in it.
    time_zone = models.CharField(_("time zone"), max_length=64, default=default_time_zone)
    # When the last notification digest was e-mailed (portal.notification_email).
    last_digest_at = models.DateTimeField(
        _("last notification digest"), null=True, blank=True, editable=False
    )
    # Set when the person's personal data was erased (portal.privacy): the row stays, so that
    # posts, ledger entries and audit events keep their ids, but it names nobody any more.
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True, editable=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[EmailUserManager] = EmailUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def _staff_power_locked(self) -> bool:
        # Django and Wagtail permissions (the admin, snippets, staff actions) are staff power
        # too: a vendor account without an enrolled second factor holds none of them.
        from portal.permissions import has_second_factor, is_staff_account

        return is_staff_account(self) and not has_second_factor(self)

    def has_perm(self, perm: str, obj=None) -> bool:
        return not self._staff_power_locked() and super().has_perm(perm, obj)

    def has_module_perms(self, app_label: str) -> bool:
        return not self._staff_power_locked() and super().has_module_perms(app_label)

    def get_full_name(self) -> str:
        # Every page that names a person (posts, redemptions, token lists) goes through here.
        if self.erased_at is not None:
            return gettext("Deleted user")
        return full_name(
            self.first_name,
            self.last_name,
            chinese=(self.preferred_language or "").startswith("zh"),
        )

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email


def _has_han(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


def full_name(given: str, family: str, chinese: bool = False) -> str:
    """A person's name as readers of the page expect it. Names in Chinese characters are family
    name first without a space (王芳, not 芳 王) on every page; the romanised name of a Chinese
    person (`chinese`: their own language is Chinese) is family name first on Chinese pages
    ("Li Wei"); a Western name keeps its own order everywhere ("Anna Schmidt", as Chinese
    texts write 安娜·施密特, never "Schmidt Anna")."""
    from django.utils import translation

    given, family = given.strip(), family.strip()
    if not (given and family):
        return given or family
    if _has_han(given) and _has_han(family):
        return f"{family}{given}"
    if _has_han(given + family) or (
        chinese and (translation.get_language() or "").startswith("zh")
    ):
        return f"{family} {given}"
    return f"{given} {family}"
