#!/usr/bin/env bash
# The whole suite with both cores busy: stress-ng (Debian's package, installed here if missing) keeps
# every core at 100% while pytest runs, so a test whose verdict depends on the machine's speed fails
# here first. Prints pytest's summary and the wall time; stress-ng is stopped on exit, failure included.
#   bash bench/suite_under_load.sh [PYTEST ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v stress-ng >/dev/null; then
  sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q stress-ng >/dev/null
fi
stress-ng --cpu "$(nproc)" --quiet &
hog=$!
trap 'kill "$hog" 2>/dev/null || true; wait "$hog" 2>/dev/null || true' EXIT
started=$(date +%s)
status=0
PULUMI_CLI="${AIRFLOW_STACK_CACHE:-/var/cache/airflow-stack}/bin/pulumi" .venv-dev/bin/python -m pytest -rfE "$@" || status=$?
echo "suite beside stress-ng --cpu $(nproc): $(( $(date +%s) - started )) s, pytest exit $status"
exit "$status"
