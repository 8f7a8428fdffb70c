#!/usr/bin/env python3
"""Enforce the coverage floors (issue #11 item 4) on the data of a finished test run.

scripts/test.sh runs the whole suite under pytest-cov (which combines the data of xdist
workers into one `.coverage` file) and then this script, which prints every floor, the measured
figure and PASS or FAIL, and exits 1 when any floor fails.

- Overall: coverage's total with `branch = true`, i.e. covered (lines + branch destinations) over
  all (lines + branch destinations), the figure `coverage report` prints on its TOTAL line.
  Pure branch coverage is printed beside it for information.
- 100% line coverage for the rules that guard tenants and money: the permission layer, the audit
  signal receivers, the points ledger (entries and lots), its policies and redemptions, and the
  points wing's actions.

Usage: scripts/coverage_floor.py [DATA_FILE]   (default: .coverage in the repository root)
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import coverage

ROOT = Path(__file__).resolve().parent.parent

OVERALL_FLOOR = 93.0
# Files that must have every line run by the suite (paths relative to the repository root).
FULL_LINE_COVERAGE = (
    "portal/permissions.py",
    "portal/signals.py",
    "carbon/points/ledger.py",
    "carbon/points/awards.py",
    "carbon/points/policies.py",
    "carbon/points/lots.py",
    "carbon/points/redemptions.py",
    "carbon/points/actions.py",
)


def _percent(covered: int, total: int) -> float:
    return 100.0 * covered / total if total else 100.0


def check(data_file: Path) -> list[tuple[str, str, str, bool]]:
    """Return (floor, figure, detail, passed) per floor."""
    cov = coverage.Coverage(data_file=str(data_file), config_file=str(ROOT / "pyproject.toml"))
    cov.load()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "coverage.json"
        cov.json_report(outfile=str(out))
        report = json.loads(out.read_text())

    totals = report["totals"]
    results = []
    branches = _percent(totals["covered_branches"], totals["num_branches"])
    results.append(
        (
            f"overall, lines + branches >= {OVERALL_FLOOR:g}%",
            f"{totals['percent_covered']:.2f}%",
            f"branches alone {branches:.2f}% "
            f"({totals['covered_branches']}/{totals['num_branches']}), "
            f"lines {totals['covered_lines']}/{totals['num_statements']}",
            totals["percent_covered"] >= OVERALL_FLOOR,
        )
    )

    files = {
        str(Path(name).resolve().relative_to(ROOT)): data for name, data in report["files"].items()
    }
    for name in FULL_LINE_COVERAGE:
        data = files.get(name)
        if data is None:
            # Not measured at all: the floor cannot pass on missing data.
            results.append((f"{name} lines = 100%", "no data", "", False))
            continue
        summary = data["summary"]
        missing = data["missing_lines"]
        results.append(
            (
                f"{name} lines = 100%",
                f"{_percent(summary['covered_lines'], summary['num_statements']):.2f}%",
                f"missing lines {missing}" if missing else "",
                not missing,
            )
        )
    return results


def main(argv: list[str]) -> int:
    data_file = Path(argv[1]) if len(argv) > 1 else ROOT / ".coverage"
    if not data_file.exists():
        print(f"coverage floor: no coverage data at {data_file}", file=sys.stderr)
        return 1
    results = check(data_file)
    print("\ncoverage floors")
    for floor, figure, detail, passed in results:
        line = f"  {'PASS' if passed else 'FAIL'}  {floor:<40} {figure:>8}"
        print(f"{line}  {detail}" if detail else line)
    failed = [floor for floor, _, _, passed in results if not passed]
    if failed:
        print(f"coverage floor FAILED: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
