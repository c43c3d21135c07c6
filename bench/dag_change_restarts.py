"""How many pods one edited DAG line restarts, per DAG delivery mode, on the real chart's output.

    .venv-dev/bin/python bench/dag_change_restarts.py

For each mode: a copy of this project with a stack running both executors, rendered offline, one line
of dags/etl_taskflow.py changed, rendered again; then the pinned chart is rendered with each release's
values and the pod templates compared (airflow_stack/offline/restarts.py). Prints one row per mode.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from airflow_stack.offline.render import render  # noqa: E402
from airflow_stack.offline.restarts import restarts, task_pods_changed  # noqa: E402
from airflow_stack.rehearsal.stack import helm_template  # noqa: E402

HEAD = "config:\n  airflow:protectStatefulResources: false\n"
HEAD += "  airflow:executor: CeleryExecutor,KubernetesExecutor\n"
REPO = "'https://github.com/acme/dags.git'"
MODES = {
    "image": "  airflow:dags: {delivery: image, image: {registry: ghcr.io, "
    "repository: ghcr.io/acme/airflow-dags, username: acme-ci}}\n",
    "configmap": "  airflow:dags: {delivery: configmap}\n",
    "git-sync": f"  airflow:dags: {{delivery: git-sync, gitSync: {{repo: {REPO}}}}}\n",
    "git-bundle": f"  airflow:dags: {{delivery: git-bundle, gitBundle: {{repo: {REPO}}}}}\n",
}
EDIT = ('"retries": 3', '"retries": 4')


def _chart(render_dir: Path) -> list[dict]:
    release = yaml.safe_load((render_dir / "releases" / "airflow.yaml").read_text())
    return helm_template(release["values"], release["namespace"])


def measure(mode: str, work: Path) -> str:
    project = work / mode
    project.mkdir()
    shutil.copy(ROOT / "__main__.py", project / "__main__.py")
    shutil.copytree(ROOT / "dags", project / "dags", ignore=shutil.ignore_patterns("__pycache__"))
    (project / "Pulumi.bench.yaml").write_text(HEAD + MODES[mode])
    render("bench", project / "before", project_dir=project)
    dag = project / "dags" / "etl_taskflow.py"
    dag.write_text(dag.read_text().replace(*EDIT))
    render("bench", project / "after", project_dir=project)
    before, after = _chart(project / "before"), _chart(project / "after")
    rolled = restarts(before, after)
    pods = sum(r.pods for r in rolled)
    names = ", ".join(r.name.removeprefix("airflow-") for r in rolled) or "-"
    tasks = "new template" if task_pods_changed(before, after) else "unchanged"
    return f"| {mode} | {pods} | {len(rolled)} | {names} | {tasks} |"


def main() -> None:
    print("| mode | pods restarted | workloads | which | task pods |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="dag-change-") as work:
        for mode in MODES:
            print(measure(mode, Path(work)), flush=True)


if __name__ == "__main__":
    main()
