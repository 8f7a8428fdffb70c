"""Capture every portal page at desktop and mobile width, for a visual review.

Run against the demo (same GREENLOOP_VAR_DIR as the server, because the script reads the demo
database to find an invitation link and, on re-runs, the admin's TOTP secret):

    export GREENLOOP_VAR_DIR=/tmp/gl
    python manage.py migrate && python manage.py seed_demo
    python manage.py runserver 127.0.0.1:8010 --noreload &
    python scripts/screenshots.py --base-url http://127.0.0.1:8010
    python scripts/screenshots.py --base-url http://127.0.0.1:8010 --language zh-hans

PNGs land in test-artifacts/screenshots/ (gitignored), each page at 1280, 1440 and 375 px; with
`--language zh-hans` every page is captured in Simplified Chinese (the language cookie is set as
the language menu would) and the file names end in `--zh`. Each page is also checked
(tests/e2e/page_checks.py): a page wider than the phone's screen, a table or chart that scrolls
sideways inside its box with no cue, and on Chinese pages English words in the interface, are
listed in test-artifacts/screenshots/checks.txt and summed up at
the end, with every console error and uncaught exception of every page. Uses the system
Chromium; nothing is downloaded. The Wagtail admin requires staff to turn on TOTP first: the
staff journey (`--only staff`) removes admin@greenloop.example's second factor, sets its
language to the run's, and signs in as a new staff member would: TOTP activation with codes
computed here, the recovery codes and their Continue, the admin home's work queue and each queue
it links to, then every main admin screen.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import os
import re
import struct
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORTS = {
    "desktop": {"width": 1280, "height": 800},
    "wide": {"width": 1440, "height": 900},
    "mobile": {"width": 375, "height": 812},
}
INVITEE = "new.colleague@nordwind.example"
# Signed up but in no organisation yet, with an invitation still open: the no-organisation page.
NEWCOMER = "newcomer@nordwind.example"


def totp_code(secret: str, at: float | None = None) -> str:
    """RFC 6238 code: HMAC-SHA1 over the 30-second counter, 6 digits."""
    counter = int((time.time() if at is None else at) // 30)
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")
    # The invitation e-mail is irrelevant here; keep it off the console.
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    # Playwright's sync API keeps an event loop in this thread; the ORM calls here are plain.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    import django

    django.setup()


def invitation_key() -> str:
    """An open invitation from the Nordwind admin, created once and reused on later runs."""
    from portal import actions
    from portal.models import Invitation, Organisation, User

    existing = Invitation.objects.pending().filter(email=INVITEE).first()
    if existing:
        return existing.key
    organisation = Organisation.objects.get(slug="nordwind")
    admin = User.objects.get(email="anna.schmidt@nordwind.example")
    return actions.invite_member(organisation, INVITEE, "member", by=admin).key


def newcomer(password: str) -> str:
    """A signed-up person in no organisation with a pending invitation, created once."""
    from allauth.account.models import EmailAddress

    from portal import actions
    from portal.models import Invitation, Organisation, User

    user, created = User.objects.get_or_create(
        email=NEWCOMER, defaults={"first_name": "Nora", "last_name": "Neumann"}
    )
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    EmailAddress.objects.update_or_create(
        user=user, email=NEWCOMER, defaults={"verified": True, "primary": True}
    )
    if not Invitation.objects.pending().filter(email=NEWCOMER).exists():
        organisation = Organisation.objects.get(slug="nordwind")
        admin = User.objects.get(email="anna.schmidt@nordwind.example")
        actions.invite_member(organisation, NEWCOMER, "member", by=admin)
    return NEWCOMER


def stored_totp_secret(email: str) -> str | None:
    from allauth.mfa.models import Authenticator
    from allauth.mfa.utils import decrypt

    authenticator = Authenticator.objects.filter(
        user__email=email, type=Authenticator.Type.TOTP
    ).first()
    return decrypt(authenticator.data["secret"]) if authenticator else None


class Shooter:
    def __init__(self, browser, base_url: str, out: Path, password: str, language: str = "en"):
        self.browser = browser
        self.base_url = base_url.rstrip("/")
        self.out = out
        self.password = password
        self.language = language
        # English keeps the historical names; other languages get e.g. "--zh".
        self.suffix = "" if language == "en" else f"--{language.split('-')[0]}"
        self.count = 0
        self.problems: list[str] = []
        self.stored: list[str] | None = None

    def shoot(self, page, name: str) -> None:
        from tests.e2e.page_checks import english_on_page, hidden_scrollers, overflow, stored_texts

        for label, size in VIEWPORTS.items():
            page.set_viewport_size(size)
            path = self.out / f"{name}--{label}{self.suffix}.png"
            page.screenshot(path=str(path), full_page=True)
            self.count += 1
            if label == "mobile":
                wide = overflow(page)
                if wide["scrollWidth"] > wide["width"]:
                    width = f"{wide['scrollWidth']} px wide at {wide['width']} px"
                    self.problems.append(f"{name}: {width}: {wide['wide']}")
                for box in hidden_scrollers(page):
                    self.problems.append(f"{name}: scrolls sideways with no cue: {box}")
        # The API reference is Swagger UI's own interface, in English by design.
        if self.language != "en" and not name.startswith("api-docs"):
            # What people stored (names, titles, sites) is not the interface: taken out first,
            # as the browser test does; read once per journey (new_page), as journeys add rows.
            if self.stored is None:
                self.stored = stored_texts()
            for found in english_on_page(page, self.stored):
                self.problems.append(f"{name}: English {found['words']} in {found['text']!r}")
        page.set_viewport_size(VIEWPORTS["desktop"])

    def visit(self, page, path: str, name: str) -> None:
        page.goto(self.base_url + path)
        page.wait_for_load_state("networkidle")
        self.shoot(page, name)

    def watch_console(self, page) -> None:
        """Every console error and uncaught exception, listed with the page it happened on."""

        def on_console(message) -> None:
            if message.type == "error":
                self.problems.append(f"console on {page.url}: {message.text}")

        def on_page_error(error) -> None:
            self.problems.append(f"uncaught on {page.url}: {error}")

        page.on("console", on_console)
        page.on("pageerror", on_page_error)

    def new_page(self):
        self.stored = None
        locale = {"en": "en-GB", "zh-hans": "zh-CN"}.get(self.language, self.language)
        context = self.browser.new_context(viewport=VIEWPORTS["desktop"], locale=locale)
        if self.language != "en":
            from django.conf import settings

            context.add_cookies(
                [
                    {
                        "name": settings.LANGUAGE_COOKIE_NAME,
                        "value": self.language,
                        "url": self.base_url + "/",
                    }
                ]
            )
        # The demo server shares a small machine; a page may take a while under load.
        context.set_default_timeout(120_000)
        page = context.new_page()
        self.watch_console(page)
        return page

    def sign_in(self, page, email: str) -> None:
        page.goto(self.base_url + "/accounts/login/")
        page.fill("input[name=login]", email)
        page.fill("input[name=password]", self.password)
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_load_state("networkidle")
        if "/2fa/authenticate" in page.url:
            secret = stored_totp_secret(email)
            if not secret:
                raise SystemExit(f"{email} has two-factor on but no TOTP secret was found")
            self.shoot(page, "mfa-authenticate")
            page.fill("input[name=code]", totp_code(secret))
            page.locator("main form button[type=submit]").first.click()
            page.wait_for_load_state("networkidle")

    def reauthenticate(self, page) -> None:
        """allauth asks for the password again before security changes, even right after sign-in."""
        if "/reauthenticate" in page.url:
            self.shoot(page, "reauthenticate")
            page.fill("input[name=password]", self.password)
            page.locator("main form button[type=submit]").first.click()
            page.wait_for_load_state("networkidle")

    def issue_token(self, page, org: str) -> None:
        if page.locator("td", has_text="ERP export (demo)").count():
            return
        page.fill("input[name=name]", "ERP export (demo)")
        page.locator("input[name=scopes]").first.check()
        page.locator("main form[action$='/tokens/issue/'] button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        self.reauthenticate(page)
        self.shoot(page, "api-token-issued")

    def anonymous(self) -> None:
        page = self.new_page()
        self.visit(page, "/", "landing")
        self.visit(page, "/accounts/login/", "sign-in")
        self.visit(page, "/accounts/signup/", "sign-up-closed")
        self.visit(page, "/accounts/password/reset/", "password-reset")
        self.visit(page, "/this-page-does-not-exist/", "404")
        self.visit(page, f"/invitations/{invitation_key()}/", "invitation")
        page.goto(self.base_url + f"/invitations/{invitation_key()}/")
        page.locator("main a[href$='/accounts/signup/']").first.click()
        page.wait_for_load_state("networkidle")
        self.shoot(page, "sign-up-invited")
        self.visit(page, "/invitations/not-a-real-key/", "invitation-invalid")
        page.context.close()
        page = self.new_page()
        self.sign_in(page, newcomer(self.password))
        self.visit(page, "/dashboard/", "no-organisation")
        page.context.close()

    def customer_admin(self) -> None:
        page = self.new_page()
        self.sign_in(page, "anna.schmidt@nordwind.example")
        org = "/o/nordwind"
        self.visit(page, f"{org}/", "dashboard")
        self.visit(page, f"{org}/members/", "team")
        self.visit(page, f"{org}/tokens/", "api-tokens-empty")
        self.issue_token(page, org)
        self.visit(page, f"{org}/tokens/", "api-tokens")
        self.visit(page, f"{org}/settings/", "settings")
        self.visit(page, f"{org}/audit/", "audit-trail")
        self.visit(page, f"{org}/orders/", "carbon-orders")
        first_order = page.locator("tbody a").first
        if first_order.count():
            self.visit(page, first_order.get_attribute("href"), "carbon-order-detail")
        self.visit(page, f"{org}/green-power/", "carbon-green-power")
        self.visit(page, f"{org}/orders/import/", "carbon-import")
        self.visit(page, f"{org}/orders/import/categories/", "carbon-import-categories")
        self.visit(page, f"{org}/method/", "carbon-method")
        self.points_pages(page, org)
        self.visit(page, f"{org}/trends/", "carbon-trends")
        self.visit(page, f"{org}/reports/", "carbon-reports")
        report = page.locator("main a[href*='/reports/']:not([href$='/download/'])").first
        if report.count():
            self.visit(page, report.get_attribute("href"), "carbon-report-detail")
        self.beta_pages(page, org)
        self.visit(page, "/notifications/", "notifications")
        self.visit(page, "/accounts/profile/", "account-profile")
        self.visit(page, "/accounts/privacy/", "account-privacy")
        self.visit(page, "/accounts/email/", "account-email")
        self.visit(page, "/accounts/password/change/", "account-password")
        self.visit(page, "/accounts/2fa/", "mfa-index")
        page.goto(self.base_url + "/accounts/2fa/totp/activate/")
        self.reauthenticate(page)
        self.shoot(page, "mfa-totp-activate")
        self.visit(page, "/api/v1/docs", "api-docs")
        page.context.close()

    def points_pages(self, page, org: str) -> None:
        """Statement, how points work, catalogue, the redeem form and its confirmation step (not
        confirmed, so re-runs leave the demo balance alone), history and one redemption."""
        self.visit(page, f"{org}/points/", "points-statement")
        self.visit(page, f"{org}/points/how-it-works/", "points-policy")
        self.visit(page, f"{org}/points/catalogue/", "points-catalogue")
        redeem = page.locator("main .offer a.btn").first
        if redeem.count():  # none when the balance covers no service
            self.visit(page, redeem.get_attribute("href"), "points-redeem")
            page.locator("main form button[value=review]").click()
            page.wait_for_load_state("networkidle")
            self.shoot(page, "points-redeem-confirm")
        self.visit(page, f"{org}/points/redemptions/", "points-redemptions")
        detail = page.locator("main tbody a").first
        if detail.count():
            self.visit(page, detail.get_attribute("href"), "points-redemption-detail")

    def beta_pages(self, page, org: str) -> None:
        """Beta programmes (list, one programme, applications, agreements, feedback) and the
        R&D boards (ideas, the first board, its first idea, the roadmap)."""
        self.visit(page, f"{org}/beta/", "beta-programmes")
        programme = page.locator("main a[href*='/beta/p/']").first
        if programme.count():
            self.visit(page, programme.get_attribute("href"), "beta-programme")
        self.visit(page, f"{org}/beta/applications/", "beta-applications")
        self.visit(page, f"{org}/beta/agreements/", "beta-agreements")
        self.visit(page, f"{org}/beta/feedback/", "beta-feedback")
        self.visit(page, f"{org}/ideas/", "ideas")
        board = page.locator("main a[href*='/ideas/b/']").first
        if board.count():
            self.visit(page, board.get_attribute("href"), "ideas-board")
            # an idea's own page (/ideas/13/), not the tabs that also link under /ideas/
            ideas = [
                href
                for link in page.locator("main a[href*='/ideas/']").all()
                if (href := link.get_attribute("href")) and re.search(r"/ideas/\d+/$", href)
            ]
            if ideas:
                self.visit(page, ideas[0], "ideas-idea")
        self.visit(page, f"{org}/ideas/roadmap/", "ideas-roadmap")

    def chinese_member(self) -> None:
        """Huadong's member, whose portal is in Chinese: every customer page of the organisation."""
        page = self.new_page()
        self.sign_in(page, "li.wei@huadong.example")
        org = "/o/huadong-pv"
        self.visit(page, f"{org}/", "zh-member-dashboard")
        self.visit(page, f"{org}/orders/", "zh-member-orders")
        for number, link in enumerate(page.locator("main tbody a").all()[:3]):
            href = link.get_attribute("href")
            if href and "/orders/" in href:
                self.visit(page, href, f"zh-member-order-{number}")
        self.visit(page, f"{org}/green-power/", "zh-member-green-power")
        self.visit(page, f"{org}/trends/", "zh-member-trends")
        self.visit(page, f"{org}/members/", "zh-member-team")
        self.visit(page, f"{org}/audit/", "zh-member-audit")
        self.visit(page, f"{org}/reports/", "zh-member-reports")
        self.visit(page, "/accounts/profile/", "zh-member-profile")
        self.points_pages(page, org)
        self.beta_pages(page, org)
        page.context.close()

    def community(self) -> None:
        """A Huadong member: the community home, a space, a solved topic, a tag, search in both
        languages, notifications and preferences; a Nordwind member: the same home without
        Huadong's private board, and its 404."""
        page = self.new_page()
        self.sign_in(page, "li.wei@huadong.example")
        self.visit(page, "/community/", "community-index")
        self.visit(page, "/community/ask/", "community-ask")
        self.visit(page, "/community/s/product-qa/", "community-space")
        self.visit(page, "/community/?filter=solved", "community-solved")
        solved = page.locator("main .topic-list a, main article a").first
        if solved.count():
            self.visit(page, solved.get_attribute("href"), "community-topic")
            person = page.locator("main a[href*='/community/people/']").first
            if person.count():
                self.visit(page, person.get_attribute("href"), "community-person")
        self.visit(page, "/community/s/product-qa/new/", "community-new-topic")
        self.visit(page, "/community/tags/firmware/", "community-tag")
        self.visit(page, "/community/search/?q=firmware", "community-search-en")
        self.visit(page, "/community/search/?q=碳足迹", "community-search-zh")
        self.visit(page, "/community/notifications/", "community-notifications")
        self.visit(page, "/community/preferences/", "community-preferences")
        page.context.close()
        page = self.new_page()
        self.sign_in(page, "jonas.weber@nordwind.example")
        self.visit(page, "/community/", "community-index-other-org")
        self.visit(page, "/community/s/huadong-rd/", "community-private-404")
        page.context.close()

    def multi_org_member(self) -> None:
        page = self.new_page()
        self.sign_in(page, "consultant@energyaudit.example")
        self.visit(page, "/o/huadong-pv/", "dashboard-member-zh-org")
        page.locator(".switcher summary").click()
        self.shoot(page, "switcher-open")
        page.locator(".switcher a:not([aria-current])").first.click()
        page.wait_for_load_state("networkidle")
        self.shoot(page, "dashboard-member-other-org")
        page.locator(".usermenu summary").click()
        self.shoot(page, "usermenu-open")
        self.visit(page, "/o/huadong-pv/tokens/", "forbidden")
        page.context.close()

    def staff_admin(self) -> None:
        """Vendor staff from their first sign-in: TOTP activation (codes computed here), the
        recovery codes and their Continue, the admin home's work queue and every queue it links
        to, then each main admin screen. The admin's second factor is removed first, so every
        run (and each language) walks the onboarding as a new staff member would."""
        remove_second_factor(STAFF_EMAIL)
        set_language(STAFF_EMAIL, self.language)
        page = self.new_page()
        self.sign_in(page, STAFF_EMAIL)
        self.shoot(page, "admin-first-sign-in")
        page.goto(self.base_url + "/admin/")
        page.wait_for_load_state("networkidle")
        self.reauthenticate(page)
        if "/2fa/totp/activate" not in page.url:
            raise SystemExit(f"staff without TOTP were not sent to activate it: {page.url}")
        self.shoot(page, "admin-mfa-required")
        secret = page.locator("#authenticator_secret").input_value()
        page.fill("input[name=code]", totp_code(secret))
        page.locator("main form button[type=submit]").first.click()
        page.wait_for_load_state("networkidle")
        if "/recovery-codes" not in page.url:
            raise SystemExit(f"TOTP activation did not lead to the recovery codes: {page.url}")
        self.shoot(page, "mfa-recovery-codes")
        page.locator("#continue").click()
        page.wait_for_load_state("networkidle")
        if not page.url.rstrip("/").endswith("/admin"):
            raise SystemExit(f"the recovery codes' Continue led to {page.url}, not the admin")
        self.shoot(page, "admin-home")
        queues = page.locator("[data-work-queue]")
        for key, href in [
            (row.get_attribute("data-work-queue"), row.locator("a").first.get_attribute("href"))
            for row in queues.all()
        ]:
            self.visit(page, href, f"admin-queue-{key}")
        for name, path in ADMIN_SCREENS:
            self.visit(page, path, name)
        # One record of each kind staff open most: an organisation, a moderation item, an order.
        for name, index in (
            ("admin-organisation-edit", "/admin/organisation/"),
            ("admin-community-review-item", "/admin/community_review/"),
            ("admin-carbon-order", "/admin/carbon_orders/"),
            ("admin-points-redemption", "/admin/points_redemptions/"),
        ):
            page.goto(self.base_url + index)
            link = page.locator("main table tbody td a[href^='/admin/']").first
            if link.count():
                self.visit(page, link.get_attribute("href"), name)
        page.context.close()


STAFF_EMAIL = "admin@greenloop.example"
# The main admin screens beyond the work queue's own links, in the menu's order.
ADMIN_SCREENS = (
    ("admin-account", "/admin/account/"),
    ("admin-organisations", "/admin/organisation/"),
    ("admin-account-health", "/admin/account-health/"),
    ("admin-users", "/admin/users/"),
    ("admin-audit", "/admin/auditevent/"),
    ("admin-outbox", "/admin/outboxevent/"),
    ("admin-crm-deliveries", "/admin/crm_deliveries/"),
    ("admin-crm-endpoints", "/admin/crm_endpoints/"),
    ("admin-crm-contacts", "/admin/crm_contacts/"),
    ("admin-carbon-datasets", "/admin/carbon_datasets/"),
    ("admin-carbon-factors", "/admin/carbon_factors/"),
    ("admin-carbon-products", "/admin/carbon_products/"),
    ("admin-carbon-declarations", "/admin/carbon_declarations/"),
    ("admin-carbon-imports", "/admin/carbon_imports/"),
    ("admin-carbon-orders", "/admin/carbon_orders/"),
    ("admin-carbon-reports", "/admin/carbon_reports/"),
    ("admin-reporting-rates", "/admin/reporting-rates/"),
    ("admin-points-policies", "/admin/points_policies/"),
    ("admin-points-services", "/admin/points_services/"),
    ("admin-points-accounts", "/admin/points_accounts/"),
    ("admin-points-ledger", "/admin/points_ledger/"),
    ("admin-points-redemptions", "/admin/points_redemptions/"),
    ("admin-community-review", "/admin/community_review/"),
    ("admin-community-spaces", "/admin/community_spaces/"),
    ("admin-community-tags", "/admin/community_tags/"),
    ("admin-community-members", "/admin/community_members/"),
    ("admin-beta-programmes", "/admin/beta_programmes/"),
    ("admin-beta-applications", "/admin/beta_applications/"),
    ("admin-beta-feedback", "/admin/beta_feedback/"),
    ("admin-beta-builds", "/admin/beta_builds/"),
    ("admin-beta-announcements", "/admin/beta_announcements/"),
    ("admin-ideas", "/admin/idea_admin/"),
    ("admin-idea-boards", "/admin/idea_boards/"),
    ("admin-pages", "/admin/pages/"),
    ("admin-images", "/admin/images/"),
    ("admin-documents", "/admin/documents/"),
    ("admin-settings-sites", "/admin/sites/"),
    ("admin-settings-groups", "/admin/groups/"),
    ("admin-search", "/admin/pages/search/?q=carbon"),
)


def set_language(email: str, language: str) -> None:
    """The person's language as their profile would store it: the portal's preference (applied
    at sign-in) and the Wagtail admin's own."""
    from wagtail.users.models import UserProfile

    from portal.models import User

    user = User.objects.get(email=email)
    user.preferred_language = "" if language == "en" else language
    user.save(update_fields=["preferred_language"])
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "" if language == "en" else language
    profile.save(update_fields=["preferred_language"])


def remove_second_factor(email: str) -> None:
    """Demo only: forget the person's authenticators, so the next sign-in is a first one."""
    from allauth.mfa.models import Authenticator

    Authenticator.objects.filter(user__email=email).delete()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8010")
    parser.add_argument("--out", type=Path, default=ROOT / "test-artifacts" / "screenshots")
    parser.add_argument("--password", default=None, help="demo password (default: portal.demo)")
    parser.add_argument(
        "--language",
        default="en",
        choices=["en", "zh-hans"],
        help="interface language; non-English file names get a suffix such as --zh",
    )
    parser.add_argument(
        "--only",
        nargs="*",
        choices=[
            "anonymous",
            "customer_admin",
            "chinese_member",
            "community",
            "multi_org_member",
            "staff",
        ],
    )
    args = parser.parse_args()

    setup_django()
    from playwright.sync_api import sync_playwright

    from portal.demo import DEMO_PASSWORD

    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        shooter = Shooter(
            browser, args.base_url, args.out, args.password or DEMO_PASSWORD, args.language
        )
        journeys = {
            "anonymous": shooter.anonymous,
            "customer_admin": shooter.customer_admin,
            "chinese_member": shooter.chinese_member,
            "community": shooter.community,
            "multi_org_member": shooter.multi_org_member,
            "staff": shooter.staff_admin,
        }
        for name in args.only or journeys:
            journeys[name]()
        browser.close()
    (args.out / "checks.txt").write_text("\n".join(shooter.problems) + "\n", encoding="utf-8")
    sys.stdout.write(f"{shooter.count} screenshots in {args.out}\n")
    sys.stdout.write(
        f"{len(shooter.problems)} page problems (overflow at 375 px, English on Chinese pages)\n"
    )
    for line in shooter.problems[:40]:
        sys.stdout.write(f"  {line}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
