"""Choices that plugins' page blocks offer in the editor, registered by name.

A plugin block's drop-down (the community's spaces, say) is filled by a function of the plugin,
but the block is also recorded in the home page's migrations, which must not import a plugin:
they would break the day the plugin is removed or renamed. So the block names its choices by
a key, `RegisteredChoices("community.spaces")`, which is what a migration records, and the
plugin registers the function behind that key from its AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.deconstruct import deconstructible

Choices = list[tuple[str, str]]

_providers: dict[str, Callable[[], Choices]] = {}


def register_choices(key: str, provider: Callable[[], Choices]) -> None:
    """Let `provider()` answer for `key` (a plugin calls this once, from its ready())."""
    _providers[key] = provider


@deconstructible(path="portal.home.block_choices.RegisteredChoices")
class RegisteredChoices:
    """The choices registered under `key`, looked up each time an editor's form is built, so
    they are always current and never recorded in a migration. No provider (the plugin is not
    installed): no choices."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __call__(self) -> Choices:
        provider = _providers.get(self.key)
        return provider() if provider is not None else []

    def __eq__(self, other: object) -> bool:
        # Migrations compare blocks by their deconstruction: equal keys, equal choices.
        return isinstance(other, RegisteredChoices) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)
