#!/usr/bin/env bash
# README command one: install, migrate, load the demo data and serve http://127.0.0.1:8000
# on the embedded defaults (SQLite in var/, eager Celery, local files, console e-mail in a short
# form: portal/demo_mail.py). `scripts/demo.sh --setup-only` stops before serving (CI uses it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
export DJANGO_SETTINGS_MODULE=portal.settings.dev
echo "Preparing the database (the first run takes a minute or two)..."
.venv/bin/python manage.py migrate --noinput -v 0
.venv/bin/python manage.py seed_demo
[ "${1:-}" = "--setup-only" ] && exit 0
ADDRESS=http://127.0.0.1:8000
# The address comes last: printed once the server answers, below its own start-up lines.
.venv/bin/python - "$ADDRESS" <<'PY' &
import sys, time, urllib.request
for _ in range(180):
    try:
        urllib.request.urlopen(sys.argv[1] + "/", timeout=2)
    except Exception:
        time.sleep(1)
        continue
    print(f"\nGreenLoop is at {sys.argv[1]} (logins in README.md). Ctrl-C stops it.\n", flush=True)
    break
PY
exec .venv/bin/python manage.py runserver 127.0.0.1:8000
