#!/usr/bin/env bash
# Mutation testing (mutmut) of the rules that guard tenants and money: portal/permissions.py, the
# organisation-scoped querysets and loaders, the points ledger, redemptions and Idempotency-Key
# handling. Each module is judged by its own fixed test selection (scripts/mutation.py).
#   scripts/mutation.sh                  every mutant of every module (long; see README)
#   scripts/mutation.sh permissions      every mutant of the named module(s)
#   scripts/mutation.sh --sample         a fixed sample per module, for CI (about three minutes here)
# Prints killed/total per module and PASS/FAIL; exits 1 when a mutant outside
# scripts/mutation_equivalent.txt survives. Needs PostgreSQL and Redis like the test suite.
# One mutant at a time (--max-children 1): the machine is shared.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh --dev
exec .venv/bin/python scripts/mutation.py "$@"
