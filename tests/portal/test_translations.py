"""Simplified Chinese: the catalogue is complete, compiled, keeps every placeholder, and a member
who picks 简体中文 gets the portal in Chinese."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from portal.models import Role

LOCALE_DIR = Path(settings.BASE_DIR) / "portal" / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_PATH = LOCALE_DIR / "django.po"
MO_PATH = LOCALE_DIR / "django.mo"

# %(name)s and friends, bare %s/%d, {{ var }} left in a blocktranslate, {name} str.format fields,
# and the HTML tags a blocktranslate may carry (<strong>, </strong>).
PLACEHOLDER = re.compile(
    r"%\(\w+\)[#0 +-]*\d*(?:\.\d+)?[sdifrxXeEgGc]"
    r"|%[sdifr]"
    r"|\{\{\s*[\w.]+\s*\}\}"
    r"|\{\w*\}"
    r"|</?\w+[^>]*>"
)


@pytest.fixture(scope="module")
def po() -> polib.POFile:
    return polib.pofile(str(PO_PATH))


def _mapping(catalogue) -> dict[tuple[str | None, str], str]:
    return {(e.msgctxt, e.msgid): e.msgstr for e in catalogue if e.msgid}


def test_catalogue_is_complete(po):
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    obsolete = [e.msgid for e in po.obsolete_entries()]
    assert not untranslated, f"untranslated: {untranslated}"
    assert not fuzzy, f"fuzzy: {fuzzy}"
    assert not obsolete, f"obsolete: {obsolete}"
    assert not po.metadata_is_fuzzy
    assert po.metadata["Language"] == "zh_Hans"
    assert po.percent_translated() == 100
    # Plurals are not used yet; if one appears, every form must be filled.
    for entry in po:
        if entry.msgid_plural:
            assert all(entry.msgstr_plural.values()), entry.msgid


def test_committed_mo_matches_po(po):
    compiled = polib.mofile(po.to_binary())
    committed = polib.mofile(str(MO_PATH))
    assert _mapping(committed) == _mapping(compiled), (
        "django.mo is stale: run `python manage.py compilemessages` and commit the result"
    )


def test_placeholders_survive_translation(po):
    broken = []
    for entry in po.translated_entries():
        if entry.msgid_plural:
            # Chinese has one plural form; it answers for every count, so it keeps the plural
            # English's placeholders (the singular may spell "one" out instead of %(counter)s).
            expected = Counter(PLACEHOLDER.findall(entry.msgid_plural))
            for form in entry.msgstr_plural.values():
                if Counter(PLACEHOLDER.findall(form)) != expected:
                    broken.append((entry.msgid_plural, form))
            continue
        expected = Counter(PLACEHOLDER.findall(entry.msgid))
        actual = Counter(PLACEHOLDER.findall(entry.msgstr))
        if expected != actual:
            broken.append((entry.msgid, entry.msgstr))
    assert not broken, broken


def test_python_format_flag_matches_placeholders(po):
    # A %(name)s message formatted with `%` must be flagged, or msgfmt will not check it.
    named = re.compile(r"%\(\w+\)[sd]")
    for entry in po.translated_entries():
        if named.search(entry.msgid):
            assert "python-format" in entry.flags, entry.msgid


def test_gettext_uses_the_catalogue(db):
    with translation.override("zh-hans"):
        assert str(Role.ADMIN.label) == "管理员"
        assert str(Role.MEMBER.label) == "成员"
        assert str(Role.VIEWER.label) == "查看者"
        message = translation.gettext("Invitation sent to %(email)s.") % {"email": "a@b.example"}
        assert message == "已向 a@b.example 发送邀请。"
        # The nav link to the staff admin and the role share "Admin" but not their translation.
        assert translation.pgettext("link to the staff admin", "Admin") == "管理后台"


@pytest.mark.django_db
def test_member_who_chooses_chinese_sees_the_dashboard_in_chinese(client, org_a, admin_a):
    client.force_login(admin_a)
    dashboard = reverse("portal:org_dashboard", kwargs={"org_slug": org_a.slug})

    response = client.post(
        reverse("set_language"), {"language": "zh-hans", "next": dashboard}, follow=True
    )

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == dashboard
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "仪表板" in html  # Dashboard
    assert "管理您的组织" in html  # Manage your organisation
    assert "审计日志" in html  # Audit trail
    assert "API 令牌" in html  # API tokens
    assert ">Dashboard<" not in html
    assert "Manage your organisation" not in html


@pytest.mark.django_db
def test_language_cookie_alone_switches_every_portal_page(client, org_a, admin_a):
    client.force_login(admin_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    expected = {
        "portal:members": "邀请同事",  # Invite a colleague
        "portal:tokens": "生成新令牌",  # Issue a new token
        "portal:audit_log": "审计日志",  # Audit trail
        "portal:org_settings": "要求所有成员启用双重身份验证",  # the require-2FA checkbox
    }
    for name, text in expected.items():
        response = client.get(reverse(name, kwargs={"org_slug": org_a.slug}))
        assert response.status_code == 200, name
        html = response.content.decode()
        assert '<html lang="zh-hans">' in html, name
        assert text in html, name


def test_allauth_overrides_name_real_allauth_msgids(po):
    """portal/allauth_terms.py re-translates allauth strings; after an allauth upgrade a changed
    msgid would silently fall back to allauth's wording."""
    import allauth

    allauth_po = polib.pofile(
        str(Path(allauth.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    )
    known = {(e.msgctxt, e.msgid) for e in allauth_po if not e.obsolete}
    overrides = [
        e for e in po if any(path == "portal/allauth_terms.py" for path, _ in e.occurrences)
    ]
    assert overrides
    assert [e.msgid for e in overrides if (e.msgctxt, e.msgid) not in known] == []


@pytest.mark.django_db
def test_allauth_pages_use_the_portal_terms(client, member_a):
    client.force_login(member_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get(reverse("mfa_index")).content.decode()
    assert re.search(r"<h1>\s*双重身份验证\s*</h1>", html)
    assert "双因素" not in html
    html = client.get(reverse("account_email")).content.decode()
    assert "电子邮件地址" in html
    assert "Email地址" not in html


@pytest.mark.django_db
def test_the_primary_address_is_marked_as_its_button_names_it(client, member_a):
    from allauth.account.models import EmailAddress

    # given a member reading Chinese, with a verified primary address
    EmailAddress.objects.update_or_create(
        user=member_a, email=member_a.email, defaults={"primary": True, "verified": True}
    )
    client.force_login(member_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    # when they open their e-mail addresses
    html = client.get(reverse("account_email")).content.decode()
    # then the address's badge is 首选, as the button "设置为首选" (Make Primary) says, not the idea
    # boards' 主创意 (a merged idea's "Primary")
    assert re.search(r'<span class="badge">\s*首选\s*</span>', html)
    assert "设置为首选" in html
    assert "主创意" not in html


@pytest.mark.django_db
def test_english_stays_the_default(client, org_a, member_a):
    client.force_login(member_a)
    response = client.get(reverse("portal:org_dashboard", kwargs={"org_slug": org_a.slug}))
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Dashboard" in html
    assert "仪表板" not in html


def test_chinese_names_transport_work_in_tonne_kilometres(po):
    # The pages say 吨公里; a translation that keeps "t·km" shows Chinese readers the English unit.
    kept = [e.msgid for e in po if e.msgstr and "t·km" in e.msgstr]
    assert kept == []
    with translation.override("zh-hans"):
        assert gettext("Intensity (g CO2e/t·km)") == "强度（g CO2e/吨公里）"
