"""Server-side SVG charts of an inventory (pygal): the PDF report and the portal draw the same.

Every chart is a pure function of inventory pieces and a language, returning SVG text:

- no JavaScript (pygal's tooltips script is off and its config script removed): a plain picture;
- printable in grey-scale: series are distinct greys, from dark to light, and every bar carries
  its value as a direct label, so nothing depends on telling colours apart;
- in Chinese the labels are translated, months are "2026年1月" and the font family is Noto Sans
  CJK (the report registers the file; a browser falls back to its own CJK font);
- deterministic: pygal names each chart by a random uuid and stamps the day it drew it in a
  comment; both are replaced (a fixed id per chart, no comments) so that a PDF embedding the
  chart is byte-identical from one generation to the next.
"""

from __future__ import annotations

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

# The PDF registers "Report Latin"/"Report CJK" (carbon.reports.pdf); a browser skips them.
LATIN_FONT = "'Report Latin', 'DejaVu Sans', sans-serif"
CJK_FONT = "'Report CJK', 'Noto Sans CJK SC', sans-serif"
# Dark to light; black text stays readable on each, and neighbours differ by about 20 % grey.
GREYS = ("#303030", "#8c8c8c", "#c8c8c8", "#5e5e5e", "#aaaaaa")
WIDTH = 720
HEIGHT = 340

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
    chart = kind(
        style=_style(language),
        width=WIDTH,
        height=HEIGHT,
        js=[],  # no tooltip script: a printable picture
        disable_xml_declaration=True,
        print_values=True,
        print_values_position="top",
        legend_at_bottom=True,
        legend_at_bottom_columns=3,
        show_y_guides=True,
        margin=12,
        margin_bottom=30,  # pygal underestimates the legend's height below the axis labels
        truncate_legend=-1,
        truncate_label=-1,
        **config,
    )
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


def _bars(
    chart_id: str,
    title: str,
    labels: list[str],
    series: list[tuple[str, list[float | None]]],
    places: int,
    language: str,
) -> str:
    """A bar chart of one or more series (grouped bars, a legend when more than one)."""
    chart = _chart(
        pygal.Bar,
        language,
        title=title,
        value_formatter=_formatter(places),
        show_legend=len(series) > 1,
        x_label_rotation=-30 if len(labels) > 6 else 0,
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
            _("Emissions by transport mode (kg CO₂e, WTW)"),
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
            _("Monthly emissions (kg CO₂e, WTW)"),
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
            _("Intensity by transport mode (g CO₂e/t·km, WTW)"),
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
