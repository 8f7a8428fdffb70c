"""Text staff write in both languages: a field and its Chinese twin `<field>_zh`.

One rule for every plugin (the beta programmes' names, the points catalogue's services, policy
explanations and baseline notes): a Chinese reader sees the twin when staff filled it in, any
other reader (or a Chinese one without a twin) the English text.
"""

from __future__ import annotations

from django.utils import translation


def chinese() -> bool:
    """Whether the active language is Chinese (zh-hans, or any zh variant)."""
    return (translation.get_language() or "").lower().startswith("zh")


def localised(obj: object, field: str) -> str:
    """`field` in the reader's language: its `<field>_zh` twin for Chinese readers when staff
    filled it in, else the English text."""
    zh = getattr(obj, f"{field}_zh", "")
    return zh if chinese() and zh else getattr(obj, field)
