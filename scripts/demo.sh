#!/usr/bin/env bash
# README command one: install, migrate, load the demo data and serve http://127.0.0.1:8000
# on the embedded defaults (SQLite in var/, eager Celery, local files, console e-mail).
# `scripts/demo.sh --setup-only` stops before serving (CI uses it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export DJANGO_SETTINGS_MODULE=portal.settings.dev
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py seed_demo
[ "${1:-}" = "--setup-only" ] && exit 0
echo "GreenLoop is at http://127.0.0.1:8000 (logins in README.md). Ctrl-C stops it."
exec .venv/bin/python manage.py runserver 127.0.0.1:8000
