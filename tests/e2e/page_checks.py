"""Checks a browser runs on a rendered page: horizontal overflow, boxes that scroll sideways
with no cue, and English words left in the interface of a Chinese page. Shared by the browser
tests and `scripts/screenshots.py`.

What people stored is not the interface: every text held in the database (topic titles, names
of people, organisations, sites and products, order numbers, a factor's published source row,
`stored_texts()`) is taken out of the page's text before its words are judged, and rendered
Markdown (`.rich-text`, `.prose`), search snippets, code and anything marked `translate="no"` or
with a `lang` of its own are left out. Abbreviations in capitals (WTW, CSV, GEC), units and the
brand are not English prose and are allowed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Words a Chinese page may show as they are: the brand, units and unit-like symbols, standards
# and the names of the two languages in the language menu.
ALLOWED_WORDS = (
    "GreenLoop",
    "kWh",
    "MWh",
    "GWh",
    "km",
    "kg",
    "CO₂e",
    "CO2e",
    "English",
    "Excel",
    "iLEAP",
    "WebP",
    # the points formula's functions
    "floor",
    "max",
    "min",
    "Markdown",
    "Incoterms",
    "Scope",
)

# The scripts, kept as JavaScript files beside this module.
_HERE = Path(__file__).resolve().parent


def _script(name: str) -> str:
    # The leading comment lines go: Playwright calls the text only if it starts as a function.
    lines = (_HERE / name).read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.startswith("//"))


ENGLISH_ON_PAGE_JS = _script("english_on_page.js")

OVERFLOW_JS = _script("overflow.js")

HIDDEN_SCROLLERS_JS = _script("hidden_scrollers.js")


def allowed_words() -> list[str]:
    """ALLOWED_WORDS and the CSV import's column names, which people type as they are."""
    from carbon.footprint.importer import KNOWN_COLUMNS

    return [*ALLOWED_WORDS, *KNOWN_COLUMNS]


def stored_texts() -> list[str]:
    """Every short text the database holds in the portal's apps and Wagtail's pages (the values
    of text fields without choices; a field with choices shows its translated label instead),
    people's names in both orders, longest first so that a title is taken out before a word
    of it."""
    from django.apps import apps
    from django.db import models

    texts: set[str] = set()
    for config in apps.get_app_configs():
        if config.name.split(".")[0] not in {"portal", "carbon", "community", "beta_program"} and (
            config.label != "wagtailcore"
        ):
            continue
        for model in config.get_models():
            fields = [
                field.name
                for field in model._meta.get_fields()
                if isinstance(field, models.CharField | models.TextField)
                and not field.choices
                and field.concrete
            ]
            if not fields:
                continue
            for row in model._default_manager.values_list(*fields):
                for value in row:
                    if value and len(value) >= 3 and len(value) <= 400:
                        texts.add(value.strip())
    User = apps.get_model("portal", "User")  # noqa: N806
    for first, last in User.objects.values_list("first_name", "last_name"):
        texts.update({f"{first} {last}", f"{last} {first}", f"{last}{first}"})
    return sorted((text for text in texts if len(text) >= 3), key=len, reverse=True)


def english_on_page(page: Any, stored: list[str] | None = None) -> list[dict[str, Any]]:
    """English words in the interface of the page open in `page` (a Playwright page), with the
    texts in `stored` (see stored_texts) taken out first."""
    return page.evaluate(ENGLISH_ON_PAGE_JS, [allowed_words(), stored or []])


def overflow(page: Any) -> dict[str, Any]:
    """The page's scroll width against its viewport, and up to five elements sticking out."""
    return page.evaluate(OVERFLOW_JS)


def hidden_scrollers(page: Any) -> list[dict[str, Any]]:
    """Boxes of the page open in `page` that scroll sideways with nothing on show to say so:
    on a phone a reader does not find what lies past the right edge of a table or chart (a
    scroller is told apart by `aria-describedby` naming a visible hint)."""
    return page.evaluate(HIDDEN_SCROLLERS_JS)
