"""The report as tables: a CSV of orders and legs, and an XLSX workbook (pure renderers).

Both are pure functions over a `ReportDocument` (no database, no clock) and write in
`document.language`: column headers, sheet names, labels, transport modes and data tiers are
translated; codes (vehicle categories, factor ids, the period's text form) are not, so that a
filter or a lookup works the same in every language.

CSV (`render_csv`): ONE table, one row per leg, with the order's columns repeated on each of its
legs (an order without legs has one row with the leg columns empty). A spreadsheet user can then
filter or pivot on any column (mode, data tier, factor id, site, month of delivery) without first
joining two sections, and a sum of a leg column (t·km, TTW, WTT, WTW, radiative forcing) over any
filter is right. The order-level figures that are not sums of legs (electricity and Scope 2) are
written on the order's first row only, so that their column sums are right too. The report's facts
(report id, period, data hash, counting rule) are columns of every row rather than a block above
the table, so the file stays a plain table that any CSV reader opens without skipping lines, and a
filtered or copied row still says which report it came from.

- Encoding: UTF-8 with a byte order mark (Excel then reads Chinese correctly), RFC 4180 quoting
  and CRLF line ends.
- Numbers: decimals as plain strings with a dot and no thousands separator or exponent ("1234.5",
  "0.000125", "-3"), in every language; dates ISO 8601 (YYYY-MM-DD).
- Cells that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage
  return) get a leading ' by `portal.csv_export.neutralise`, the one function every CSV of the
  product and this XLSX use; plain numbers such as "-3" stay numbers.

XLSX (`render_xlsx`, openpyxl): sheets Summary, Orders, Legs, By mode and Data quality. Numbers are
numbers (with units in the headers), dates are dates; text cells go through the same `neutralise`.
The bytes are deterministic: the workbook's created/modified properties are `document.issued_at`
and every zip entry carries that moment, so two renders of one report are byte-identical.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import translation
from django.utils.translation import gettext, pgettext, pgettext_lazy
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from carbon.footprint import incoterms
from carbon.footprint.units import plain_decimal
from carbon.reports.document import ReportDocument
from carbon.reports.inventory import Exclusion, Inventory, LegRow, OrderLine
from portal.csv_export import SafeWriter, neutralise

BOM = "\ufeff"
CONTEXT = "report export"  # the msgctxt of this module's strings (headers are short and ambiguous)

# The roles of the factors a leg may use (carbon.footprint.model.LegFactors.ids), one column each.
FACTOR_ROLES = ("ttw", "wtt", "ttw_rf", "fuel_ttw", "fuel_wtt")

MODE_NAMES = {
    "road": pgettext_lazy(CONTEXT, "Road"),
    "rail": pgettext_lazy(CONTEXT, "Rail"),
    "sea": pgettext_lazy(CONTEXT, "Sea"),
    "air": pgettext_lazy(CONTEXT, "Air"),
    "hub": pgettext_lazy(CONTEXT, "Hub operations"),
}
TIER_NAMES = {
    "primary": pgettext_lazy(CONTEXT, "Primary data"),
    "modelled": pgettext_lazy(CONTEXT, "Modelled data"),
    "default": pgettext_lazy(CONTEXT, "Default factor"),
}
METHOD_NAMES = {
    "distance": pgettext_lazy(CONTEXT, "Distance-based"),
    "fuel": pgettext_lazy(CONTEXT, "Fuel-based"),
    "hub": pgettext_lazy(CONTEXT, "Hub operation (GLEC default per tonne handled)"),
}
EXCLUSION_NAMES = {
    str(Exclusion.NOT_DELIVERED): pgettext_lazy(CONTEXT, "Not delivered"),
    str(Exclusion.DELIVERED_OUTSIDE_PERIOD): pgettext_lazy(CONTEXT, "Delivered outside the period"),
    str(Exclusion.NO_CURRENT_SNAPSHOT): pgettext_lazy(CONTEXT, "No calculation"),
}

# Number formats of the XLSX (the CSV writes plain decimals).
KG = "#,##0.000"
TKM = "#,##0.000"
INTENSITY = "#,##0.0"
SHARE = "0.00%"
INTEGER = "#,##0"
DATE = "yyyy-mm-dd"


def named(names: dict[Any, Any], key: Any) -> str:
    """The translated name of a code, or the code itself when it has none."""
    return str(names[key]) if key in names else str(key)


@dataclass(frozen=True)
class Column:
    """One column of a table: its header, how to read a row, and its XLSX number format."""

    header: Any  # a lazy translation
    value: Callable[[Any], Any]
    number_format: str | None = None


# --- the columns, shared by the CSV and the XLSX


# A row of the legs table: the order, the leg (None for an order without legs), and whether it is
# the order's first row.
LegTableRow = tuple[OrderLine, LegRow | None, bool]


def _factor(role: str) -> Callable[[LegTableRow], Any]:
    def read(row: LegTableRow) -> Any:
        leg = row[1]
        return dict(leg.factor_ids).get(role) if leg is not None else None

    return read


def _leg(read: Callable[[LegRow], Any]) -> Callable[[LegTableRow], Any]:
    return lambda row: read(row[1]) if row[1] is not None else None


# t·km and emissions: legs, orders and the lines by mode all name them alike.
TKM_COLUMN = Column(pgettext_lazy(CONTEXT, "Transport activity (t·km)"), lambda x: x.tkm, TKM)
WTW_COLUMN = Column(pgettext_lazy(CONTEXT, "WTW emissions (kg CO2e)"), lambda x: x.wtw_kg, KG)
EMISSION_COLUMNS = (
    TKM_COLUMN,
    Column(pgettext_lazy(CONTEXT, "TTW emissions (kg CO2e)"), lambda x: x.ttw_kg, KG),
    Column(pgettext_lazy(CONTEXT, "WTT emissions (kg CO2e)"), lambda x: x.wtt_kg, KG),
    WTW_COLUMN,
    Column(
        pgettext_lazy(CONTEXT, "Radiative forcing uplift, not in WTW (kg CO2e)"),
        lambda x: x.radiative_forcing_kg,
        KG,
    ),
)

ORDER_KEY_COLUMNS = (
    Column(pgettext_lazy(CONTEXT, "Organisation"), lambda o: o.organisation_name),
    Column(pgettext_lazy(CONTEXT, "Order number"), lambda o: o.external_id),
    Column(pgettext_lazy(CONTEXT, "GreenLoop order ID"), lambda o: o.order_id),
    Column(pgettext_lazy(CONTEXT, "Delivery date"), lambda o: o.delivery_date, DATE),
    Column(pgettext_lazy(CONTEXT, "Delivery site"), lambda o: o.site),
    Column(pgettext_lazy(CONTEXT, "Calculation ID"), lambda o: o.snapshot_id),
    Column(pgettext_lazy(CONTEXT, "Method version"), lambda o: o.method_version),
    Column(pgettext_lazy(CONTEXT, "Incoterm"), lambda o: o.incoterm or None),
    # 4: the customer paid the main carriage (upstream), 9: the seller did (downstream).
    Column(
        pgettext_lazy(CONTEXT, "Customer's Scope 3 category"),
        lambda o: incoterms.scope3_category(o.incoterm or None),
        INTEGER,
    ),
)

LEG_COLUMNS = (
    Column(pgettext_lazy(CONTEXT, "Shipment"), lambda leg: leg.shipment),
    Column(pgettext_lazy(CONTEXT, "Leg number"), lambda leg: leg.sequence),
    Column(pgettext_lazy(CONTEXT, "Origin"), lambda leg: leg.origin),
    Column(pgettext_lazy(CONTEXT, "Destination"), lambda leg: leg.destination),
    Column(pgettext_lazy(CONTEXT, "Transport mode"), lambda leg: named(MODE_NAMES, leg.mode)),
    Column(pgettext_lazy(CONTEXT, "Vehicle category (code)"), lambda leg: leg.category),
    Column(
        pgettext_lazy(CONTEXT, "Calculation method"),
        lambda leg: named(METHOD_NAMES, leg.method) if leg.method else "",
    ),
    Column(pgettext_lazy(CONTEXT, "Data tier"), lambda leg: named(TIER_NAMES, leg.data_tier)),
    Column(pgettext_lazy(CONTEXT, "Cargo mass (t)"), lambda leg: leg.mass_t, TKM),
    Column(pgettext_lazy(CONTEXT, "Distance (km)"), lambda leg: leg.distance_km, TKM),
    *EMISSION_COLUMNS,
)

FACTOR_COLUMNS = (
    Column(pgettext_lazy(CONTEXT, "TTW factor ID"), _factor("ttw")),
    Column(pgettext_lazy(CONTEXT, "WTT factor ID"), _factor("wtt")),
    Column(pgettext_lazy(CONTEXT, "TTW factor with radiative forcing ID"), _factor("ttw_rf")),
    Column(pgettext_lazy(CONTEXT, "Fuel TTW factor ID"), _factor("fuel_ttw")),
    Column(pgettext_lazy(CONTEXT, "Fuel WTT factor ID"), _factor("fuel_wtt")),
)

# Figures of the whole order that are not sums of its legs.
ORDER_ONLY_COLUMNS = (
    Column(pgettext_lazy(CONTEXT, "Order electricity (kWh)"), lambda o: o.electricity_kwh, KG),
    Column(
        pgettext_lazy(CONTEXT, "Order Scope 2, location-based (kg CO2e)"),
        lambda o: o.scope2_location_kg,
        KG,
    ),
    Column(
        pgettext_lazy(CONTEXT, "Order Scope 2, market-based (kg CO2e)"),
        lambda o: o.scope2_market_kg,
        KG,
    ),
)

ORDER_FIGURE_COLUMNS = (
    Column(pgettext_lazy(CONTEXT, "Legs"), lambda o: len(o.legs), INTEGER),
    *EMISSION_COLUMNS,
    *ORDER_ONLY_COLUMNS,
)


def _on_row(column: Column) -> Column:
    """An order column read from a (order, leg) row."""
    return Column(column.header, lambda row: column.value(row[0]), column.number_format)


def _on_leg(column: Column) -> Column:
    return Column(column.header, _leg(column.value), column.number_format)


def _on_first_leg(column: Column) -> Column:
    """An order figure written on the order's first row only (so that a column sum is right)."""
    return Column(
        column.header,
        lambda row: column.value(row[0]) if row[2] else None,
        column.number_format,
    )


def leg_rows(inventory: Inventory) -> Iterable[LegTableRow]:
    """(order, leg, first row of the order) per leg of every counted order, in the inventory's
    order; an order without legs gives one row with leg None."""
    for line in inventory.lines:
        if not line.legs:
            yield line, None, True
        for index, leg in enumerate(line.legs):
            yield line, leg, index == 0


# --- CSV


def _csv_text(value: Any) -> Any:
    """A cell as the CSV writes it: plain decimals with a dot, ISO dates, "" for None."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def csv_columns(document: ReportDocument) -> tuple[Column, ...]:
    """The CSV's columns (translated when read inside the document's language)."""
    inventory = document.inventory
    # The same on every row: computed once (the hash is a SHA-256 over the whole inventory).
    period, data_hash = str(inventory.period), inventory.data_hash
    rule = pgettext(CONTEXT, inventory.counting_rule)
    return (
        Column(pgettext_lazy(CONTEXT, "Report ID"), lambda row: document.report_id),
        Column(pgettext_lazy(CONTEXT, "Period"), lambda row: period),
        Column(pgettext_lazy(CONTEXT, "Data hash (SHA-256)"), lambda row: data_hash),
        Column(pgettext_lazy(CONTEXT, "Counting rule"), lambda row: rule),
        *(_on_row(c) for c in ORDER_KEY_COLUMNS),
        *(_on_leg(c) for c in LEG_COLUMNS),
        *FACTOR_COLUMNS,
        *(_on_first_leg(c) for c in ORDER_ONLY_COLUMNS),
    )


def render_csv(document: ReportDocument) -> bytes:
    """The orders and legs of the report as one CSV table (see the module's docstring)."""
    with translation.override(document.language):
        columns = csv_columns(document)
        out = io.StringIO()
        writer = SafeWriter(out)
        writer.writerow([str(c.header) for c in columns])
        for row in leg_rows(document.inventory):
            writer.writerow([_csv_text(c.value(row)) for c in columns])
        return (BOM + out.getvalue()).encode("utf-8")


# --- XLSX


def _cell_value(value: Any) -> Any:
    """A value as an XLSX cell holds it: numbers and dates as they are; text neutralised and
    without the control characters XML cannot carry."""
    if isinstance(value, str):
        return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    return value


BOLD = Font(bold=True)


class Sheet:
    """Appends rows to one worksheet and sizes its columns to their contents."""

    def __init__(self, sheet: Worksheet) -> None:
        self.sheet = sheet
        self.widths: dict[int, int] = {}
        self.rows = 0

    def row(
        self, values: Sequence[Any], formats: Sequence[str | None] = (), bold: bool = False
    ) -> None:
        cells = []
        for index, value in enumerate(values):
            # Cells made here and appended: reading back a sheet's rows (max_row) per row
            # would make a 3,000-leg report quadratic.
            cell = Cell(self.sheet, value=_cell_value(value))
            fmt = formats[index] if index < len(formats) else None
            if fmt and value is not None:
                cell.number_format = fmt
            if bold:
                cell.font = BOLD
            cells.append(cell)
            width = len(str(value)) if value is not None else 0
            if width > self.widths.get(index + 1, 0):
                self.widths[index + 1] = width
        self.sheet.append(cells)
        self.rows += 1

    def blank(self) -> None:
        self.sheet.append([])
        self.rows += 1

    def table(self, columns: Sequence[Column], rows: Iterable[Any], freeze: bool = False) -> None:
        """A header row and one row per item; `freeze` (for a table on the sheet's first row)
        freezes the header and puts a filter over the table."""
        self.row([str(c.header) for c in columns], bold=True)
        formats = [c.number_format for c in columns]
        for item in rows:
            self.row([c.value(item) for c in columns], formats)
        if freeze:  # a sheet that starts with its table: keep the header in view, filter it
            self.sheet.freeze_panes = "A2"
            self.sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(self.rows, 2)}"

    def finish(self) -> None:
        for index, width in self.widths.items():
            self.sheet.column_dimensions[get_column_letter(index)].width = (
                min(max(width, 8), 60) + 2
            )


def _summary(sheet: Sheet, document: ReportDocument) -> None:
    inventory = document.inventory
    p = inventory.points
    scope2 = inventory.scope2
    first = document.as_issued

    def figures(inv: Inventory) -> list[tuple[Any, Any, str | None]]:
        return [
            (pgettext(CONTEXT, "Orders counted"), inv.orders, INTEGER),
            *((str(c.header), c.value(inv), c.number_format) for c in EMISSION_COLUMNS),
            (pgettext(CONTEXT, "WTW intensity (g CO2e/t·km)"), inv.intensity_g_per_tkm, INTENSITY),
            (pgettext(CONTEXT, "Electricity (kWh)"), inv.scope2.electricity_kwh, KG),
            (
                pgettext(CONTEXT, "Scope 2, location-based (kg CO2e)"),
                inv.scope2.location_kg,
                KG,
            ),
            (pgettext(CONTEXT, "Scope 2, market-based (kg CO2e)"), inv.scope2.market_kg, KG),
        ]

    organisation = document.organisation_name or pgettext(CONTEXT, "All customers")
    facts: list[tuple[str, Any]] = [
        (pgettext(CONTEXT, "Report ID"), document.report_id),
        (pgettext(CONTEXT, "Organisation"), organisation),
        (pgettext(CONTEXT, "Period"), str(inventory.period)),
        (pgettext(CONTEXT, "Period start"), inventory.period.start),
        (pgettext(CONTEXT, "Period end"), inventory.period.end),
        (pgettext(CONTEXT, "Issued at (UTC)"), _utc(document.issued_at).isoformat()),
        (pgettext(CONTEXT, "Counting rule"), pgettext(CONTEXT, inventory.counting_rule)),
        (pgettext(CONTEXT, "Data hash (SHA-256)"), inventory.data_hash),
        (pgettext(CONTEXT, "Method versions"), ", ".join(inventory.method_versions)),
        (pgettext(CONTEXT, "Factor datasets"), ", ".join(inventory.datasets)),
        (pgettext(CONTEXT, "Restated with current factors"), document.restated),
    ]
    for label, value in facts:
        sheet.row([label, value], [None, DATE if isinstance(value, dt.date) else None])
    sheet.blank()
    header = [pgettext(CONTEXT, "Figure"), pgettext(CONTEXT, "Value")]
    if first is not None:
        header.append(pgettext(CONTEXT, "As first issued"))
    sheet.row(header, bold=True)
    earlier = figures(first) if first is not None else None
    for index, (label, value, fmt) in enumerate(figures(inventory)):
        values = [label, value] + ([earlier[index][1]] if earlier else [])
        sheet.row(values, [None, fmt, fmt])
    sheet.row(
        [pgettext(CONTEXT, "Orders with a market-based Scope 2 figure"), scope2.orders_with_market],
        [None, INTEGER],
    )
    sheet.row(
        [
            pgettext(CONTEXT, "Orders without a market-based Scope 2 figure"),
            scope2.orders_without_market,
        ],
        [None, INTEGER],
    )
    for label, points in (
        (pgettext(CONTEXT, "Points earned"), p.earned),
        (pgettext(CONTEXT, "Points activated"), p.activated),
        (pgettext(CONTEXT, "Points redeemed"), p.redeemed),
        (pgettext(CONTEXT, "Points expired"), p.expired),
        (pgettext(CONTEXT, "Points balance at the period's end, pending"), p.balance.pending),
        (pgettext(CONTEXT, "Points balance at the period's end, available"), p.balance.available),
        (pgettext(CONTEXT, "Points balance at the period's end, held"), p.balance.held),
        (pgettext(CONTEXT, "Points balance at the period's end, total"), p.balance.total),
    ):
        sheet.row([label, points], [None, INTEGER])


def _by_mode(sheet: Sheet, document: ReportDocument) -> None:
    inventory = document.inventory
    before = {line.key: line for line in document.previous.by_mode} if document.previous else {}
    figures = (
        Column(pgettext_lazy(CONTEXT, "Legs"), lambda m: m.legs, INTEGER),
        TKM_COLUMN,
        WTW_COLUMN,
        Column(
            pgettext_lazy(CONTEXT, "WTW intensity (g CO2e/t·km)"),
            lambda m: m.intensity_g_per_tkm,
            INTENSITY,
        ),
    )
    previous = (
        (
            Column(
                pgettext_lazy(CONTEXT, "Intensity, previous period (g CO2e/t·km)"),
                lambda m: before[m.key].intensity_g_per_tkm if m.key in before else None,
                INTENSITY,
            ),
        )
        if document.previous is not None
        else ()
    )
    sheet.table(
        (
            Column(pgettext_lazy(CONTEXT, "Transport mode"), lambda m: named(MODE_NAMES, m.key)),
            *figures,
            *previous,
        ),
        inventory.by_mode,
        freeze=True,
    )
    sheet.blank()
    sheet.table(
        (Column(pgettext_lazy(CONTEXT, "Vehicle category (code)"), lambda c: c.key), *figures),
        inventory.by_vehicle_category,
    )


def _data_quality(sheet: Sheet, document: ReportDocument) -> None:
    quality = document.inventory.data_quality
    for label, value, fmt in (
        (pgettext(CONTEXT, "Legs"), quality.legs, INTEGER),
        (pgettext(CONTEXT, "Legs with missing data"), quality.legs_without_data, INTEGER),
        (pgettext(CONTEXT, "Share of t·km from primary data"), quality.primary_tkm_share, SHARE),
        (pgettext(CONTEXT, "Share of t·km from default factors"), quality.default_tkm_share, SHARE),
        (pgettext(CONTEXT, "Share of WTW from primary data"), quality.primary_wtw_share, SHARE),
        (pgettext(CONTEXT, "Share of WTW from default factors"), quality.default_wtw_share, SHARE),
    ):
        sheet.row([label, value], [None, fmt])
    sheet.blank()
    sheet.table(
        (
            Column(pgettext_lazy(CONTEXT, "Data tier"), lambda t: named(TIER_NAMES, t)),
            Column(
                pgettext_lazy(CONTEXT, "Transport activity (t·km)"),
                lambda t: quality.tkm_by_tier[t],
                TKM,
            ),
            Column(
                pgettext_lazy(CONTEXT, "WTW emissions (kg CO2e)"),
                lambda t: quality.wtw_by_tier.get(t),
                KG,
            ),
        ),
        quality.tkm_by_tier,
    )
    sheet.blank()
    sheet.table(
        (
            Column(
                pgettext_lazy(CONTEXT, "Reason for exclusion"),
                lambda r: named(EXCLUSION_NAMES, r[0]),
            ),
            Column(pgettext_lazy(CONTEXT, "Orders"), lambda r: r[1], INTEGER),
        ),
        quality.excluded_by_reason.items(),
    )
    sheet.blank()
    sheet.table(
        (
            Column(pgettext_lazy(CONTEXT, "Excluded order"), lambda o: o.external_id),
            Column(pgettext_lazy(CONTEXT, "GreenLoop order ID"), lambda o: o.order_id),
            Column(
                pgettext_lazy(CONTEXT, "Reason for exclusion"),
                lambda o: named(EXCLUSION_NAMES, str(o.reason)),
            ),
            Column(pgettext_lazy(CONTEXT, "Delivery date"), lambda o: o.delivery_date, DATE),
        ),
        quality.excluded,
    )


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment


def fixed_zip(data: bytes, moment: dt.datetime) -> bytes:
    """The zip archive `data` with every entry dated `moment` (zip keeps local time, no zone: the
    UTC moment is written), so that the same content gives the same bytes."""
    stamp = _utc(moment).timetuple()[:6]
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            target.writestr(info, source.read(entry.filename))
    return out.getvalue()


def render_xlsx(document: ReportDocument) -> bytes:
    """The report as a workbook: Summary, Orders, Legs, By mode, Data quality (see the module's
    docstring); the same document gives the same bytes."""
    with translation.override(document.language):
        inventory = document.inventory
        book = Workbook()
        moment = _utc(document.issued_at).replace(tzinfo=None)
        book.properties.created = moment
        book.properties.modified = moment
        book.properties.creator = "GreenLoop"
        book.properties.lastModifiedBy = "GreenLoop"
        book.properties.identifier = document.report_id
        book.properties.language = document.language
        book.properties.title = pgettext(CONTEXT, "Carbon report %(id)s") % {
            "id": document.report_id
        }

        summary = Sheet(book.active)
        summary.sheet.title = pgettext(CONTEXT, "Summary")
        _summary(summary, document)

        orders = Sheet(book.create_sheet(pgettext(CONTEXT, "Orders")))
        orders.table((*ORDER_KEY_COLUMNS, *ORDER_FIGURE_COLUMNS), inventory.lines, freeze=True)

        legs = Sheet(book.create_sheet(pgettext(CONTEXT, "Legs")))
        legs.table(
            (
                *(_on_row(c) for c in ORDER_KEY_COLUMNS[1:3]),
                *(_on_leg(c) for c in LEG_COLUMNS),
                *FACTOR_COLUMNS,
            ),
            ((line, leg, i == 0) for line in inventory.lines for i, leg in enumerate(line.legs)),
            freeze=True,
        )

        by_mode = Sheet(book.create_sheet(pgettext(CONTEXT, "By mode")))
        _by_mode(by_mode, document)

        quality = Sheet(book.create_sheet(pgettext(CONTEXT, "Data quality")))
        _data_quality(quality, document)

        for sheet in (summary, orders, legs, by_mode, quality):
            sheet.finish()

        out = io.BytesIO()
        # ExcelWriter directly: openpyxl's save_workbook() would stamp "modified" with the clock.
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            ExcelWriter(book, archive).save()
        return fixed_zip(out.getvalue(), document.issued_at)
