"""Reads the admin home's work queue (portal/templates/portal/admin/work_queue_panel.html) for
the tests of each app's rows."""

from __future__ import annotations

import re

from django.utils.html import strip_tags

ROW = re.compile(
    r'<tr data-work-queue="(?P<key>[^"]+)">\s*<td class="title"><a href="(?P<url>[^"]*)">'
    r"(?P<label>[^<]*)</a></td>\s*<td>(?P<count>.*?)</td>\s*<td>(?P<age>[^<]*)</td>",
    re.S,
)


def work_queue(client) -> dict[str, tuple[str, str, str, str]]:
    """The admin home's queue rows by key: (label, count, age of the oldest, link)."""
    response = client.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    return {
        m["key"]: (
            m["label"],
            strip_tags(m["count"]).strip(),
            m["age"].strip().replace("\xa0", " "),
            m["url"].replace("&amp;", "&"),
        )
        for m in ROW.finditer(html)
    }
