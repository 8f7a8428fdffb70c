"""portal.home.block_choices: page blocks name their choices by key, plugins fill them."""

from __future__ import annotations

from django.db.migrations.writer import MigrationWriter

from portal.home import block_choices
from portal.home.block_choices import RegisteredChoices


def test_a_key_nobody_registered_offers_no_choices():
    assert RegisteredChoices("nobody.registered.this")() == []


def test_the_registered_provider_answers_each_time_it_is_asked(monkeypatch):
    # given a provider registered under a key
    offered = [[("a", "A")], [("a", "A"), ("b", "B")]]
    monkeypatch.setattr(block_choices, "_providers", {})
    block_choices.register_choices("test.letters", lambda: offered.pop(0))
    choices = RegisteredChoices("test.letters")
    # then each call asks the provider again (choices are always current)
    assert choices() == [("a", "A")]
    assert choices() == [("a", "A"), ("b", "B")]


def test_a_migration_records_the_key_and_imports_only_the_portal():
    # given the choices of the community's space drop-down
    choices = RegisteredChoices("community.spaces")
    # when a migration writes them
    text, imports = MigrationWriter.serialize(choices)
    # then it names the key through the portal's class
    assert text == "portal.home.block_choices.RegisteredChoices('community.spaces')"
    assert imports == {"import portal.home.block_choices"}


def test_choices_with_the_same_key_are_equal():
    # migrations compare blocks by their deconstruction: no change is detected for one key
    assert RegisteredChoices("community.spaces") == RegisteredChoices("community.spaces")
    assert RegisteredChoices("community.spaces") != RegisteredChoices("community.tags")
    assert len({RegisteredChoices("x"), RegisteredChoices("x")}) == 1
