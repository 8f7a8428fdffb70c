#!/usr/bin/env bash
# Shared by demo.sh and test.sh: make .venv with the locked dependencies. Safe to run repeatedly.
# Usage: scripts/bootstrap.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION="0.13.9"

source scripts/lib.sh

if [ ! -x .venv/bin/python ]; then
  PY=$(find_python)
  if ! "$PY" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    echo "Installing python3-venv with apt ..." >&2
    apt_install python3-venv || { echo "Could not create a virtualenv; install python3-venv." >&2; exit 1; }
    "$PY" -m venv .venv
  fi
fi

if ! .venv/bin/python -m uv --version 2>/dev/null | grep -q "$UV_VERSION"; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi

groups=(--no-dev)
[ "${1:-}" = "--dev" ] && groups=()
# --frozen installs uv.lock as it is; CI sets GREENLOOP_UV_LOCKED=1 for --locked, which also
# fails when uv.lock no longer matches pyproject.toml (a dependency added without `uv lock`).
lock_mode=--frozen
[ "${GREENLOOP_UV_LOCKED:-0}" = "1" ] && lock_mode=--locked
# --inexact keeps uv itself, which lives in the same environment.
UV_PROJECT_ENVIRONMENT=.venv .venv/bin/python -m uv sync "$lock_mode" --inexact --quiet "${groups[@]}"

# PDF reports: WeasyPrint needs Pango (with HarfBuzz's subsetter, so that fonts are embedded as
# subsets), and the report's fonts must be on disk (DejaVu Sans; Noto Sans CJK for Chinese), loaded
# through @font-face from local files, never fetched.
if ! .venv/bin/python -c "import weasyprint" 2>/dev/null ||
   [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || ! fc-list 2>/dev/null | grep -q "Noto Sans CJK"; then
  echo "Installing Pango and the DejaVu and Noto CJK fonts with apt (PDF reports) ..." >&2
  apt_install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig fonts-dejavu-core \
    fonts-noto-cjk >/dev/null || echo "Could not install Pango or the fonts; PDF reports will fail to render." >&2
fi
