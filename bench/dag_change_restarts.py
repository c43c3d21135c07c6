"""How many pods one edited DAG line restarts, per DAG delivery mode, on the real chart's output.

    .venv-dev/bin/python bench/dag_change_restarts.py

The same measurement tests/tooling/offline/test_restarts.py judges: for each mode, a copy of this project
with a stack running both executors is rendered offline, one line of dags/etl_taskflow.py changed, rendered
again; then the pinned chart is rendered with each release's values and the pod templates compared
(tooling/offline/restarts.py). Prints one row per mode.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tooling.offline.restarts import STACKS, after_one_dag_edit


def main() -> None:
    print("| mode | pods restarted | workloads | which | task pods |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="dag-change-") as work:
        for mode in STACKS:
            (Path(work) / mode).mkdir()
            rolled, task_pods = after_one_dag_edit(Path(work) / mode, mode)
            names = ", ".join(r.name.removeprefix("airflow-") for r in rolled) or "-"
            tasks = "new template" if task_pods else "unchanged"
            print(
                f"| {mode} | {sum(r.pods for r in rolled)} | {len(rolled)} | {names} | {tasks} |", flush=True
            )


if __name__ == "__main__":
    main()
