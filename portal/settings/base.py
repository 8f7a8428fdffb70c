"""Settings shared by every environment.

Environment modules (dev, test, production) star-import this one and override what differs.
Nothing secret lives here: production reads secrets from the environment.
"""

import os
from pathlib import Path
from typing import Any

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.utils.translation import gettext_lazy as _

from portal import timezones

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("GREENLOOP_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


INSTALLED_APPS = [
    "portal",
    "portal.home",
    "carbon",
    "community",
    "beta_program",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.locales",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "ninja",
    "csp",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Country names in every language, for the ISO codes organisations and sites store.
    "django_countries",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outermost but one: it turns every HTML error answer under /api/ into the API's JSON.
    "portal.middleware.ApiErrorMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.security.PortalCSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "portal.middleware.StorableTextMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's, with the person's row from the shared cache (portal.person_cache).
    "portal.middleware.AuthenticationMiddleware",
    "portal.middleware.TimeZoneMiddleware",
    "portal.security.SecurityHeadersMiddleware",
    "portal.middleware.TenantScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.middleware.MfaEnforcementMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    "portal.middleware.DatabaseBusyMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "portal" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
                "community.context_processors.community",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'greenloop.sqlite3'}", conn_max_age=60
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def redis_caches(url: str, key_prefix: str = "greenloop") -> dict:
    """CACHES on a Redis server every worker process shares: allauth's rate limits and the audit
    trail's per-minute counters (portal/audit.py) must count across processes, or each gunicorn
    worker would grant its own allowance."""
    return {
        "default": {
            # Django's RedisCache, reusing one client per connection pool (portal/cache.py).
            "BACKEND": "portal.cache.SharedClientRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": key_prefix,
        }
    }


# Process memory: right only for the one-command demo (one process). Production requires Redis
# (settings/production.py); tests use Redis whenever they run on PostgreSQL (settings/test.py).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions are read from the cache and written through to the database, where a person's
# sessions can still be found and ended (portal.privacy) and outlive a cache restart. Django
# writes a session only when a request changed it (SESSION_SAVE_EVERY_REQUEST stays off;
# tests/portal/test_get_never_writes.py checks that a GET changes nothing). portal.sessions is
# Django's cached_db engine that treats a cookie without the shape of a Django session key as no
# session, before any cache or database lookup.
SESSION_ENGINE = "portal.sessions"

AUTH_USER_MODEL = "portal.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:dashboard"

# --- django-allauth: e-mail is the login, verified before first use.
ACCOUNT_ADAPTER = "portal.adapter.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = False
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
# No state change on GET (tests/portal/test_get_never_writes.py): signing out takes a POST.
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[GreenLoop] "
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "5/10m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reauthenticate": "10/m/user",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
}
MFA_ADAPTER = "allauth.mfa.adapter.DefaultMFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_TOTP_ISSUER = "GreenLoop"
# Accept the previous and next 30-second code too: phones drift, and a code typed at a window's end
# should not fail.
MFA_TOTP_TOLERANCE = 1
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = False

# --- Security headers (portal/security.py).
# Portal pages: only our own files, and inline <script>/<style> elements only with the request's
# nonce (never 'unsafe-inline', so no style= or on...= attribute applies).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
# The Wagtail admin (/admin/) renders inline scripts (date pickers, inline panels, choosers; jQuery
# runs those of the modal dialogs), and its rich-text editor (Draftail) adds <style> elements
# whose text differs per editor (placeholders keyed by random ids), so no hash can admit them. Its
# script-src and style-src therefore need 'unsafe-inline' (a nonce would switch that off again).
# Everything else stays as strict as the portal's: blob: images only for the previews of the
# multiple image upload, and the page preview frames a same-origin page (portal/security.py
# allows that for Wagtail's preview requests only).
GREENLOOP_ADMIN_CONTENT_SECURITY_POLICY = {
    "default-src": [SELF],
    "script-src": [SELF, UNSAFE_INLINE],
    "style-src": [SELF, UNSAFE_INLINE],
    "img-src": [SELF, "blob:"],
    "object-src": [NONE],
    "base-uri": [NONE],
    "frame-ancestors": [SELF],
    "form-action": [SELF],
}
# Sources added for single views (by URL name): allauth shows the authenticator QR code as a
# data: image.
GREENLOOP_CSP_UPDATES_BY_URL_NAME = {"mfa_activate_totp": {"img-src": ["data:"]}}
# Browser features the portal never uses are switched off; WebAuthn (allauth's security keys)
# stays available to our own origin only.
GREENLOOP_PERMISSIONS_POLICY = ", ".join(
    [
        "camera=()",
        "microphone=()",
        "geolocation=()",
        "payment=()",
        "usb=()",
        "publickey-credentials-get=(self)",
        "publickey-credentials-create=(self)",
    ]
)

# --- Wagtail: sign-in and passwords belong to allauth, not to Wagtail's own forms.
WAGTAIL_SITE_NAME = "GreenLoop"
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
WAGTAILADMIN_LOGIN_URL = "/accounts/login/"
WAGTAIL_FRONTEND_LOGIN_URL = "/accounts/login/"
WAGTAIL_PASSWORD_MANAGEMENT_ENABLED = False
WAGTAIL_PASSWORD_RESET_ENABLED = False
WAGTAILUSERS_PASSWORD_ENABLED = False
# The landing page exists once per language, as translations of one page (same translation key):
# Wagtail serves the one in the visitor's language (LocaleMiddleware's choice). Staff edit each
# in the admin's page explorer, which then shows a language switcher.
WAGTAIL_I18N_ENABLED = True
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "pdf", "txt", "xlsx"]
# Image uploads may have at most this many pixels (a 100 KB PNG can declare 30000 x 30000, which
# is 3.6 GB decoded): community attachments, green-power evidence and Wagtail images alike.
GREENLOOP_MAX_IMAGE_PIXELS = 40_000_000
WAGTAILIMAGES_MAX_IMAGE_PIXELS = GREENLOOP_MAX_IMAGE_PIXELS

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
# Figures are grouped by thousands in every language (portal/formats/zh_Hans). Grouping is asked
# for where figures are shown (the `quantity` and `amount` filters, floatformat's "g",
# intcomma), not with USE_THOUSAND_SEPARATOR: that would also group every id a template puts
# into a link or a form value ("/community/t/1,024/").
FORMAT_MODULE_PATH = ["portal.formats"]
LOCALE_PATHS = [BASE_DIR / "portal" / "locale"]
TIME_ZONE = "UTC"
# The admin account page's time zone choices: Wagtail offers every file of the system's zoneinfo
# directory, "localtime" among them, which the browser's Intl API refuses (RangeError on that page).
WAGTAIL_USER_TIME_ZONES = sorted(timezones.available())
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Whitenoise's compressed manifest storage, its URLs kept per process (portal/storage.py).
    "staticfiles": {"BACKEND": "portal.storage.KeptUrlsManifestStaticFilesStorage"},
}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "GreenLoop <noreply@greenloop.local>")

# --- Celery: eager unless a broker is configured.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# Periodic work (run `celery -A portal beat`). Tasks are named, not imported: settings never
# import plugin code.
CELERY_BEAT_SCHEDULE = {
    "community-daily-digests": {
        "task": "community.tasks.send_digests",
        "schedule": crontab(hour=7, minute=0),
        "args": ("daily",),
    },
    "community-weekly-digests": {
        "task": "community.tasks.send_digests",
        "schedule": crontab(hour=7, minute=0, day_of_week="mon"),
        "args": ("weekly",),
    },
    # Hourly: each run e-mails the digests due at 07:00 in their recipients' own time zones.
    "portal-notification-digests": {
        "task": "portal.tasks.send_notification_digests",
        "schedule": crontab(minute=5),
    },
    "carbon-activate-due-points": {
        "task": "carbon.tasks.activate_due_points",
        "schedule": crontab(hour=1, minute=10),
    },
    "carbon-expire-due-points": {
        "task": "carbon.tasks.expire_due_points",
        "schedule": crontab(hour=1, minute=40),
    },
    "carbon-award-delivered-orders": {
        "task": "carbon.tasks.award_delivered_orders",
        "schedule": crontab(hour=0, minute=40),
    },
    # After the expiry run, so a reminder never names points that expired overnight.
    "carbon-send-expiry-reminders": {
        "task": "carbon.tasks.send_expiry_reminders",
        "schedule": crontab(hour=8, minute=0),
    },
    "portal-purge-idempotency-records": {
        "task": "carbon.idempotency.purge_idempotency_records",
        "schedule": crontab(hour=3, minute=20),
    },
    # Retention (GREENLOOP_RETENTION below): each run deletes what is past its period and is
    # safe to repeat.
    "portal-clear-expired-sessions": {
        "task": "portal.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=0),
    },
    "portal-purge-old-invitations": {
        "task": "portal.tasks.purge_old_invitations",
        "schedule": crontab(hour=3, minute=5),
    },
    # The CRM bridge's safety net: events whose after-commit kick was lost, and retries due.
    "portal-crm-deliver-outbox": {
        "task": "portal.crm.deliver_outbox",
        "schedule": 15.0,
    },
    "portal-crm-prune-outbox": {
        "task": "portal.crm.prune_outbox",
        "schedule": crontab(hour=3, minute=30),
    },
    "portal-crm-purge-inbound-webhook-ids": {
        "task": "portal.crm.purge_inbound_webhook_ids",
        "schedule": crontab(hour=3, minute=35),
    },
    "carbon-expire-reports": {
        "task": "carbon.tasks.expire_reports",
        "schedule": crontab(hour=3, minute=15),
    },
    "carbon-purge-old-import-files": {
        "task": "carbon.tasks.purge_old_import_files",
        "schedule": crontab(hour=3, minute=10),
    },
    # Once a day in working hours: each silent participant hears at most once per phase.
    "beta-remind-silent-participants": {
        "task": "beta_program.tasks.remind_silent_participants",
        "schedule": crontab(hour=9, minute=0),
    },
    # After the night's points runs, so the day's figures include them.
    "portal-record-account-signals": {
        "task": "portal.account_signals.record_account_signals",
        "schedule": crontab(hour=4, minute=0),
    },
}

# --- GreenLoop
GREENLOOP_EVENT_SOURCE = os.environ.get("GREENLOOP_EVENT_SOURCE", "urn:greenloop:portal")
# publish() checks each event against its JSON Schema (portal/event_catalogue.py): on in the
# demo (dev settings) and the tests, off in production, where the tests have already proven it.
GREENLOOP_VALIDATE_EVENTS = False
GREENLOOP_INVITATION_DAYS = 7
# The currency the R&D boards' weighted value is reported in (staff keep the rates to it).
GREENLOOP_REPORTING_CURRENCY = os.environ.get("GREENLOOP_REPORTING_CURRENCY", "EUR")
GREENLOOP_API_TOKEN_MAX_DAYS = 365
# How long personal data and private files are kept (README "Security": privacy and retention).
# Every period is enforced by a Celery beat task in CELERY_BEAT_SCHEDULE.
# Generated carbon reports' files are deleted this many days after they were finished (the record,
# its figures summary and data hash stay; the report can be generated again).
GREENLOOP_REPORT_RETENTION_DAYS = float(os.environ.get("GREENLOOP_REPORT_RETENTION_DAYS", "30"))
GREENLOOP_RETENTION = {
    # Invitations carry the invitee's address: deleted this long after they were accepted,
    # withdrawn or expired (pending ones are never touched).
    "invitation_days": 90,
    # Uploaded order CSVs and their error reports (row values): the file and the report are
    # deleted this long after the import finished; the job row keeps its counts.
    "import_file_days": 30,
    # API idempotency records (request fingerprints and first responses).
    "idempotency_record_hours": 72,
    # Outbox events (and their CRM deliveries and attempts): deleted this long after their last
    # delivery, and never while an active CRM endpoint still lacks them (portal/crm/pruning.py).
    "outbox_days": float(os.environ.get("GREENLOOP_OUTBOX_RETENTION_DAYS", "30")),
    # Ids of accepted inbound CRM webhooks, kept to refuse a replay. A request older than five
    # minutes is refused by its timestamp anyway, so a day is ample.
    "inbound_webhook_hours": 24,
}

# Account health score (portal/health.py, README "Account signals and health score"): weight of
# each component. A component without a weight is shown but not scored; one that has nothing to
# score for an organisation is left out and the others carry its weight.
GREENLOOP_HEALTH_WEIGHTS = {
    "active_users": 25,
    "sign_in_recency": 15,
    "carbon_intensity": 15,
    "points_use": 20,
    "community": 25,
    "beta": 10,
    "ideas": 10,
}

# A client address, or a known token, that fails API authentication this many times in a minute
# gets 429 for the rest of the minute (portal/api.py).
GREENLOOP_API_AUTH_FAILURES_PER_MINUTE = 20
# Trust X-Forwarded-For only when a proxy we run sets it; otherwise REMOTE_ADDR is the client.
GREENLOOP_TRUST_X_FORWARDED_FOR = env_bool("GREENLOOP_TRUST_X_FORWARDED_FOR")

# The CRM bridge (portal/crm/, README "CRM bridge").
GREENLOOP_CRM = {
    # Queue a delivery task right after each transaction that writes events (beat also sweeps).
    "kick_after_commit": env_bool("GREENLOOP_CRM_KICK", default=True),
    # The Celery queue of the delivery tasks (None: the default queue).
    "queue": os.environ.get("GREENLOOP_CRM_QUEUE") or None,
    # Deliveries claimed per pass: up to 4 x this many, over at most lanes_per_pass lanes.
    "batch_size": 200,
    # Events routed per pass (by one process at a time; it must keep ahead of every sender).
    "route_batch_size": 2000,
    # Webhook lanes (endpoint x organisation) sent side by side within a batch.
    "parallel_lanes": 8,
    # Lanes one pass claims (each with up to 4 x batch_size / lanes deliveries): a few at a time,
    # so that several workers share the lanes instead of one holding them all.
    "lanes_per_pass": 16,
    # A delivery task runs passes for at most this long, then queues a follow-up.
    "pass_budget_seconds": 20,
    # Retries: base x 2^(n-1) seconds, capped, jittered to 75-100 %; dead-lettered after
    # max_attempts (5 s, 10 s, ... about 23 h: 16 attempts over about two days).
    "retry_base_seconds": float(os.environ.get("GREENLOOP_CRM_RETRY_BASE_SECONDS", "5")),
    "retry_max_seconds": float(os.environ.get("GREENLOOP_CRM_RETRY_MAX_SECONDS", "86400")),
    "max_attempts": int(os.environ.get("GREENLOOP_CRM_MAX_ATTEMPTS", "16")),
    # A delivery task that ends with retries due sooner than this queues a pass for then
    # (later ones are beat's sweep's, every 15 s).
    "wake_up_within_seconds": 20,
    "timeout_seconds": {"connect": 3.0, "read": 10.0},
    # Webhook destinations in these networks are allowed although they are private, loopback or
    # link-local (refused otherwise: a URL typed in the admin must not reach internal services).
    "allowed_private_networks": env_list("GREENLOOP_CRM_ALLOWED_NETWORKS"),
}
# The inbound CRM webhook's Standard Webhooks secret (whsec_…; README "CRM bridge" > "Inbound").
# Empty: the webhook refuses everything (503).
GREENLOOP_CRM_INBOUND_SECRET = os.environ.get("GREENLOOP_CRM_INBOUND_SECRET", "")

NINJA_PAGINATION_PER_PAGE = 50

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Wagtail's background tasks log every run at INFO; that drowns the console in the demo.
    "loggers": {
        "django_tasks": {"level": "WARNING"},
        "django.tasks": {"level": "WARNING"},
        # WeasyPrint logs each layout step at INFO ("Step 2 - Fetching and parsing CSS")
        "weasyprint": {"level": "WARNING"},
        "weasyprint.progress": {"level": "WARNING"},
    },
}

ACCOUNT_FORMS = {"signup": "portal.forms.SignupForm"}
CSRF_FAILURE_VIEW = "portal.views.csrf_failure"
# No third-party avatars: the portal must work on a closed network.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
# Nor a release check from the admin dashboard (it would also break the admin's CSP).
WAGTAIL_ENABLE_UPDATE_CHECK = False

# Community (community/): attachment limits, the new-member rate limit and the flag threshold
# are COMMUNITY_* settings whose names, meanings and defaults are in community/app_settings.py;
# set one here only to change it.
# StreamField blocks that plugins offer for portal pages: (block name, dotted path). The home
# page's body accepts them besides its own blocks (portal/home/models.py).
GREENLOOP_PAGE_BLOCKS = [
    ("community_latest_topics", "community.blocks.LatestTopicsBlock"),
    ("community_unanswered", "community.blocks.UnansweredQuestionsBlock"),
    ("beta_open_programmes", "beta_program.programmes.blocks.OpenProgrammesBlock"),
    ("beta_my_betas", "beta_program.programmes.blocks.MyBetasBlock"),
    ("ideas_top", "beta_program.boards.blocks.TopIdeasBlock"),
    ("ideas_recently_shipped", "beta_program.boards.blocks.RecentlyShippedBlock"),
]
