"""The demo's console and error pages: e-mails in a short form instead of raw MIME, and the
portal's own 404 page for unknown paths although the demo runs with DEBUG on."""

from __future__ import annotations

import io

import pytest
from django.core.mail import EmailMultiAlternatives

from portal.demo_mail import ShortConsoleBackend

pytestmark = pytest.mark.django_db


def test_an_email_is_two_lines_on_the_demo_console():
    # given a message with an HTML alternative and a link, to two people
    stream = io.StringIO()
    message = EmailMultiAlternatives(
        "We received your request: Remote performance audit",
        "Hello,\n\nDetails: http://127.0.0.1:8000/o/nordwind/points/redemptions/1/\n\nGreenLoop",
        to=["jonas.weber@nordwind.example", "anna.schmidt@nordwind.example"],
    )
    message.attach_alternative("<p>Hello</p>", "text/html")
    # when the demo backend sends it
    sent = ShortConsoleBackend(stream=stream).send_messages([message])
    # then the console shows who, what and the link, no MIME headers
    assert sent == 1
    assert stream.getvalue() == (
        "E-mail to jonas.weber@nordwind.example, anna.schmidt@nordwind.example: "
        '"We received your request: Remote performance audit"\n'
        "    http://127.0.0.1:8000/o/nordwind/points/redemptions/1/\n"
    )


def test_a_message_without_recipients_is_not_counted_as_sent():
    stream = io.StringIO()
    sent = ShortConsoleBackend(stream=stream).send_messages([EmailMultiAlternatives("x", "y")])
    assert (sent, stream.getvalue()) == (0, "")


@pytest.fixture
def demo_404(settings):
    settings.DEBUG = True
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "portal.middleware.PortalNotFoundMiddleware"]


@pytest.mark.parametrize("path", ["/no-such-page/", "/wp-login.php", "/o/no-such-org/orders/"])
def test_unknown_paths_show_the_portal_404_with_debug_on(client, demo_404, member_a, path):
    client.force_login(member_a)
    response = client.get(path)
    html = response.content.decode()
    assert response.status_code == 404
    assert "<title>Not found · GreenLoop</title>" in html
    assert "DEBUG = True" not in html


def test_the_api_keeps_its_json_404_with_debug_on(client, demo_404):
    response = client.get("/api/v1/no-such-endpoint")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_without_the_middleware_debug_shows_django_s_page(client, settings):
    # the opt-out (GREENLOOP_TECHNICAL_404=1) keeps Django's page for debugging URL patterns
    settings.DEBUG = True
    assert "DEBUG = True" in client.get("/wp-login.php").content.decode()
