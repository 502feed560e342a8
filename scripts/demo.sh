#!/usr/bin/env bash
# Set up, then run the live demo center: the server (API, pages, routing engine) on
# http://127.0.0.1:8000 with demo users, and simulated customers and agents working
# through its API. Ctrl-C stops it. Extra arguments go to `callcenter demo`
# (e.g. --port 8080 --agents 10 --duration 10m).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
# the API docs (/docs, for signed-in users) are off by default; the demo shows them
export CALLCENTER_API_DOCS="${CALLCENTER_API_DOCS:-true}"
exec .venv/bin/callcenter demo "$@"
