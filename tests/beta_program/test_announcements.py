"""Announcements to a programme's cohorts: product staff publish a draft; its members read it on
the programme's page behind the same checks as builds (under NDA: after accepting the current
agreement), are notified in the portal and by e-mail in their language, and nothing
confidential leaves the page (notification, e-mail, CRM event: ids only)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from beta_program.programmes import actions
from beta_program.programmes.announcement_actions import publish_announcement
from beta_program.programmes.announcement_models import Announcement
from beta_program.programmes.exceptions import BetaError
from beta_program.programmes.models import NdaVersion
from portal import notifications
from portal.exceptions import PermissionDeniedError
from portal.models import AuditEvent, Notification, OutboxEvent
from tests.api_client import api_error, token_headers
from tests.factories import MembershipFactory

SECRET_TITLE = "Firmware 4.1 fixes the MPPT drift"
SECRET_BODY = "Flash **4.1-rc2** before Friday; the drift fix is in `mppt.c`."


def _nda(programme, product, title="NDA", body="Keep it quiet."):
    draft = NdaVersion.objects.create(programme=programme, title=title, body=body)
    return actions.publish_nda(draft, product)


def _draft(programme, cohorts=(), **fields) -> Announcement:
    fields.setdefault("title", SECRET_TITLE)
    fields.setdefault("body", SECRET_BODY)
    announcement = Announcement.objects.create(programme=programme, **fields)
    announcement.cohorts.set(cohorts)
    return announcement


@pytest.fixture
def people(confidential, product, org_a, org_b, admin_a, member_a, admin_b):
    """admin_a (in the cohort) and member_a (not in it) of Acme, admin_b of Globex: all three
    accepted in the confidential programme, all three accepted its NDA v1."""
    for person, org in ((admin_a, org_a), (member_a, org_a), (admin_b, org_b)):
        actions.submit_application(confidential, org, person, {})
    _nda(confidential, product)
    for person, org in ((admin_a, org_a), (member_a, org_a), (admin_b, org_b)):
        actions.accept_nda(confidential, org, person, version=1)
    cohort = actions.create_cohort(confidential, "Wave 1", product, name_zh="第一批")
    actions.set_cohort_members(cohort, [admin_a], product)
    return cohort


def _page(org, announcement):
    return reverse(
        "beta:announcement", kwargs={"org_slug": org.slug, "announcement_id": announcement.pk}
    )


def _programme_page(org, programme):
    return reverse(
        "beta:programme", kwargs={"org_slug": org.slug, "programme_slug": programme.slug}
    )


def test_publishing_notifies_the_cohort_only_with_ids_and_a_neutral_line(
    confidential, product, people, admin_a, member_a, admin_b, django_capture_on_commit_callbacks
):
    # given a draft for Wave 1 of a programme under NDA
    draft = _draft(confidential, [people])
    # when product staff publish it
    with django_capture_on_commit_callbacks(execute=True):
        publish_announcement(draft, product)
    # then it is published, audited, and the CRM hears ids only
    draft.refresh_from_db()
    assert draft.is_published
    assert AuditEvent.objects.get(action="beta.announcement_published").details == {
        "programme_id": confidential.pk,
        "cohort_ids": [people.pk],
        "recipients": 1,
    }
    event = OutboxEvent.objects.get(type="greenloop.beta.announcement_published")
    assert event.subject == f"beta/announcements/{draft.pk}"
    assert event.data == {
        "announcement_id": draft.pk,
        "programme_id": confidential.pk,
        "published_by": product.pk,
        "cohort_ids": [people.pk],
    }
    # and only the cohort's member is notified, with the announcement's id and no programme name
    note = Notification.objects.get()
    assert note.recipient == admin_a
    assert note.params == {"announcement_id": draft.pk}
    assert note.link == f"/o/acme/beta/announcements/{draft.pk}/"
    assert notifications.message(note) == (
        f"New announcement in a beta programme you take part in (#{draft.pk})"
    )
    # and one e-mail went out, to them, without the title, text or programme name
    assert [m.to for m in mail.outbox] == [[admin_a.email]]
    sent = mail.outbox[0].subject + mail.outbox[0].body
    for secret in (SECRET_TITLE, "4.1-rc2", "Firmware 4.0 beta"):
        assert secret not in sent
    assert f"/o/acme/beta/announcements/{draft.pk}/" in mail.outbox[0].body


def test_publishing_twice_is_refused_and_notifies_nobody_again(
    confidential, product, people, django_capture_on_commit_callbacks
):
    draft = _draft(confidential)
    with django_capture_on_commit_callbacks(execute=True):
        publish_announcement(draft, product)
    with pytest.raises(BetaError, match="already published"):
        publish_announcement(draft, product)
    # every participant (no cohort chosen) once
    assert Notification.objects.count() == 3
    assert len(mail.outbox) == 3
    assert OutboxEvent.objects.filter(type="greenloop.beta.announcement_published").count() == 1


def test_only_product_staff_publish(confidential, people, admin_a):
    draft = _draft(confidential)
    with pytest.raises(PermissionDeniedError):
        publish_announcement(draft, admin_a)
    draft.refresh_from_db()
    assert not draft.is_published
    assert Notification.objects.count() == 0


def test_a_zh_reader_gets_the_email_in_chinese_without_confidential_text(
    confidential, product, people, admin_a, django_capture_on_commit_callbacks
):
    # given a Chinese-speaking cohort member and a Chinese twin of the text
    admin_a.preferred_language = "zh-hans"
    admin_a.save(update_fields=["preferred_language"])
    draft = _draft(
        confidential, [people], title_zh="固件 4.1 修复 MPPT 漂移", body_zh="请刷 4.1-rc2"
    )
    # when it is published
    with django_capture_on_commit_callbacks(execute=True):
        publish_announcement(draft, product)
    # then the e-mail is in Chinese and holds no title, text or programme name in any language
    message = mail.outbox[0]
    assert message.subject == "您参与的测试项目有一条新公告"
    assert "请登录" in message.body
    for secret in (SECRET_TITLE, "固件 4.1", "4.1-rc2", "Firmware 4.0 beta", "MPPT"):
        assert secret not in message.subject + message.body
    # and the in-app line reads in Chinese too
    with translation.override("zh-hans"):
        assert notifications.message(Notification.objects.get()) == (
            f"您参与的测试项目有一条新公告（#{draft.pk}）"
        )


def test_an_open_programme_names_itself_in_the_readers_language(
    recruiting, product, org_a, admin_a, django_capture_on_commit_callbacks
):
    recruiting.name_zh = "监控应用测试"
    recruiting.save(update_fields=["name_zh"])
    actions.submit_application(recruiting, org_a, admin_a, {})
    draft = _draft(recruiting, title="New dashboard", body="Try it.")
    with django_capture_on_commit_callbacks(execute=True):
        publish_announcement(draft, product)
    note = Notification.objects.get()
    assert notifications.message(note) == "New announcement in Monitor app beta"
    with translation.override("zh-hans"):
        assert notifications.message(note) == "监控应用测试有一条新公告"
    assert mail.outbox[0].subject == "New announcement in Monitor app beta"


def test_a_cohort_member_reads_it_after_the_nda(
    client, confidential, product, people, admin_a, org_a
):
    # given a published announcement for Wave 1
    draft = _draft(confidential, [people])
    publish_announcement(draft, product)
    client.force_login(admin_a)
    # when the member opens the programme and the announcement
    listing = client.get(_programme_page(org_a, confidential))
    page = client.get(f"/o/acme/beta/announcements/{draft.pk}/")
    # then both show it, the text rendered from Markdown
    assert SECRET_TITLE in listing.text
    assert page.status_code == 200
    assert "<strong>4.1-rc2</strong>" in page.text


def test_an_announcements_markdown_is_sanitised(client, confidential, product, people, admin_a):
    draft = _draft(confidential, body="<script>alert(1)</script> [x](javascript:alert(1))")
    publish_announcement(draft, product)
    client.force_login(admin_a)
    html = client.get(f"/o/acme/beta/announcements/{draft.pk}/").text
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript:' not in html


@pytest.mark.parametrize("who", ["member_a", "admin_b"])
def test_hidden_from_participants_outside_the_cohort(
    client, confidential, product, people, who, request
):
    # given an announcement for Wave 1, and a participant not in it (same or other organisation)
    draft = _draft(confidential, [people])
    publish_announcement(draft, product)
    person = request.getfixturevalue(who)
    client.force_login(person)
    org_slug = person.memberships.get().organisation.slug
    # when they open its URL, the programme page and the API
    page = client.get(f"/o/{org_slug}/beta/announcements/{draft.pk}/")
    listing = client.get(f"/o/{org_slug}/beta/p/{confidential.slug}/")
    api = client.get(
        f"/api/v1/organisations/{org_slug}/beta/programmes/{confidential.slug}/announcements"
    )
    # then it does not exist for them
    assert page.status_code == 404
    assert SECRET_TITLE not in listing.text
    assert api.json() == []
    assert Notification.objects.filter(recipient=person).count() == 0


def test_hidden_until_the_current_nda_is_accepted(
    client, confidential, product, people, admin_a, org_a
):
    # given a published announcement, then a new NDA version the member has not accepted
    draft = _draft(confidential, [people])
    publish_announcement(draft, product)
    _nda(confidential, product, title="NDA v2", body="Keep it quieter.")
    client.force_login(admin_a)
    # when they follow the notification's link
    page = client.get(f"/o/acme/beta/announcements/{draft.pk}/")
    listing = client.get(_programme_page(org_a, confidential))
    api = client.get(
        f"/api/v1/organisations/acme/beta/programmes/{confidential.slug}/announcements"
    )
    # then nothing of it shows until they accept version 2
    assert page.status_code == 404
    assert SECRET_TITLE not in listing.text
    assert api.json() == []
    actions.accept_nda(confidential, org_a, admin_a, version=2)
    assert client.get(f"/o/acme/beta/announcements/{draft.pk}/").status_code == 200


def test_hidden_from_outsiders_and_drafts_from_everyone(
    client, confidential, product, people, admin_a, org_b
):
    # given a published announcement and a draft
    published = _draft(confidential)
    publish_announcement(published, product)
    draft = _draft(confidential, title="Draft only")
    # when an outsider (a member of a third organisation) tries its id under their own URL
    outsider = MembershipFactory().user
    client.force_login(outsider)
    slug = outsider.memberships.get().organisation.slug
    assert client.get(f"/o/{slug}/beta/announcements/{published.pk}/").status_code == 404
    # and a participant tries the draft
    client.force_login(admin_a)
    assert client.get(f"/o/acme/beta/announcements/{draft.pk}/").status_code == 404
    # and a participant tries it under another organisation's URL
    assert client.get(f"/o/{org_b.slug}/beta/announcements/{published.pk}/").status_code == 404


def test_api_lists_the_callers_announcements_and_refuses_tokens(
    client, confidential, product, people, admin_a, org_a
):
    draft = _draft(confidential, [people], title_zh="固件公告")
    publish_announcement(draft, product)
    client.force_login(admin_a)
    url = f"/api/v1/organisations/acme/beta/programmes/{confidential.slug}/announcements"
    body = client.get(url).json()
    assert [a["id"] for a in body] == [draft.pk]
    assert set(body[0]) == {
        "id",
        "title",
        "title_zh",
        "body",
        "body_zh",
        "html",
        "published_at",
        "url",
    }
    assert body[0]["url"] == f"http://testserver/o/acme/beta/announcements/{draft.pk}/"
    api_error(client.get(url, headers=token_headers(org_a, ["beta:read"])), 403, "person_required")


def test_announcement_list_queries_do_not_grow(
    client, confidential, product, people, admin_a, org_a, django_assert_max_num_queries
):
    for number in range(12):
        publish_announcement(_draft(confidential, [people], title=f"Note {number}"), product)
    client.force_login(admin_a)
    client.get(_programme_page(org_a, confidential))
    with django_assert_max_num_queries(40) as few:
        client.get(_programme_page(org_a, confidential))
    for number in range(12, 24):
        publish_announcement(_draft(confidential, title=f"Note {number}"), product)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(_programme_page(org_a, confidential))
    with django_assert_max_num_queries(13):
        api = client.get(
            f"/api/v1/organisations/acme/beta/programmes/{confidential.slug}/announcements"
        )
    assert page.text.count('href="/o/acme/beta/announcements/') == 20
    assert len(api.json()) == 24


def test_product_staff_write_and_publish_in_the_admin(
    client,
    confidential,
    product,
    people,
    admin_a,
    make_programme,
    django_capture_on_commit_callbacks,
):
    # given product staff in the admin, and a cohort of another programme
    other = make_programme("other-beta", name="Other beta")
    foreign_cohort = actions.create_cohort(other, "Elsewhere", product)
    client.force_login(product)
    fields = {
        "programme": confidential.pk,
        "title": "Beta 3 is out",
        "title_zh": "测试版 3 已发布",
        "body": "Please **repeat** the test.",
        "body_zh": "",
    }
    # when they choose a cohort of another programme / then the form refuses it
    refused = client.post(
        reverse("beta_announcements:add"), {**fields, "cohorts": [foreign_cohort.pk]}
    )
    assert refused.status_code == 200
    assert "belong to another programme" in refused.text
    assert Announcement.objects.count() == 0
    # when they save a draft for Wave 1 and publish it through the confirmation screen
    saved = client.post(reverse("beta_announcements:add"), {**fields, "cohorts": [people.pk]})
    assert saved.status_code == 302
    draft = Announcement.objects.get()
    confirm = client.get(reverse("beta_announcements:publish", args=[draft.pk]))
    assert confirm.status_code == 200
    assert "1 person is notified" in confirm.text
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            reverse("beta_announcements:publish", args=[draft.pk]), {"confirm": "on"}
        )
    # then it is published, its member notified, and it no longer changes
    assert done.status_code == 302
    draft.refresh_from_db()
    assert draft.is_published
    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [admin_a.pk]
    edit = client.get(reverse("beta_announcements:edit", args=[draft.pk]))
    assert edit.status_code == 302
