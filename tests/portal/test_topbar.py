"""The top bar: plugins' links grouped under menus (Carbon, Co-creation) so the bar keeps to one
row; the organisation switcher is a list of links (no form, no hidden button); the language
choice of a signed-in person sits in their menu, with no hidden submit button when scripts run."""

from __future__ import annotations

import re

from django.utils import translation

from portal.context_processors import group_nav


def test_links_are_grouped_at_their_first_place_and_marked_current():
    items = [
        {"label": "Orders", "url": "/o/a/orders/", "group": "carbon"},
        {"label": "Community", "url": "/community/"},
        {"label": "Points", "url": "/o/a/points/", "group": "carbon"},
        {"label": "Beta", "url": "/o/a/beta/", "group": "cocreation"},
        {"label": "Odd", "url": "/odd/", "group": "no-such-group"},
    ]
    with translation.override("en"):
        entries = group_nav(items, "/o/a/points/12/")
        labels = [str(e["label"]) for e in entries]
    assert labels == ["Carbon", "Community", "Co-creation", "Odd"]
    carbon = entries[0]
    assert [link["label"] for link in carbon["links"]] == ["Orders", "Points"]
    assert [link["current"] for link in carbon["links"]] == [False, True]
    assert carbon["current"] is True
    assert entries[1]["current"] is False


def test_consultant_gets_organisation_links_and_no_hidden_buttons(client, consultant, org_a, org_b):
    client.force_login(consultant)
    html = client.get(f"/o/{org_a.slug}/").content.decode()
    header = html[html.index("<header") : html.index("</header>")]
    assert f'href="/o/{org_a.slug}/" aria-current="true"' in header
    assert f'href="/o/{org_b.slug}/"' in header
    # No form switches the organisation, and the only submit buttons outside <noscript> are the
    # sign-out button: nothing hidden comes first.
    assert "switch_organisation" not in header
    assert "/switch/" not in header
    visible = re.sub(r"<noscript>.*?</noscript>", "", header, flags=re.S)
    assert re.findall(r'<button type="submit"[^>]*>([^<]*)<', visible) == ["Sign out"]
    assert '<details class="navgroup"' in header
