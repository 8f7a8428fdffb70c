"""Production: every secret and site-specific value comes from the environment."""

from django.core.exceptions import ImproperlyConfigured

from .base import *


def required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise ImproperlyConfigured(f"Set the {name} environment variable for production.")
    return value


DEBUG = False
SECRET_KEY = required("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set ALLOWED_HOSTS (comma separated) for production.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
DATABASES = {"default": dj_database_url.parse(required("DATABASE_URL"), conn_max_age=60)}

# Rate limits and audit counters must be shared by every worker: a per-process cache would let
# each gunicorn worker grant its own allowance of password guesses.
_cache_url = os.environ.get("REDIS_URL") or os.environ.get("CACHE_URL")
if not _cache_url:
    raise ImproperlyConfigured(
        "Set REDIS_URL (or CACHE_URL), e.g. redis://127.0.0.1:6379/2, for production: rate limits "
        "must be counted in a cache every worker process shares."
    )
if not _cache_url.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured("REDIS_URL/CACHE_URL must be a redis://, rediss:// or unix:// URL.")
# Several sites (or benchmark runs) may share one Redis server: each keeps its keys apart.
CACHES = redis_caches(_cache_url, os.environ.get("CACHE_KEY_PREFIX") or "greenloop")

CELERY_BROKER_URL = required("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)

# Object storage through django-storages when a bucket is named; local disk otherwise.
if os.environ.get("AWS_STORAGE_BUCKET_NAME"):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["AWS_STORAGE_BUCKET_NAME"],
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "default_acl": None,
            "querystring_auth": True,
        },
    }

WAGTAILADMIN_BASE_URL = required("WAGTAILADMIN_BASE_URL")
GREENLOOP_IS_DEMO = False
