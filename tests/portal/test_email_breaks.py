"""E-mail addresses in narrow table cells wrap after "@" or before a dot, never inside a word."""

from __future__ import annotations

from portal.templatetags.portal_format import email_breaks


def test_an_address_may_break_after_the_at_and_before_dots():
    assert email_breaks("anna.schmidt@nordwind.example") == (
        '<span translate="no">anna<wbr>.schmidt@<wbr>nordwind<wbr>.example</span>'
    )


def test_the_address_is_escaped_before_the_breaks_are_added():
    assert email_breaks('<b>"x"@y.example') == (
        '<span translate="no">&lt;b&gt;&quot;x&quot;@<wbr>y<wbr>.example</span>'
    )


def test_no_address_is_an_empty_string():
    assert email_breaks(None) == ""
