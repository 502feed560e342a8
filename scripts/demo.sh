#!/usr/bin/env bash
# Set up, simulate a day of the example help desk, and print its KPIs against benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
mkdir -p out
.venv/bin/callcenter simulate examples/helpdesk.yaml --out out/helpdesk.jsonl
.venv/bin/callcenter kpi out/helpdesk.jsonl --by queue
