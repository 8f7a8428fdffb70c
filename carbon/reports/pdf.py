"""The PDF report: a pure function of a ReportDocument, drawn by WeasyPrint from Django templates.

`render_pdf(document)` renders `carbon/reports/report.html` in the document's language with the
print stylesheet `carbon/static/carbon/css/report_print.css` (read from disk, never fetched) and
returns the PDF's bytes. Three things keep it an auditor's document:

- **Same bytes every time**: the creation and modification dates are the report's issue time,
  the title and the PDF file identifier come from the report id, and the charts carry fixed ids,
  so two renders of the same document are byte-identical (WeasyPrint's producer string names its
  version: a WeasyPrint upgrade changes the bytes, not the figures or the data hash).
- **Nothing fetched**: the URL fetcher serves `data:` URLs (the charts) and files from the font
  and stylesheet folders below, and refuses everything else, http(s) first of all.
- **Fonts embedded as subsets**: DejaVu Sans for Latin text and Noto Sans CJK (Debian
  `fonts-noto-cjk`) for Chinese, both registered by `@font-face` with local file URLs.

Long tables: WeasyPrint's table layout grows worse than linearly with a table's rows, so the
orders table is cut into tables of ORDER_ROWS_PER_PAGE rows, one per page, each with its header,
of fixed layout and single-line rows (see the stylesheet). A page that still overflows breaks
between rows and repeats the header.
"""

from __future__ import annotations

import base64
import datetime as dt
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.defaultfilters import floatformat
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import override, pgettext
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from carbon.footprint.categories import CATEGORIES
from carbon.footprint.method import method_statement
from carbon.reports import charts
from carbon.reports.document import ReportDocument
from carbon.reports.inventory import (
    DEFAULT_TIER,
    PRIMARY_TIER,
    Exclusion,
    Inventory,
    OrderLine,
)
from carbon.reports.labels import (
    intensity_rows,
    mode_label,
    month_label,
    period_label,
    scope3_label,
)

STYLESHEET = (
    Path(__file__).resolve().parent.parent / "static" / "carbon" / "css" / "report_print.css"
)
# Debian paths (fonts-dejavu-core, fonts-noto-cjk; bootstrap.sh installs both).
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/opentype/noto"))
FONTS = {
    "latin": FONT_DIRS[0] / "DejaVuSans.ttf",
    "latin_bold": FONT_DIRS[0] / "DejaVuSans-Bold.ttf",
    "cjk": FONT_DIRS[1] / "NotoSansCJK-Regular.ttc",
}
# One CJK face only, for both weights: each Noto CJK collection is ~20 MB to load and subset,
# and the bold one would double the memory of a Chinese report for its headings alone.
# Rows of the orders table per page: single-line rows of fixed height fill an A4 page.
ORDER_ROWS_PER_PAGE = 52
EXCLUDED_ROWS_PER_PAGE = 52


class ReportFontMissing(RuntimeError):
    """A font file the report embeds is not installed (see README: fonts-noto-cjk)."""


class RefusedURL(ValueError):
    """A URL the report may not read (WeasyPrint logs it and renders without the resource)."""


class LocalOnlyFetcher(URLFetcher):
    """Serves data: URLs and files under the allowed folders; refuses everything else."""

    def __init__(self, folders: Sequence[Path]) -> None:
        super().__init__(allowed_protocols=("data", "file"), allow_redirects=False)
        self.folders = tuple(folder.resolve() for folder in folders)

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if url.startswith("file:"):
            path = Path(url.removeprefix("file://").split("?")[0]).resolve()
            if not any(path.is_relative_to(folder) for folder in self.folders):
                raise RefusedURL(f"The report reads no file outside its folders: {url}")
        elif not url.startswith("data:"):
            raise RefusedURL(f"The report fetches nothing from the network: {url}")
        return super().fetch(url, headers)


def _fetcher() -> LocalOnlyFetcher:
    return LocalOnlyFetcher((*FONT_DIRS, STYLESHEET.parent))


def _font_faces() -> str:
    for path in FONTS.values():
        if not path.exists():
            raise ReportFontMissing(
                f"{path} is missing: install fonts-dejavu-core and fonts-noto-cjk"
            )
    return "\n".join(
        f'@font-face {{ font-family: "{family}"; font-weight: {weight}; '
        f'src: url("{FONTS[key].as_uri()}"); }}'
        for family, weight, key in (
            ("Report Latin", 400, "latin"),
            ("Report Latin", 700, "latin_bold"),
            ("Report CJK", 400, "cjk"),
            ("Report CJK", 700, "cjk"),
        )
    )


def _css_string(text: str) -> str:
    # Also "<": the value sits in the document's <style> element, which "</style>" would end.
    escaped = (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("<", "\\3c ")
        .replace("\n", " ")
        .replace("\r", " ")
    )
    return f'"{escaped}"'


def _page_counter() -> str:
    """ "Page 3 of 12" in the active language, as a CSS content value with counters."""
    marker = "\x00"
    text = _("Page %(page)s of %(pages)s") % {
        "page": marker + "page" + marker,
        "pages": marker + "pages" + marker,
    }
    parts = []
    for index, piece in enumerate(text.split(marker)):
        if index % 2:
            parts.append(f"counter({piece})")
        elif piece:
            parts.append(_css_string(piece))
    return " ".join(parts)


def _exclusion_label(reason: str) -> str:
    labels = {
        Exclusion.NOT_DELIVERED.value: _("Not delivered"),
        Exclusion.DELIVERED_OUTSIDE_PERIOD.value: _("Delivered outside the period"),
        Exclusion.NO_CURRENT_SNAPSHOT.value: _("No calculation"),
    }
    return labels.get(str(reason), str(reason))


def _tier_label(tier: str) -> str:
    labels = {
        PRIMARY_TIER: _("Primary data"),
        "modelled": _("Modelled"),
        # Not the orders list's "Default factors" column, which is a share.
        DEFAULT_TIER: pgettext("data tier", "Default factors"),
    }
    return labels.get(tier, tier)


def _category_label(code: str) -> str:
    category = CATEGORIES.get(code)
    return str(category.label) if category else code


def _percent(share: Decimal | None) -> Decimal | None:
    return None if share is None else share * 100


def _change(now: Decimal | None, before: Decimal | None) -> str | None:
    """Relative change in percent with its sign ("+12.5", "-3.0"), None when there is nothing
    to compare with."""
    if now is None or not before:
        return None
    change = (now - before) * 100 / before
    return ("+" if change > 0 else "") + floatformat(change, "1g")


def fit(text: str, width: int) -> str:
    """`text` cut to `width` columns (a Chinese character takes two) with an ellipsis: the long
    tables' cells neither wrap nor clip (see the stylesheet), so their texts must fit."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if unicodedata.east_asian_width(char) in "WF" else 1
        if used > width:
            return text[: max(index - 1, 0)] + "…"
    return text


@dataclass(frozen=True)
class OrderRowView:
    line: OrderLine
    external_id: str
    site: str
    modes: str


def _order_rows(lines: Sequence[OrderLine]) -> Iterator[OrderRowView]:
    for line in lines:
        legs = sorted(line.legs, key=lambda leg: (leg.shipment, leg.sequence))
        modes = " › ".join(mode_label(leg.mode) for leg in legs)
        yield OrderRowView(line, fit(line.external_id, 24), fit(line.site, 20), fit(modes, 24))


def _chunks(rows: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [rows[start : start + size] for start in range(0, len(rows), size)]


@dataclass(frozen=True)
class Comparison:
    label: str
    as_issued: Decimal | int | None
    restated: Decimal | int | None
    places: int

    @property
    def format(self) -> str:
        """The floatformat argument: `places` decimals, digits grouped."""
        return f"{self.places}g"

    @property
    def difference(self) -> Decimal | int | None:
        if self.as_issued is None or self.restated is None:
            return None
        return self.restated - self.as_issued


def _comparison(as_issued: Inventory, restated: Inventory) -> list[Comparison]:
    return [
        Comparison(_("Delivered orders"), as_issued.orders, restated.orders, 0),
        Comparison(_("Transport work (t·km)"), as_issued.tkm, restated.tkm, 0),
        Comparison(_("TTW (kg CO₂e)"), as_issued.ttw_kg, restated.ttw_kg, 1),
        Comparison(_("WTT (kg CO₂e)"), as_issued.wtt_kg, restated.wtt_kg, 1),
        Comparison(_("WTW (kg CO₂e)"), as_issued.wtw_kg, restated.wtw_kg, 1),
        Comparison(
            _("Intensity (g CO₂e/t·km)"),
            as_issued.intensity_g_per_tkm,
            restated.intensity_g_per_tkm,
            1,
        ),
        Comparison(
            _("Radiative forcing uplift, air (kg CO₂e)"),
            as_issued.radiative_forcing_kg,
            restated.radiative_forcing_kg,
            1,
        ),
        Comparison(
            _("Scope 2, location-based (kg CO₂e)"),
            as_issued.scope2.location_kg,
            restated.scope2.location_kg,
            1,
        ),
        Comparison(
            _("Scope 2, market-based (kg CO₂e)"),
            as_issued.scope2.market_kg,
            restated.scope2.market_kg,
            1,
        ),
    ]


def method_url(document: ReportDocument) -> str:
    """Where a reader of the PDF opens the method statement: the organisation's page in the
    portal, or for a report on every customer (vendor staff) the API's."""
    if document.organisation_slug:
        path = reverse("carbon:method_statement", kwargs={"org_slug": document.organisation_slug})
    else:
        path = reverse("api-v1:carbon_method")
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


def _svg_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _context(document: ReportDocument) -> dict[str, Any]:
    inventory = document.inventory
    previous = document.previous
    quality = inventory.data_quality
    language = document.language
    organisation = document.organisation_name or _("All customers")
    data_hash = inventory.data_hash  # a SHA-256 over every order: computed once
    return {
        "document": document,
        "inventory": inventory,
        "previous": previous,
        "language": language,
        "html_lang": "zh-Hans" if language.startswith("zh") else "en",
        "organisation": organisation,
        "period_label": period_label(inventory.period),
        "previous_label": period_label(previous.period) if previous else "",
        "issued_on": formats.date_format(document.issued_at.date(), "DATE_FORMAT"),
        "language_name": _("Simplified Chinese") if language.startswith("zh") else _("English"),
        "wtw_change": _change(inventory.wtw_kg, previous.wtw_kg if previous else None),
        "intensity_change": _change(
            inventory.intensity_g_per_tkm, previous.intensity_g_per_tkm if previous else None
        ),
        "charts": {
            "by_mode": _svg_uri(charts.emissions_by_mode(inventory.by_mode, language)),
            "monthly": _svg_uri(charts.monthly_trend(inventory.by_month, language)),
            "intensity": _svg_uri(
                charts.intensity_by_mode(
                    inventory.by_mode, previous.by_mode if previous else None, language
                )
            ),
            "points": _svg_uri(charts.points_over_time(inventory.by_month, language)),
        },
        "modes": intensity_rows(
            inventory.by_mode, previous.by_mode if previous else None, mode_label
        ),
        "categories": intensity_rows(
            inventory.by_vehicle_category,
            previous.by_vehicle_category if previous else None,
            _category_label,
        ),
        "months": [(month_label(line.month), line) for line in inventory.by_month],
        # Generated from the engine's tables, so the report claims no more than the code does.
        "method": method_statement(inventory.datasets),
        "method_url": method_url(document),
        "scope3": [(scope3_label(line.key), line) for line in inventory.by_scope3_category],
        "policies": [
            (policy, policy.explanation_in(language)) for policy in document.points_policies
        ],
        "shares": {
            "primary_tkm": _percent(quality.primary_tkm_share),
            "default_tkm": _percent(quality.default_tkm_share),
            "primary_wtw": _percent(quality.primary_wtw_share),
            "default_wtw": _percent(quality.default_wtw_share),
        },
        "tiers": [
            (_tier_label(tier), quality.tkm_by_tier[tier], quality.wtw_by_tier.get(tier))
            for tier in quality.tkm_by_tier
        ],
        "excluded_by_reason": [
            (_exclusion_label(reason), count)
            for reason, count in quality.excluded_by_reason.items()
        ],
        "excluded_pages": _chunks(
            [
                (order, fit(order.external_id, 40), _exclusion_label(order.reason))
                for order in quality.excluded
            ],
            EXCLUDED_ROWS_PER_PAGE,
        ),
        "order_pages": _chunks(list(_order_rows(inventory.lines)), ORDER_ROWS_PER_PAGE),
        "comparison": (
            _comparison(document.as_issued, inventory) if document.as_issued is not None else []
        ),
        "as_issued_hash": document.as_issued.data_hash if document.as_issued else "",
        "data_hash": data_hash,
        "desnz": any(
            "desnz" in source.label or "Net Zero" in source.publisher for source in document.sources
        ),
        "gwp_bases": sorted({source.gwp_basis for source in document.sources if source.gwp_basis}),
        "page_counter": _page_counter(),
        "running_title": _css_string(
            _("Carbon report · %(organisation)s · %(period)s")
            % {"organisation": organisation, "period": period_label(inventory.period)}
        ),
        "running_footer": _css_string(
            _("Report %(id)s · data SHA-256 %(hash)s")
            % {"id": document.report_id, "hash": data_hash}
        ),
        "font_faces": _font_faces(),
    }


def _w3c(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def render_html(document: ReportDocument) -> str:
    """The report's HTML in the document's language (what render_pdf lays out)."""
    with override(document.language):
        context = _context(document)
        context["created"] = _w3c(document.issued_at)
        context["title"] = _("Carbon report %(id)s") % {"id": document.report_id}
        return render_to_string("carbon/reports/report.html", context)


def render_pdf(document: ReportDocument) -> bytes:
    """The report as PDF bytes; the same document always gives the same bytes."""
    html = render_html(document)
    fetcher = _fetcher()
    stylesheet = CSS(string=STYLESHEET.read_text(encoding="utf-8"), url_fetcher=fetcher)
    pdf = HTML(string=html, base_url=STYLESHEET.parent.as_uri(), url_fetcher=fetcher).write_pdf(
        stylesheets=[stylesheet],
        pdf_identifier=document.report_id.encode("utf-8"),
    )
    if pdf is None:  # write_pdf returns the bytes when given no target
        raise RuntimeError("WeasyPrint wrote no PDF")
    return pdf
