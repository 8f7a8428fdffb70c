"""The charts' axes and empty charts, as a reader sees them: an axis never repeats a label, an
all-zero chart's axis reads 0 alone, and a chart with nothing to draw says so in the reader's
language in a picture small enough for a phone's card, with no axes. No database."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from carbon.reports import charts
from carbon.reports.inventory import MonthLine

NBSP = "\u00a0"
# pygal writes each y-axis label at x="-5", left of the plot; no other text sits there
Y_LABEL = re.compile(r'<text x="-5" y="[^"]*" class="[^"]*">([^<]*)</text>')


def _months(*kg: int) -> list[MonthLine]:
    return [
        MonthLine(f"2026-{n:02d}", 0, Decimal(0), Decimal(value), None, 0, 0)
        for n, value in enumerate(kg, start=1)
    ]


def test_an_all_zero_chart_labels_its_axis_0_alone():
    # given a year without emissions: twelve months of 0 kg
    svg = charts.monthly_trend(_months(*[0] * 12), "en")
    # then the axis reads 0, not "0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1"
    assert Y_LABEL.findall(svg) == ["0"]
    # and every month still shows its 0
    assert "Dec 2026" in svg


@pytest.mark.parametrize(
    ("kg", "labels"),
    [
        ((2, 0, 1), ["0", "1", "2"]),
        ((7,), ["0", "1", "2", "3", "4", "5", "6", "7"]),
        ((12_345, 0), ["0", "2,000", "4,000", "6,000", "8,000", "10,000", "12,000", "14,000"]),
    ],
)
def test_an_axis_never_repeats_a_label(kg, labels):
    # given whole kilograms, printed without decimals
    svg = charts.monthly_trend(_months(*kg), "en")
    # then the ticks are round steps that read apart, from 0 past the largest month
    assert Y_LABEL.findall(svg) == labels


@pytest.mark.parametrize(
    ("language", "title", "no_data"),
    [
        ("en", f"(g{NBSP}CO₂e/t·km, WTW)", "No data for this period"),
        ("zh-hans", f"各运输方式排放强度（g{NBSP}CO₂e/吨公里，WTW）", "本期无数据"),
    ],
)
def test_an_empty_chart_says_so_in_a_picture_a_phone_shows_whole(language, title, no_data):
    # given a period without a single leg: no transport mode to draw
    svg = charts.intensity_by_mode([], None, language)
    # then the chart is a small picture (360 x 120 units, the class carbon.css keeps unscrolled)
    assert svg.startswith(
        '<svg xmlns="http://www.w3.org/2000/svg" id="chart-intensity-by-mode"'
        ' class="pygal-chart chart-empty" viewBox="0 0 360 120">'
    )
    # with its title (the unit as the pages write it) and the no-data text in the reader's
    # language, centred on the 336-unit plot that starts 12 units in (180 of 360)
    assert f'class="title plot_title">{title}</text>' in svg
    assert re.search(
        r'<g transform="translate\(12, \d+\)" class="plot text-overlay">'
        rf'<text x="168.0" y="[\d.]+" class="no_data">{no_data}</text>',
        svg,
    )
    # and no axis: no 0, 0, 0, 1, 1, 1 down an empty plot
    assert 'class="axis' not in svg
    assert Y_LABEL.findall(svg) == []


def test_the_pdf_and_the_pages_draw_the_same_empty_chart():
    assert charts.emissions_by_mode([], "en") == charts.emissions_by_mode([], "en")
    assert "chart-empty" in charts.emissions_by_mode([], "en")
