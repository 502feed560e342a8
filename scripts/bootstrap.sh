#!/usr/bin/env bash
# Install what a fresh Debian 12 machine lacks, then create .venv with the project.
# Idempotent: re-running only reinstalls the project (recompiling what changed).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v python3 >/dev/null || need+=(python3)
python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
[ -f "$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["include"])' 2>/dev/null)/Python.h" ] \
  || need+=(python3-dev)
command -v gcc >/dev/null || need+=(gcc)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing system packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi
# Editable install; setup.py compiles the routing engine and simulator with mypyc.
.venv/bin/python -m pip install -q -e ".[dev]"

# The browser libraries' npm packages (web-src/, pinned by its lock file): installed once
# so that `make js` and the offline rebuild test (tests/voice/test_softphone_bundle.py)
# find them in npm's cache. Optional: the bundle itself is committed.
if command -v npm >/dev/null; then
  (cd web-src && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
    || echo "bootstrap: npm ci in web-src failed; make js will need npm's registry" >&2
fi
