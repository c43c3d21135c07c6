#!/usr/bin/env bash
# A render of prod (python -m tooling.offline.render) against `helm template` of the same chart with the
# values that render wrote, pair by pair with farm-bench: what a reviewer waits for, beside the tool it
# stands beside. Twice: as Python runs by default (it writes the bytecode of the project's own modules
# once, here into a prefix outside the clone), then under PYTHONDONTWRITEBYTECODE=1 (as on CI machines),
# where a render reads the bytecode .ci/setup wrote (a module edited since is compiled on every render).
#   bash bench/render_vs_helm.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv-dev/bin/python -m tooling.offline.render --stack prod --out "$work/render" >/dev/null
.venv-dev/bin/python -c "import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); yaml.safe_dump(d['values'], open(sys.argv[2], 'w'))" \
  "$work/render/releases/airflow.yaml" "$work/values.yaml"
helm=$(.venv-dev/bin/python -c 'from tooling.helm import helm_binary; print(helm_binary())')
chart=$(.venv-dev/bin/python -c 'from tooling.helm import chart_path; print(chart_path())')
echo "== Python writes bytecode (its default; the prefix keeps the clone clean)"
env -u PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX="$work/pycache" \
  farm-bench -n "$runs" --timeout 600 --vs "$helm template airflow $chart -f $work/values.yaml" -- \
  .venv-dev/bin/python -m tooling.offline.render --stack prod --out "$work/again"
echo "== PYTHONDONTWRITEBYTECODE=1"
PYTHONDONTWRITEBYTECODE=1 \
  farm-bench -n "$runs" --timeout 600 --vs "$helm template airflow $chart -f $work/values.yaml" -- \
  .venv-dev/bin/python -m tooling.offline.render --stack prod --out "$work/again"
