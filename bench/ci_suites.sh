#!/usr/bin/env bash
# The suite and the fork trial as .ci/run ran them (one after the other) and as it runs them now (side by
# side), in one run on this machine: wall time of each way, and the CPU time the pair used. Run it on a
# tree nobody edits meanwhile (a clone): the suite reads the working tree.
#   bash bench/ci_suites.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PULUMI_CLI="${AIRFLOW_STACK_CACHE:-/var/cache/airflow-stack}/bin/pulumi"
suite() { .venv-dev/bin/python -m pytest -p no:cacheprovider >/dev/null 2>&1 || echo "suite: exit $?"; }
fork() { .venv-dev/bin/python -m tooling.fork_trial -q -p no:cacheprovider >/dev/null 2>&1 || echo "fork trial: exit $?"; }
cpu() { awk '{print $14 + $15 + $16 + $17}' /proc/$$/stat; }  # utime+stime+cutime+cstime, in ticks
ticks=$(getconf CLK_TCK)

started=$(date +%s); before=$(cpu)
suite; fork
echo "one after the other: $(( $(date +%s) - started )) s wall, $(( ($(cpu) - before) / ticks )) s CPU"

started=$(date +%s); before=$(cpu)
fork & trial=$!
suite; wait "$trial"
echo "side by side: $(( $(date +%s) - started )) s wall, $(( ($(cpu) - before) / ticks )) s CPU"
