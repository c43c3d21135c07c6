#!/usr/bin/env bash
# Setting up the test toolchain (requirements-dev.txt with constraints.txt) into a fresh virtualenv:
# pip as .ci/setup ran it before, against uv as it runs it now, pair by pair with farm-bench. Both read
# warm caches (run `bash .ci/setup dev` once first); pip then compiles with compileall as it did.
#   bash bench/setup.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
uv="${AIRFLOW_STACK_CACHE:-/var/cache/airflow-stack}/bin/uv-$(sed -n "s/^UV_VERSION=//p" .ci/setup)"
site="lib/python3.11/site-packages"
pip_setup="rm -rf $work/pip && python3 -m venv $work/pip && $work/pip/bin/python -m pip install --quiet \
--disable-pip-version-check --no-compile -r requirements-dev.txt -c constraints.txt && \
($work/pip/bin/python -m compileall -q -j 0 $work/pip/$site >/dev/null || true)"
uv_setup="rm -rf $work/uv && python3 -m venv $work/uv && $uv pip install --quiet --python $work/uv/bin/python \
--compile-bytecode -r requirements-dev.txt -c constraints.txt"
farm-bench -n "$runs" --warmup 0 --timeout 3600 --vs "sh -c '$pip_setup'" -- sh -c "$uv_setup"
