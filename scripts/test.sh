#!/usr/bin/env bash
# Set up and run every check CI runs: lint, format, types, the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# Real audio for the speech tests: synthesis, conversion, recorded prompts, hold music.
# A real PostgreSQL and a real browser for the live-server tests (tests/support): the
# fixtures start their own throw-away cluster (the `main` cluster that Debian's package
# creates, and may start on 5432, is not used) and drive Debian's Chromium with
# Playwright (no browser download).
test_pkgs=(sox espeak-ng asterisk-core-sounds-en-wav asterisk-core-sounds-ru-wav asterisk-moh-opsound-wav
  postgresql chromium)
missing=()
for p in "${test_pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing test packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The telephony engine for the voice tests: the pinned Asterisk, built once per machine
# (about 5 minutes on 2 cores; cached after that). A failed build stops CI here.
bash scripts/asterisk.sh
bash scripts/bootstrap.sh
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy
.venv/bin/python -m pytest -n 2 "$@"
