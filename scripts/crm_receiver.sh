#!/usr/bin/env bash
# The demo's stand-in CRM: a local webhook receiver on http://127.0.0.1:9000/hook that verifies
# each request's Standard Webhooks signature (the seeded "Demo CRM receiver" endpoint's secret)
# and prints the events that arrive. Activate that endpoint in the admin (Customers > CRM
# endpoints) to watch events flow. Extra arguments go to `manage.py crm_receiver`.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-portal.settings.dev}"
exec .venv/bin/python manage.py crm_receiver --port 9000 "$@"
