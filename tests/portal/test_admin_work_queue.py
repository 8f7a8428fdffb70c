"""The Wagtail admin, branded as GreenLoop, opens on a work queue for the staff member's role;
yes/no values are icons with translated names; the account page offers only real time zones."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django.utils.translation import override

from portal.models import CrmEndpoint, Delivery, OutboxEvent
from portal.staff_roles import StaffRole
from tests.conftest import _staff
from tests.work_queue import work_queue

pytestmark = pytest.mark.django_db

SECRET = "whsec_a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s="


@pytest.fixture
def integration_admin(enable_totp):
    user = _staff("integration@greenloop.example", StaffRole.INTEGRATION_ADMIN)
    enable_totp(user)
    return user


def _deliveries(org, states: list[str], days_ago: int) -> None:
    endpoint = CrmEndpoint.objects.create(name="CRM", url="https://crm.example/hook", secret=SECRET)
    # Outbox rows written as the bridge finds them (bulk: no event contract applies to them).
    events = OutboxEvent.objects.bulk_create(
        OutboxEvent(
            source="/test",
            type="greenloop.test.happened",
            time=timezone.now(),
            subject=f"thing/{i}",
            organisation=org,
        )
        for i in range(len(states))
    )
    for event, state in zip(events, states, strict=True):
        Delivery.objects.create(endpoint=endpoint, event=event, lane=org.pk, state=state)
    Delivery.objects.update(created_at=timezone.now() - dt.timedelta(days=days_ago))


def test_an_integration_admin_sees_the_failed_crm_deliveries_and_nothing_else(
    client, integration_admin, org_a
):
    # given two dead-lettered deliveries four days old, one pending and one delivered
    _deliveries(org_a, ["dead", "dead", "pending", "delivered"], days_ago=4)
    # when the integration admin opens the admin home
    client.force_login(integration_admin)
    rows = work_queue(client)
    # then their queue is the failed deliveries alone, with the count, the age and the filter
    assert rows == {
        "crm_deliveries": (
            "Failed CRM deliveries",
            "2",
            "4 days",
            "/admin/crm_deliveries/?state=dead",
        )
    }


def test_a_role_without_queues_is_told_so(client, enable_totp, org_a):
    # given product staff (their work is the boards, which have no queue here) and a failure
    _deliveries(org_a, ["dead"], days_ago=1)
    product = _staff("product@greenloop.example", StaffRole.PRODUCT)
    enable_totp(product)
    client.force_login(product)
    # then the panel shows no rows, only the sentence
    assert work_queue(client) == {}
    assert "Your staff role has no queues to work." in client.get("/admin/").content.decode()


def test_an_empty_queue_shows_zero_and_no_age(client, integration_admin):
    client.force_login(integration_admin)
    assert work_queue(client)["crm_deliveries"][1:3] == ("0", "—")


def test_a_superuser_sees_every_queue_in_order(client, superuser):
    client.force_login(superuser)
    assert list(work_queue(client)) == [
        "declarations",
        "redemptions",
        "flagged_posts",
        "datasets",
        "policies",
        "crm_deliveries",
    ]


def test_the_admin_home_costs_a_bounded_number_of_queries(
    client, superuser, org_a, django_assert_max_num_queries
):
    _deliveries(org_a, ["dead"] * 5, days_ago=2)
    client.force_login(superuser)
    client.get("/admin/")
    with django_assert_max_num_queries(40):
        response = client.get("/admin/")
    assert response.status_code == 200


def test_the_admin_is_branded_greenloop_in_both_languages(client, superuser):
    client.force_login(superuser)
    html = client.get("/admin/").content.decode()
    assert "<title>Dashboard - GreenLoop</title>" in html
    assert 'src="/static/portal/img/logo.svg" alt="GreenLoop"' in html
    assert 'href="/static/portal/css/admin.css"' in html
    assert "- Wagtail</title>" not in html
    client.cookies["django_language"] = "zh-hans"
    zh = client.get("/admin/").content.decode()
    assert "<title>仪表板 - GreenLoop</title>" in zh
    assert "您的待办队列" in zh


def test_yes_no_values_are_icons_with_translated_names(client, superuser, org_a, org_b):
    # given one organisation that requires two-factor sign-in and one that does not
    org_a.require_mfa = True
    org_a.save(update_fields=["require_mfa"])
    client.force_login(superuser)
    for language, yes, no in (("en", "Yes", "No"), ("zh-hans", "是", "否")):
        client.cookies["django_language"] = language
        html = client.get("/admin/organisation/").content.decode()
        # then the column shows a tick and a cross named in the page's language, no True/False
        assert f'<span class="w-sr-only">{yes}</span>' in html
        assert f'<span class="w-sr-only">{no}</span>' in html
        assert ">True<" not in html
        assert ">False<" not in html


def test_the_account_page_offers_no_time_zone_the_browser_refuses(client, superuser):
    client.force_login(superuser)
    html = client.get("/admin/account/").content.decode()
    assert '<option value="Asia/Shanghai"' in html
    assert 'value="localtime"' not in html
    assert 'value="posixrules"' not in html


def test_work_queue_labels_are_translated(client, integration_admin):
    client.force_login(integration_admin)
    client.cookies["django_language"] = "zh-hans"
    with override("zh-hans"):
        assert work_queue(client)["crm_deliveries"][0] == "投递失败的 CRM 消息"


def test_the_queue_age_reads_as_natural_chinese(client, integration_admin, org_a):
    # given failed deliveries a day old, for staff reading the admin in Chinese
    _deliveries(org_a, ["dead"], days_ago=1)
    client.force_login(integration_admin)
    client.cookies["django_language"] = "zh-hans"
    # then the age is "1 天" (a span), not Django's own "1 日" (a day of the month)
    assert work_queue(client)["crm_deliveries"][2] == "1 天"


def test_relative_times_in_chinese_are_spans_not_dates():
    from django.utils.timesince import timesince

    now = timezone.now()
    with override("zh-hans"):
        assert timesince(now - dt.timedelta(days=3), now).replace("\xa0", " ") == "3 天"
        # "3 月" would read as March
        assert timesince(now - dt.timedelta(days=95), now).replace("\xa0", " ") == "3 个月"


def test_the_admin_home_has_no_wagtail_help_or_editor_guide(client, superuser):
    client.force_login(superuser)
    for language, account in (
        ("en", "Account, language and time zone"),
        ("zh-hans", "账户、语言和时区"),
    ):
        client.cookies["django_language"] = language
        html = client.get("/admin/").content.decode()
        # then the account summary offers GreenLoop's links, not Wagtail's guide on wagtail.org
        assert account in html
        assert "editor guide" not in html.lower()
        assert "guide.wagtail.org" not in html
        # and the sidebar carries no Help menu of Wagtail release notes
        assert '"name": "help"' not in html


def test_chinese_listings_name_their_columns_in_chinese(client, superuser, org_a):
    from portal import audit

    # given an audit event of an organisation, for staff reading the admin in Chinese
    event = audit.record("invitation.sent", actor=superuser, organisation=org_a)
    client.force_login(superuser)
    client.cookies["django_language"] = "zh-hans"
    html = client.get("/admin/auditevent/").content.decode()
    # then the organisation column (a foreign key Wagtail heads by its field name) is 组织,
    # and the sort links and the header's actions are named in Chinese too
    assert "按“组织”升序排列。" in html
    assert "Organisation" not in html
    assert "in ascending order" not in html
    assert 'aria-label="Actions"' not in html
    # and the row's menu names the event by its action's name, not its code
    with override("zh-hans"):
        assert "invitation.sent" not in str(event)
        assert superuser.email in str(event)
