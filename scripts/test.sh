#!/usr/bin/env bash
# README command two: install what the tests need and run the whole suite.
# PostgreSQL (127.0.0.1:5432, user postgres) and Redis (127.0.0.1:6379) are used when reachable;
# without them the tests that need them are skipped with the reason (and fail under CI=true).
# Extra arguments go to pytest, e.g. scripts/test.sh tests/portal -k invitation
# scripts/test.sh --deep: only the property and race tests, searching harder (random seeds, at
# least 500 examples per property, longer ledger histories, races repeated; tests/properties.py).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --dev
if [ ! -x /usr/bin/chromium ]; then
  # Browser tests drive Debian's Chromium; no browser is downloaded from elsewhere.
  source scripts/lib.sh
  apt_install chromium fonts-noto-cjk >/dev/null || echo "Chromium could not be installed; browser tests will be skipped." >&2
fi
# Bytecode, pytest's assertion-rewritten test modules included, is cached in var/pycache
# (git-ignored), not beside the sources. Where PYTHONDONTWRITEBYTECODE is set (as in this
# machine's environment) nothing was cached: every pytest process, each worker included,
# compiled some 3,000 modules and rewrote every test module again, 15 of the 25 s of CPU one
# process spent collecting the suite.
export PYTHONPYCACHEPREFIX="${PYTHONPYCACHEPREFIX:-$PWD/var/pycache}"
unset PYTHONDONTWRITEBYTECODE
if [ "${1:-}" = "--deep" ]; then
  shift
  export GREENLOOP_DEEP=1 GREENLOOP_RACE_REPEATS="${GREENLOOP_RACE_REPEATS:-20}"
  set -- -m "hypothesis or race" "$@"
fi
# The whole suite (no arguments, or only xdist's -n/--numprocesses) also measures branch coverage
# and enforces the floors in scripts/coverage_floor.py; pytest-cov combines xdist workers' data.
whole=1
for arg in "$@"; do
  case "$arg" in -n|-n[0-9]*|--numprocesses|--numprocesses=*|[0-9]*|auto|logical) ;; *) whole=0 ;; esac
done
# The whole suite (no arguments) runs on two worker processes (pytest-xdist), each with its own
# database, Redis key prefix and upload directory; GREENLOOP_TEST_WORKERS=0 runs one process.
workers=()
if [ $# -eq 0 ] && [ "${GREENLOOP_TEST_WORKERS:-2}" != "0" ]; then
  # worksteal: a worker that runs out of tests takes queued ones from the other, so a few slow
  # tests (the API fuzz, the browser pages) do not leave one worker running alone at the end.
  workers=(-n "${GREENLOOP_TEST_WORKERS:-2}" --dist worksteal)
fi
if [ $whole -eq 0 ]; then
  exec .venv/bin/python -m pytest "$@"
fi
rm -f .coverage .coverage.*
rc=0
.venv/bin/python -m pytest "${workers[@]}" --cov --cov-report=term-missing:skip-covered --cov-report=html "$@" || rc=$?
floor=0
.venv/bin/python scripts/coverage_floor.py || floor=$?
echo "HTML coverage report: var/coverage-html/index.html"
[ $rc -ne 0 ] && exit $rc
exit $floor
