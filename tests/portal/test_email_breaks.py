"""Addresses and dotted codes in narrow cells wrap after "@" or before a dot, never inside a
word."""

from __future__ import annotations

from portal.templatetags.portal_format import code_breaks, email_breaks


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


def test_a_dotted_code_may_break_before_each_dot():
    # given the longest transport category code, wider than a phone's card in a monospace face
    code = "hub.container_terminal.temperature_controlled"
    # then it may wrap before a dot, never inside a part, and is escaped first
    assert code_breaks(code) == (
        '<span translate="no">hub<wbr>.container_terminal<wbr>.temperature_controlled</span>'
    )
    assert code_breaks("<b>.x") == '<span translate="no">&lt;b&gt;<wbr>.x</span>'
    assert code_breaks(None) == ""
