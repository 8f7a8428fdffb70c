# ruff: noqa: T201, S603 (a command-line report that runs mutmut with fixed arguments)
"""Mutation testing (mutmut 3) of the rules that guard tenants and money (scripts/mutation.sh).

Each module below is mutated on its own, in var/mutation/<module>/, judged only by its own fixed
test selection, so a mutant takes seconds. mutmut reads its settings from pyproject.toml in its
working directory, so each work directory gets the project's pyproject.toml plus a [tool.mutmut]
section written here, and symlinks to the code and tests (mutmut copies them into mutants/).

--sample runs a fixed, deterministic sample (SAMPLE_SIZE mutants per module, spread evenly over
its mutants in a fixed order) in one mutmut run over the union of the modules' test selections
(one database set-up), and fails when one of them survives. Equivalent mutants (no test can
tell them from the original) are listed with a reason in scripts/mutation_equivalent.txt.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "mutation"
EQUIVALENT_FILE = ROOT / "scripts" / "mutation_equivalent.txt"
LINKED = ["portal", "carbon", "community", "beta_program", "tests", "fixtures", "manage.py"]
# Mutants per module in --sample mode (CI): about three minutes in all on the shared 2-core
# machine, most of it migrating the test database and mapping tests to functions.
SAMPLE_SIZE = 3
# Another clone on the same PostgreSQL (each helper's) sets its own, since a run drops the database.
DB_NAME = os.environ.get("GREENLOOP_MUTATION_DB_NAME", "test_greenloop_mutation")


@dataclass(frozen=True)
class Module:
    name: str
    files: list[str]
    # mutmut mutant names (fnmatch): only the functions that guard tenants or money.
    patterns: list[str]
    tests: list[str]
    # --sample: a narrower test selection where the full one is slow (default: the same).
    sample_tests: list[str] | None = None


MODULES = [
    Module(
        "permissions",
        ["portal/permissions.py"],
        ["portal.permissions.*"],
        [
            "tests/portal/test_permissions_rules.py",
            "tests/portal/test_memberships.py",
        ],
    ),
    Module(
        "scoped-querysets",
        [
            "portal/models/organisations.py",
            "portal/models/audit.py",
            "carbon/models/datasets.py",
            "carbon/models/orders.py",
            "carbon/models/declarations.py",
            "carbon/models/imports.py",
            "carbon/models/points.py",
            "carbon/models/redemptions.py",
            "community/models.py",
            "portal/access.py",
        ],
        [
            "portal.models.organisations.*QuerySet*for_user__mutmut_*",
            "portal.models.audit.*QuerySet*for_user__mutmut_*",
            "carbon.models.*QuerySet*for_user__mutmut_*",
            "community.models.*QuerySet*visible_to*__mutmut_*",
            "portal.access.*",
        ],
        [
            "tests/portal/test_scoped_querysets.py",
            "tests/carbon/test_scoped_querysets.py",
            "tests/community/test_scoped_querysets.py",
            "tests/carbon/test_cross_tenant_audit.py",
            "tests/community/test_spaces.py",
        ],
    ),
    Module(
        "points-ledger",
        [
            "carbon/points/ledger.py",
            "carbon/points/awards.py",
            "carbon/points/policies.py",
            "carbon/points/actions.py",
        ],
        [
            "carbon.points.ledger.*",
            "carbon.points.awards.*",
            "carbon.points.policies.*",
            "carbon.points.actions.*",
        ],
        [
            "tests/carbon/test_points_ledger.py",
            "tests/carbon/test_points_lots.py",
            "tests/carbon/test_points_refusals.py",
            # settle_order, unsettled_orders and record_expiry_reminders (no race tests: the
            # reused database cannot take a transactional test).
            "tests/carbon/test_points_subscribers.py",
            "tests/carbon/test_expiry_reminders.py",
            "tests/carbon/test_ledger_survivors.py",
            # The redemption actions (carbon/points/actions.py) are pinned by these.
            "tests/carbon/test_redemptions.py",
            "tests/carbon/test_redemption_decisions.py",
            "tests/carbon/test_redemption_survivors.py",
            # reverse_green_power_rewards: the revoker and the key on the entry it writes.
            "tests/carbon/test_green_power_revocation.py",
        ],
        # CI's sample: the two files that pin the ledger's contract, not the slower neighbours,
        # and the green-power revocation, the only tests of reverse_green_power_rewards (a
        # sample that falls on it would otherwise find no test to run).
        sample_tests=[
            "tests/carbon/test_points_ledger.py",
            "tests/carbon/test_ledger_survivors.py",
            "tests/carbon/test_green_power_revocation.py",
        ],
    ),
    Module(
        "redemptions",
        ["carbon/points/redemptions.py"],
        ["carbon.points.redemptions.*"],
        [
            "tests/carbon/test_redemptions.py",
            "tests/carbon/test_redemption_offers.py",
            "tests/carbon/test_redemption_decisions.py",
            "tests/carbon/test_redemption_survivors.py",
            "tests/carbon/test_points_refusals.py",
        ],
    ),
    Module(
        "idempotency",
        # The key handling. The API operation that applies it (carbon/points/api_redemptions.py)
        # is a decorated function, which mutmut does not mutate; test_points_api.py pins its
        # contract.
        ["portal/idempotency.py"],
        ["portal.idempotency.*"],
        ["tests/portal/test_idempotency.py", "tests/carbon/test_points_api.py"],
        sample_tests=["tests/portal/test_idempotency.py"],
    ),
]

# mutmut's exit codes per mutant (mutmut/stats.py): 1 and 3 are kills, timeouts count as kills.
KILLED = {1, 3, 36, -24, 24, 152, 255}
STATUS = {0: "survived", 33: "no tests", 5: "no tests", 34: "skipped", 35: "suspicious"}


def equivalent_mutants() -> dict[str, str]:
    """name -> reason, from scripts/mutation_equivalent.txt (`name  # reason` per line)."""
    found: dict[str, str] = {}
    for line in EQUIVALENT_FILE.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, _, reason = line.partition("#")
        if not reason.strip():
            sys.exit(f"{EQUIVALENT_FILE}: {name.strip()} has no reason")
        found[name.strip()] = reason.strip()
    return found


def prepare(name: str, files: list[str], tests: list[str]) -> Path:
    """A fresh work directory: links to the code and tests, and the mutmut settings."""
    work = WORK / name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        link = work / name
        if not link.is_symlink():
            link.symlink_to(ROOT / name)
    config = "\n".join(
        [
            "",
            "[tool.mutmut]",
            'source_paths = ["portal", "carbon", "community", "beta_program"]',
            'also_copy = ["manage.py", "fixtures"]',
            f"only_mutate = {json.dumps(files)}",
            # One database, kept between mutants (migrating anew would cost a minute each). So no
            # transactional test may run: it would empty the tables that migrations filled (the
            # race tests are the only ones in these selections).
            "pytest_add_cli_args = "
            '["-p", "no:cacheprovider", "--reuse-db", "-x", "-q", "-m", "not race"]',
            f"pytest_add_cli_args_test_selection = {json.dumps(tests)}",
            "",
        ]
    )
    (work / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text() + config)
    return work


def drop_test_database() -> None:
    """Start each run from a freshly migrated database (the first pytest session creates it)."""
    import psycopg

    url = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/greenloop")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def mutant_number(name: str) -> int:
    return int(re.search(r"__mutmut_(\d+)$", name).group(1))


def all_mutants(work: Path, module: Module) -> dict[str, int | None]:
    """Every mutant of the module's patterns -> mutmut's exit code (None: not run)."""
    codes: dict[str, int | None] = {}
    for path in module.files:
        meta = work / "mutants" / (path + ".meta")
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if any(fnmatch.fnmatch(name, p) for p in module.patterns):
                codes[name] = code
    return codes


def generate(work: Path) -> None:
    """Write the mutants (and their names, in mutants/**/*.meta) without running any test."""
    code = (
        "import os; from mutmut.__main__ import set_mutant_under_test, create_mutants;"
        "from mutmut.utils.file_utils import copy_src_dir, copy_also_copy_files;"
        "os.makedirs('mutants', exist_ok=True); set_mutant_under_test('mutant_generation');"
        "copy_src_dir(); copy_also_copy_files(); create_mutants(1)"
    )
    subprocess.run([sys.executable, "-c", code], cwd=work, check=True, capture_output=True)


def mutmut(work: Path, *args: str) -> None:
    env = {
        **os.environ,
        # Every mutant of every module reuses one test database and Redis prefix of its own.
        "GREENLOOP_TEST_DB_NAME": DB_NAME,
        "GREENLOOP_TEST_CACHE_PREFIX": DB_NAME.replace("_", "-"),
        "CI": "",
    }
    log = work / "mutmut.log"
    with log.open("a") as out:
        result = subprocess.run(
            [sys.executable, "-m", "mutmut", *args], cwd=work, env=env, stdout=out, stderr=out
        )
    if result.returncode != 0:
        print(f"mutmut {' '.join(args[:2])} failed (exit {result.returncode}); see {log}")
        print("".join(log.read_text().splitlines(keepends=True)[-30:]))
        sys.exit(2)


def report(module: Module, codes: dict[str, int | None], equivalent: dict[str, str]) -> bool:
    killed = [n for n, c in codes.items() if c in KILLED]
    allowed = [n for n, c in codes.items() if c not in KILLED and n in equivalent]
    alive = sorted(n for n, c in codes.items() if c not in KILLED and n not in equivalent)
    print(
        f"{module.name:17} killed {len(killed)}/{len(codes)}"
        f"  equivalent (allow-listed) {len(allowed)}  not killed {len(alive)}"
        f"  {'PASS' if not alive else 'FAIL'}"
    )
    for name in alive:
        print(f"    {STATUS.get(codes[name], str(codes[name]))}: {name}")
    return not alive


def sample_of(names: list[str], equivalent: dict[str, str]) -> list[str]:
    """SAMPLE_SIZE mutants spread evenly over the module's mutants in a fixed order (function,
    then mutant number): the same source always gives the same sample."""
    ordered = sorted(
        (n for n in names if n not in equivalent),
        key=lambda n: (n.rsplit("__mutmut_", 1)[0], mutant_number(n)),
    )
    if len(ordered) <= SAMPLE_SIZE:
        return ordered
    return [ordered[i * len(ordered) // SAMPLE_SIZE] for i in range(SAMPLE_SIZE)]


def report_only(module: Module, equivalent: dict[str, str]) -> bool:
    work = WORK / module.name
    if not (work / "mutants").exists():
        print(f"{module.name:17} not run")
        return False
    codes = all_mutants(work, module)
    tried = {n: c for n, c in codes.items() if c is not None}
    if not tried:
        print(f"{module.name:17} no mutant tried yet")
        return False
    if len(tried) < len(codes):
        print(f"{module.name:17} stopped part-way: {len(tried)} of {len(codes)} mutants tried")
    return report(module, tried, equivalent)


def run_full(modules: list[Module], equivalent: dict[str, str]) -> bool:
    """Each module in its own work directory with its own test selection."""
    results = []
    for module in modules:
        started = time.monotonic()
        work = prepare(module.name, module.files, module.tests)
        mutmut(work, "run", "--max-children", "1", *module.patterns)
        results.append(report(module, all_mutants(work, module), equivalent))
        print(f"{'':17} {time.monotonic() - started:.0f}s")
    return all(results)


def run_sample(modules: list[Module], equivalent: dict[str, str]) -> bool:
    """One mutmut run over all modules (one test database set-up, one pass to map tests to
    functions), on SAMPLE_SIZE mutants per module."""
    files = [f for m in modules for f in m.files]
    tests = list(dict.fromkeys(t for m in modules for t in (m.sample_tests or m.tests)))
    work = prepare("sample", files, tests)
    generate(work)
    chosen = {m.name: sample_of(list(all_mutants(work, m)), equivalent) for m in modules}
    mutmut(work, "run", "--max-children", "1", *[n for names in chosen.values() for n in names])
    results = []
    for module in modules:
        codes = all_mutants(work, module)
        results.append(report(module, {n: codes[n] for n in chosen[module.name]}, equivalent))
    return all(results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sample", action="store_true", help="fixed sample of mutants (CI)")
    parser.add_argument(
        "--report",
        action="store_true",
        help="only print the results of the last full run (also of one stopped part-way)",
    )
    parser.add_argument("modules", nargs="*", help="module names (default: all)")
    args = parser.parse_args()
    chosen = [m for m in MODULES if not args.modules or m.name in args.modules]
    unknown = set(args.modules) - {m.name for m in MODULES}
    if unknown:
        print(
            f"unknown module(s): {', '.join(sorted(unknown))}; known: {[m.name for m in MODULES]}"
        )
        return 2
    equivalent = equivalent_mutants()
    if args.report:
        return 0 if all(report_only(m, equivalent) for m in chosen) else 1
    started = time.monotonic()
    drop_test_database()
    passed = run_sample(chosen, equivalent) if args.sample else run_full(chosen, equivalent)
    elapsed = time.monotonic() - started
    mode = "mutation sample" if args.sample else "mutation"
    print(f"{mode} {'PASS' if passed else 'FAIL'} ({elapsed:.0f}s)")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
