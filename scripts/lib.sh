# Shell helpers shared by the scripts in this folder (sourced, not run).

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }
apt_install() {
  command -v apt-get >/dev/null || return 1
  if [ ! -f /var/lib/apt/periodic/greenloop-updated ]; then
    as_root apt-get update -qq && as_root mkdir -p /var/lib/apt/periodic && as_root touch /var/lib/apt/periodic/greenloop-updated
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

find_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "GreenLoop needs Python 3.11 or newer on PATH (or set PYTHON=/path/to/python3.11)." >&2
  return 1
}
