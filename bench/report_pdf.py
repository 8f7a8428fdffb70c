"""Benchmark: the yearly PDF report of an organisation with 1,000 delivered orders (3,000 legs).

Builds the report document in memory (no database: `build_inventory` over synthetic rows, see
`carbon/reports/specimen.py`), then renders it in English and in Chinese, each in a fresh
process, and prints the seconds `render_pdf` took and the peak resident memory of that process
(`ru_maxrss`, Django and the fonts included), with the CPU seconds beside the wall-clock ones
(on a busy machine the wall clock also counts the time other processes had the cores). Beside
them, in the same run on the same machine, the naive layout: the same 1,000 orders as one plain
WeasyPrint <table> (automatic layout, cell borders, nothing else on the page), and the same
table alone laid out as the report lays it out (like for like).
Targets: <= 10 s and <= 500 MB per report.

    .venv/bin/python bench/report_pdf.py [--orders 1000] [--out /tmp]
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.test")

TARGET_SECONDS = 10.0
TARGET_MB = 500.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cells(document) -> list[tuple[str, ...]]:
    return [
        (
            line.external_id,
            line.delivery_date.isoformat(),
            line.site,
            " > ".join(leg.mode for leg in line.legs),
            f"{line.tkm:,.1f}",
            f"{line.wtw_kg:,.1f}",
        )
        for line in document.inventory.lines
    ]


HEAD = "".join(f"<th>{name}</th>" for name in ("Order", "Delivered", "Site", "Legs", "t·km", "WTW"))


def chunked_html(document, stylesheet: str, per_page: int) -> str:
    """The same orders table laid out as the report lays it out (one fixed-layout table per page,
    the report's stylesheet), without the rest of the report: like for like with the naive one."""
    rows = _cells(document)
    tables = "".join(
        '<table class="rows orders"><thead><tr>'
        + HEAD
        + "</tr></thead><tbody>"
        + "".join(
            "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
            for row in rows[start : start + per_page]
        )
        + "</tbody></table>"
        for start in range(0, len(rows), per_page)
    )
    return f"<html><head><style>{stylesheet}</style></head><body>{tables}</body></html>"


def naive_html(document) -> str:
    """The orders of `document` as one plain table: what a first template would write."""
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
        for row in _cells(document)
    )
    return (
        "<html><head><style>@page { size: A4; margin: 20mm 15mm }"
        " table { width: 100%; border-collapse: collapse; font-size: 7pt }"
        " td, th { border-bottom: 0.4pt solid #bbb; padding: 0.6mm 1mm; text-align: left }"
        f"</style></head><body><table><thead><tr>{HEAD}</tr></thead><tbody>{rows}</tbody>"
        "</table></body></html>"
    )


def child(kind: str, orders: int, out: Path) -> None:
    """Render one report (or the naive table) and print its figures as one JSON line."""
    import django

    django.setup()
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    from weasyprint import HTML

    from carbon.reports.pdf import ORDER_ROWS_PER_PAGE, STYLESHEET, render_pdf
    from carbon.reports.specimen import specimen_document

    language = "zh-hans" if kind == "zh-hans" else "en"
    name = "上海绿环物流有限公司" if language == "zh-hans" else "Acme Ltd"
    document = specimen_document(orders, language, name)
    started = time.perf_counter()
    cpu = cpu_seconds()
    if kind == "naive":
        data = HTML(string=naive_html(document)).write_pdf()
    elif kind == "chunked":
        page = chunked_html(document, STYLESHEET.read_text(encoding="utf-8"), ORDER_ROWS_PER_PAGE)
        data = HTML(string=page).write_pdf()
    else:
        data = render_pdf(document)
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu
    (out / f"report-{kind}.pdf").write_bytes(data)
    legs = sum(len(line.legs) for line in document.inventory.lines)
    result = {
        "kind": kind,
        "orders": document.inventory.orders,
        "legs": legs,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "peak_mb": round(peak_mb(), 1),
        "bytes": len(data),
    }
    print(json.dumps(result))


def run(kind: str, orders: int, out: Path) -> dict:
    answer = subprocess.run(  # noqa: S603 - this very script, with arguments it parsed
        [sys.executable, __file__, "--child", kind, "--orders", str(orders), "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(answer.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path("/tmp"))  # noqa: S108 - where the PDFs go
    parser.add_argument("--child", choices=("en", "zh-hans", "naive", "chunked"))
    args = parser.parse_args()
    if args.child:
        child(args.child, args.orders, args.out)
        return
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    failed = False
    for kind in ("en", "zh-hans", "naive", "chunked"):
        result = run(kind, args.orders, args.out)
        if kind == "naive":
            verdict = "(reference: the orders table alone, one plain <table>)"
        elif kind == "chunked":
            verdict = "(the same orders table alone, laid out as the report does)"
        else:
            ok = result["seconds"] <= TARGET_SECONDS and result["peak_mb"] <= TARGET_MB
            failed |= not ok
            verdict = "PASS" if ok else "FAIL"
        print(
            f"{kind:8} {result['orders']:,} orders / {result['legs']:,} legs: "
            f"{result['seconds']:.2f} s ({result['cpu_seconds']:.2f} s CPU), "
            f"peak RSS {result['peak_mb']:.0f} MB, "
            f"{result['bytes'] / 1024:.0f} KiB {verdict}"
        )
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    print(f"targets: <= {TARGET_SECONDS:.0f} s and <= {TARGET_MB:.0f} MB per report")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
