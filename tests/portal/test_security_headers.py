"""Security headers: a nonce-based Content-Security-Policy on every portal page with no inline
code that would need 'unsafe-inline', the admin's own policy, Permissions-Policy, private caching
of signed-in answers and sandboxed downloads.

The page walk reuses the authorisation walk's route list and registry (tests/authz.py), filling
each URL with the signed-in person's own objects from the demo data.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from carbon.models import GreenPowerDeclaration, Order, Redemption
from community.access import member_for
from community.models import Post
from portal.models import Organisation, User
from tests import authz
from tests.carbon import authz_samples as authz_carbon
from tests.factories import TEST_PASSWORD
from tests.portal.test_authorization_walk import ROUTES

pytestmark = pytest.mark.django_db

PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
    "publickey-credentials-get=(self), publickey-credentials-create=(self)"
)
# Signed-in pages outside the walk's route list (allauth's, the Wagtail site, the API docs, an
# unknown page).
EXTRA_PAGES = [
    "/",
    "/accounts/email/",
    "/accounts/password/change/",
    "/accounts/2fa/",
    "/accounts/reauthenticate/",
    "/api/v1/docs",
    "/o/no-such-organisation/",
]
# Third-party pages without any inline element never ask for a nonce, so their policy names none
# (django-csp adds it only when a template reads it); 'self' alone is stricter.
NO_NONCE_PAGES = {"/api/v1/docs"}
# Pages the walk must see render (a guard against a walk that checks nothing).
MUST_RENDER = {
    "portal:org_dashboard",
    "portal:members",
    "portal:tokens",
    "portal:audit_log",
    "carbon:orders",
    "carbon:order_detail",
    "carbon:green_power",
    "carbon:points",
    "carbon:catalogue",
    "carbon:redeem",
    "carbon:redemption_detail",
    "community:index",
    "community:space",
    "community:topic",
    "community:edit_post",
    "community:search",
    "community:person",
}
# <script> elements that hold data, not code: CSP does not apply to them.
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}


def _policy(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


class _InlineCode(HTMLParser):
    """Collects everything in a page that runs or styles without the request's nonce."""

    def __init__(self, nonce: str) -> None:
        super().__init__()
        self.nonce = nonce
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for name, value in attrs:
            if name == "style" or re.fullmatch(r"on[a-z]+", name):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name in {"href", "src", "action"} and (value or "").lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag == "style" and values.get("nonce") != self.nonce:
            self.problems.append("<style> without the nonce")
        if tag == "script" and values.get("nonce") != self.nonce:
            if values.get("type") in DATA_SCRIPT_TYPES:
                return
            # Third-party templates (allauth, the API docs) load their scripts as our own static
            # files, which 'self' admits; anything else must carry the nonce.
            if not (values.get("src") or "").startswith("/static/"):
                self.problems.append(f"<script {values}> without the nonce")


def _page_problems(response, nonce_required: bool = True) -> list[str]:
    header = response.get("Content-Security-Policy", "")
    if not header:
        return ["no Content-Security-Policy header"]
    policy = _policy(header)
    nonces = [s for s in policy.get("script-src", []) if s.startswith("'nonce-")]
    if len(nonces) != int(nonce_required):
        return [f"script-src with {len(nonces)} nonces: {header}"]
    nonce = nonces[0][len("'nonce-") : -1] if nonces else None
    problems = []
    inline = [f"'nonce-{nonce}'"] if nonce else []
    expected = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *inline],
        "style-src": ["'self'", *inline],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
    for directive, sources in expected.items():
        if policy.get(directive) != sources:
            problems.append(f"{directive} is {policy.get(directive)}")
    if "'unsafe-inline'" in header:
        problems.append("'unsafe-inline' in the policy")
    parser = _InlineCode(nonce)
    parser.feed(response.content.decode())
    return problems + parser.problems


@pytest.fixture
def demo(demo_seed):
    return Organisation.objects.get(slug="huadong-pv"), User.objects.get(
        email="li.wei@huadong.example"
    )


def _own_samples(organisation, user) -> dict:
    """URL parameters pointing at the person's own objects: the demo's where it has them, the
    authorisation walk's samples (created for the person's own organisation) otherwise."""
    samples = {
        "org_slug": organisation.slug,
        "order_id": Order.objects.filter(organisation=organisation).order_by("pk").first().pk,
        "declaration_id": GreenPowerDeclaration.objects.filter(organisation=organisation)
        .first()
        .pk,
        "post_id": Post.objects.filter(author=user).order_by("pk").first().pk,
        "handle": member_for(user).handle,
    }
    redemption = Redemption.objects.filter(organisation=organisation).first()
    samples["pk"] = (redemption or authz_carbon._foreign_redemption(organisation)).pk
    samples["topic_id"] = Post.objects.get(pk=samples["post_id"]).topic_id
    registry = {**authz.NESTED_PARAM_SAMPLES, **authz.URL_PARAM_SAMPLES}
    params = {param for route in ROUTES for param in route.params}
    return {
        param: samples[param] if param in samples else registry[param](organisation)
        for param in params
    }


def test_every_portal_page_has_a_nonce_policy_and_no_inline_code(client, demo):
    # given the demo data and an organisation admin of Huadong, signed in
    organisation, user = demo
    samples = _own_samples(organisation, user)
    client.force_login(user)
    # when they open every page of the portal
    problems, rendered = [], set()
    pages = [
        (r.name, reverse(r.name, kwargs={p: samples[p] for p in r.params})) for r in ROUTES
    ] + [(url, url) for url in EXTRA_PAGES]
    for name, url in pages:
        response = client.get(url)
        if not response.get("Content-Type", "").startswith("text/html") or not response.content:
            continue
        if response.status_code == 200:
            rendered.add(name)
        # then each has the strict policy with a nonce, and nothing inline without it
        page_problems = _page_problems(response, nonce_required=url not in NO_NONCE_PAGES)
        problems += [f"{url}: {problem}" for problem in page_problems]
        assert response["Permissions-Policy"] == PERMISSIONS_POLICY, url
        assert {"private", "no-store"} <= set(
            re.split(r",\s*", response.get("Cache-Control", ""))
        ), url
    assert problems == []
    assert MUST_RENDER - rendered == set()


def test_an_anonymous_visitor_gets_the_policy_but_cacheable_public_pages(client, demo):
    # when an anonymous visitor opens the public home page
    response = client.get("/")
    # then it has the strict policy and Permissions-Policy, and nothing marks it private
    assert response.status_code == 200
    assert _page_problems(response) == []
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY
    assert "private" not in response.get("Cache-Control", "")


def test_api_answers_to_a_token_are_not_stored(client, org_a):
    # given an API token
    from portal import actions

    _, token = actions.issue_api_token(org_a, "ERP", ["account:read"], by=None)
    # when it reads its organisation
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    # then no cache may keep the answer
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


def test_the_admin_has_its_own_policy(client, superuser):
    # given a staff member with 2FA, signed in
    client.force_login(superuser)
    # when they open admin pages
    for url in ("/admin/", "/admin/pages/", "/admin/auditevent/"):
        response = client.get(url)
        # then inline scripts and styles work there (Wagtail's widgets and rich-text editor need
        # them), with nothing else loosened
        assert response.status_code == 200, url
        assert _policy(response["Content-Security-Policy"]) == {
            "default-src": ["'self'"],
            "script-src": ["'self'", "'unsafe-inline'"],
            "style-src": ["'self'", "'unsafe-inline'"],
            "img-src": ["'self'", "blob:"],
            "object-src": ["'none'"],
            "base-uri": ["'none'"],
            "frame-ancestors": ["'self'"],
            "form-action": ["'self'"],
        }, url
        assert "private" in response["Cache-Control"], url


def test_a_wagtail_preview_may_be_framed_by_the_admin_only(demo):
    # given the demo home page
    from wagtail.models import Page

    home = Page.objects.get(depth=2, slug="home").specific
    # when Wagtail renders its preview (through the middleware, with a request of its own)
    response = home.make_preview_request()
    # then the portal's policy applies, except that our own origin may frame it
    policy = _policy(response["Content-Security-Policy"])
    assert response.status_code == 200
    assert policy["frame-ancestors"] == ["'self'"]
    assert policy["script-src"][0] == "'self'"
    assert policy["script-src"][1].startswith("'nonce-")


def test_only_the_authenticator_set_up_allows_the_qr_code_image(client, member_a):
    # given a member who just confirmed their password
    client.force_login(member_a)
    activate = reverse("mfa_activate_totp")
    client.post(f"{reverse('account_reauthenticate')}?next={activate}", {"password": TEST_PASSWORD})
    # when they open the authenticator set-up, and another page
    setup = client.get(activate)
    other = client.get(reverse("mfa_index"))
    # then only the set-up admits the QR code's data: image
    assert setup.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in setup.content.decode()
    assert _policy(setup["Content-Security-Policy"])["img-src"] == ["'self'", "data:"]
    assert _policy(other["Content-Security-Policy"])["img-src"] == ["'self'"]
