"""Server-side SVG charts of an inventory (pygal): the PDF report and the portal draw the same.

Every chart is a pure function of inventory pieces and a language, returning SVG text:

- no JavaScript (pygal's tooltips script is off and its config script removed): a plain picture;
- printable in grey-scale: series are distinct greys, from dark to light, and every bar carries
  its value as a direct label, so nothing depends on telling colours apart;
- in Chinese the labels are translated, months are "2026年1月", units in titles are written by
  carbon_units.unit_text as on the pages ("g CO₂e/吨公里") and the font family is Noto Sans
  CJK (the report registers the file; a browser falls back to its own CJK font);
- deterministic: pygal names each chart by a random uuid and stamps the day it drew it in a
  comment; both are replaced (a fixed id per chart, no comments) so that a PDF embedding the
  chart is byte-identical from one generation to the next;
- an axis labels distinct values at the decimals printed: pygal divides 0..max into about ten
  steps whatever is printed, so 0..2 kg read "0, 0, 0, 1, 1, 1, 1, 1, 2, 2" and an all-zero
  chart "0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1"; the ticks are chosen here (`_y_ticks`), an all-zero
  chart's axis is 0 alone;
- a chart with nothing to draw is a small picture (`EMPTY_WIDTH` x `EMPTY_HEIGHT`, class
  "chart-empty") with its title and "No data for this period" in the reader's language and no
  axes: drawn at 720 units it would put that text past the edge of a phone's screen, where the
  chart scrolls (carbon.css lets an empty chart fit its card instead).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from decimal import Decimal

import pygal
from django.http import HttpRequest
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext as _
from django.utils.translation import override
from pygal.style import Style

from carbon.reports.inventory import IntensityLine, MonthLine
from carbon.reports.labels import mode_label, month_label
from carbon.templatetags.carbon_units import unit_text

# The PDF registers "Report Latin"/"Report CJK" (carbon.reports.pdf); a browser skips them.
LATIN_FONT = "'Report Latin', 'DejaVu Sans', sans-serif"
CJK_FONT = "'Report CJK', 'Noto Sans CJK SC', sans-serif"
# Dark to light; black text stays readable on each, and neighbours differ by about 20 % grey.
GREYS = ("#303030", "#8c8c8c", "#c8c8c8", "#5e5e5e", "#aaaaaa")
WIDTH = 720
HEIGHT = 340
# An empty chart: a phone's 300-odd px card shows it whole at about 0.85 of its size.
EMPTY_WIDTH = 360
EMPTY_HEIGHT = 120

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# pygal writes its config for the tooltips as a script even with no script to read it
_SCRIPT = re.compile(r"<script\b.*?</script>|<script\b[^>]*/>", re.DOTALL)
# and an empty, transparent tooltip box for that script, the chart's one inline style attribute
# (the portal's CSP admits no inline style)
_TOOLTIP = re.compile(r'<g [^>]*class="tooltip"><rect [^>]*/><g class="text" /></g>')


def _style(language: str) -> Style:
    family = CJK_FONT if language.startswith("zh") else LATIN_FONT
    return Style(
        background="#ffffff",
        plot_background="#ffffff",
        foreground="#1a1a1a",
        foreground_strong="#000000",
        foreground_subtle="#6b6b6b",
        opacity="1",
        opacity_hover="1",
        colors=GREYS,
        font_family=family,
        label_font_size=12,
        major_label_font_size=12,
        value_font_size=10,
        title_font_size=15,
        legend_font_size=12,
        no_data_font_size=16,
        # pygal's default guides are black dashes, every major one darker: they strike through
        # the value printed on a bar. Light solid lines stay behind the figures, in print too.
        guide_stroke_color="#d4d4d4",
        major_guide_stroke_color="#d4d4d4",
        guide_stroke_dasharray="none",
        major_guide_stroke_dasharray="none",
    )


def _chart(kind: Callable[..., pygal.graph.graph.Graph], language: str, **config: object):
    defaults: dict[str, object] = {
        "width": WIDTH,
        "height": HEIGHT,
        "js": [],  # no tooltip script: a printable picture
        "disable_xml_declaration": True,
        "print_values": True,
        "print_values_position": "top",
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 3,
        "show_y_guides": True,
        "margin": 12,
        "margin_bottom": 30,  # pygal underestimates the legend's height below the axis labels
        "truncate_legend": -1,
        "truncate_label": -1,
    }
    chart = kind(style=_style(language), **(defaults | config))
    chart.no_data_text = _("No data for this period")
    return chart


def _svg(chart: pygal.graph.graph.Graph, chart_id: str) -> str:
    chart.uuid = chart_id  # pygal draws a random one; the id scopes the chart's own CSS
    text = chart.render(is_unicode=True)
    text = _TOOLTIP.sub("", _SCRIPT.sub("", text))
    return _COMMENT.sub("", text)  # pygal stamps today's date in a comment


def _number(value: Decimal | int | None, places: int) -> str:
    """As the portal prints figures: grouped digits, `places` decimals, in the active language."""
    if value is None:
        return "–"
    return floatformat(value, f"{places}g")


def _formatter(places: int) -> Callable[[object], str]:
    def format_value(value: object) -> str:
        if value is None:
            return ""
        return _number(Decimal(str(value)), places)

    return format_value


def _float(value: Decimal | int | None) -> float | None:
    # pygal draws floats; the labels are formatted from these same values to the places shown
    return None if value is None else float(value)


def _y_ticks(values: list[float], places: int) -> list[float] | None:
    """Ticks from 0 past the largest value, a round step apart (1, 2, 2.5 or 5 times a power of
    ten, at least one unit of the last decimal printed), so no two read alike; [0] when every
    value is 0; None (pygal's own) when a value is negative."""
    if any(value < 0 for value in values):
        return None
    top = max(values, default=0.0)
    if top == 0:
        return [0.0]
    least = 10.0**-places
    wanted = max(top / 8, least)
    power = 10.0 ** math.floor(math.log10(wanted))
    steps = [m * power for m in (1, 2, 2.5, 5, 10) if m != 2.5 or power > least]
    step = next(step for step in steps if step >= wanted * (1 - 1e-9))
    return [round(n * step, places + 2) for n in range(math.ceil(top / step - 1e-9) + 1)]


def _bars(
    chart_id: str,
    title: str,
    labels: list[str],
    series: list[tuple[str, list[float | None]]],
    places: int,
    language: str,
) -> str:
    """A bar chart of one or more series (grouped bars, a legend when more than one)."""
    drawn = [value for _name, column in series for value in column if value is not None]
    if not labels or not drawn:
        # Nothing to draw: the title and pygal's no-data text, in a picture a phone shows whole.
        empty = _chart(
            pygal.Bar,
            language,
            title=title,
            width=EMPTY_WIDTH,
            height=EMPTY_HEIGHT,
            margin_bottom=12,
            show_legend=False,
            show_x_labels=False,
            show_y_labels=False,
            show_y_guides=False,
            classes=("pygal-chart", "chart-empty"),
        )
        return _svg(empty, chart_id)
    chart = _chart(
        pygal.Bar,
        language,
        title=title,
        value_formatter=_formatter(places),
        show_legend=len(series) > 1,
        x_label_rotation=-30 if len(labels) > 6 else 0,
        y_labels=_y_ticks(drawn, places),
    )
    chart.x_labels = labels
    for name, values in series:
        chart.add(name, values)
    return _svg(chart, chart_id)


def emissions_by_mode(lines: Sequence[IntensityLine], language: str) -> str:
    """Bars: WTW emissions (kg CO2e) of each transport mode."""
    with override(language):
        return _bars(
            "emissions-by-mode",
            _("Emissions by transport mode (%(unit)s, WTW)") % {"unit": unit_text("kgCO2e")},
            [mode_label(line.key) for line in lines],
            [(_("WTW"), [_float(line.wtw_kg) for line in lines])],
            0,
            language,
        )


def monthly_trend(months: Sequence[MonthLine], language: str) -> str:
    """Bars: WTW emissions (kg CO2e) of every month of the period, empty months included."""
    with override(language):
        return _bars(
            "monthly-trend",
            _("Monthly emissions (%(unit)s, WTW)") % {"unit": unit_text("kgCO2e")},
            [month_label(line.month) for line in months],
            [(_("WTW"), [_float(line.wtw_kg) for line in months])],
            0,
            language,
        )


def intensity_by_mode(
    current: Sequence[IntensityLine],
    previous: Sequence[IntensityLine] | None,
    language: str,
) -> str:
    """Grouped bars: intensity (g CO2e per t·km, WTW) of each mode in this period and, when
    known, the period before (a mode used in only one of them shows one bar)."""
    with override(language):
        now = {line.key: line.intensity_g_per_tkm for line in current}
        before = {line.key: line.intensity_g_per_tkm for line in previous or ()}
        modes = sorted(set(now) | set(before))
        series = [(_("This period"), [_float(now.get(mode)) for mode in modes])]
        if previous is not None:
            series.append((_("Previous period"), [_float(before.get(mode)) for mode in modes]))
        return _bars(
            "intensity-by-mode",
            _("Intensity by transport mode (%(unit)s, WTW)")
            % {"unit": unit_text("gCO2e / (tonne * km)")},
            [mode_label(mode) for mode in modes],
            series,
            1,
            language,
        )


def points_over_time(months: Sequence[MonthLine], language: str) -> str:
    """Grouped bars: points earned and redeemed in each month of the period."""
    with override(language):
        return _bars(
            "points-over-time",
            _("Points earned and redeemed by month"),
            [month_label(line.month) for line in months],
            [
                (_("Earned"), [float(line.points_earned) for line in months]),
                (_("Redeemed"), [float(line.points_redeemed) for line in months]),
            ],
            0,
            language,
        )


def with_nonce(svg: str, request: HttpRequest) -> str:
    """`svg` for a portal page: pygal's chart carries its own <style>, and the portal's CSP
    admits inline styles by the request's nonce only."""
    nonce = str(getattr(request, "csp_nonce", ""))
    return svg.replace("<style", f'<style nonce="{nonce}"', 1)
