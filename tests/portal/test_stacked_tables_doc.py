"""README states the width at which `table.stack` turns rows into cards; portal.css decides it."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

BASE = Path(settings.BASE_DIR)


def test_readme_names_the_width_at_which_tables_stack():
    # given the shared stylesheet and the README's "Tables that fit"
    css = (BASE / "portal" / "static" / "portal" / "css" / "portal.css").read_text()
    readme = " ".join((BASE / "README.md").read_text().split())
    # when each is read for the width at which table.stack applies
    widths = re.findall(r"@media \(max-width: (\d+)px\) \{\s*table\.stack", css)
    stated = re.findall(r"\(≤ (\d+) px\) `table\.stack`", readme)
    # then both say 800 px (a portrait tablet at 768 px gets cards too)
    assert widths == ["800"]
    assert stated == ["800"]
