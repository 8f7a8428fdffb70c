"""Security headers for every response: Content-Security-Policy, Permissions-Policy, caching.

Portal pages get the strict, nonce-based policy of `CONTENT_SECURITY_POLICY`: a `<script>` or
`<style>` element runs only with the request's nonce (`{{ request.csp_nonce }}`), and `style=`
or `on...=` attributes never do. The Wagtail admin renders inline scripts and styles of its own
(date pickers, inline panels, choosers), so paths under `/admin/` get
`GREENLOOP_ADMIN_CONTENT_SECURITY_POLICY` instead; the strict policy is the default for every
other path. Files a customer uploaded are served with `harden_download()`.
"""

from __future__ import annotations

from collections.abc import Callable

from csp.constants import SELF
from csp.middleware import CSPMiddleware, PolicyParts
from csp.utils import default_config
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control

ADMIN_PREFIX = "/admin/"
# Paths whose answers hold nothing personal (and are cached by WhiteNoise or the browser).
CACHEABLE_PREFIXES = ("/static/", "/favicon")
# A downloaded file is never a page: no scripts, no plugins, no same-origin access if a browser
# opens it anyway.
DOWNLOAD_CSP = "default-src 'none'; sandbox"


class PortalCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, choosing the admin policy for `/admin/` and adding a directive
    source for the few views that need one (`GREENLOOP_CSP_UPDATES_BY_URL_NAME`)."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        if parts.config is None and request.path_info.startswith(ADMIN_PREFIX):
            parts.config = default_config(settings.GREENLOOP_ADMIN_CONTENT_SECURITY_POLICY)
        if getattr(request, "is_preview", False):
            # Wagtail renders an editor's preview through the middleware with a request of its
            # own (path "/"), shown in a frame of the admin's page editor.
            parts.replace = {**(parts.replace or {}), "frame-ancestors": [SELF]}
        match = getattr(request, "resolver_match", None)
        url_name = match.url_name if match else None
        extra = settings.GREENLOOP_CSP_UPDATES_BY_URL_NAME.get(url_name) if url_name else None
        if extra and parts.update is None:
            parts.update = extra
        return parts


class SecurityHeadersMiddleware:
    """Permissions-Policy on every response; `Cache-Control: private, no-store` on every answer
    to a signed-in or token-bearing request, so no shared or browser cache keeps customer data."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.GREENLOOP_PERMISSIONS_POLICY)
        if _carries_identity(request) and not request.path_info.startswith(CACHEABLE_PREFIXES):
            patch_cache_control(response, private=True, no_store=True)
        return response


def _carries_identity(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated) or "authorization" in request.headers


def harden_download(response: HttpResponseBase) -> HttpResponseBase:
    """Mark a response carrying an uploaded file so no browser runs it as a page or guesses its
    type, and no cache keeps it."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    patch_cache_control(response, private=True, no_store=True)
    return response
