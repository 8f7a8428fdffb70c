"""The one rule for text a client sends: it must be storable.

PostgreSQL cannot store a NUL character in text, and a lone UTF-16 surrogate (which a JSON
body can carry as an escape such as "\\ud800") cannot be encoded as UTF-8, so either would
reach the database as an error (a 500) instead of a refusal naming the field. Every way text
comes in applies this rule: API schemas (`Text`, and `portal.api.Input` for every string field
of a body or query) and the CSV importer (`text_problem` per cell). Django's form CharField
already refuses NUL, and form data cannot carry a lone surrogate (Django decodes it with
replacement characters).
"""

from __future__ import annotations

import re
from typing import Annotated

from django.utils.translation import gettext as _
from pydantic import AfterValidator

_NUL = "\x00"
_ASCII_INTEGER = re.compile(r"[0-9]{1,18}", re.ASCII)
_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text, in a sentence; None when it can."""
    if _NUL in value:
        return _("contains a NUL character (\\0), which text cannot hold")
    if _SURROGATE.search(value):
        return _("contains a lone surrogate code point, which is not a character")
    return None


def check_text(value: str) -> str:
    """`value` unchanged, or ValueError with the reason (pydantic reports it for the field)."""
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


# A string parameter or schema field of the API that follows the rule.
Text = Annotated[str, AfterValidator(check_text)]


def storable(value: str) -> str:
    """`value` with each NUL and lone surrogate replaced by U+FFFD, to echo refused input back
    (error reports are stored, and PostgreSQL's jsonb cannot hold a NUL either)."""
    return _SURROGATE.sub("\ufffd", value.replace(_NUL, "\ufffd"))


def ascii_integer(text: str) -> int | None:
    """The non-negative integer `text` spells in ASCII digits, or None. (str.isdigit() also
    accepts superscripts such as '²', which int() then refuses with a ValueError.)"""
    return int(text) if _ASCII_INTEGER.fullmatch(text) else None
