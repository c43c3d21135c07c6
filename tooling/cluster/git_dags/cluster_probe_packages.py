"""The cluster test's DAG for ``git-bundle-packages`` (tooling/cluster/git_bundle.py): it imports a
package only ``dags/requirements.txt`` brings (toolz), at the top as a user's DAG would, so it parses
only where the program's packages image runs, and reaches the pods only from the git server's
repository. A task on each executor prints what the package computed. Never in the deployed image's
folder: there, without the package, it would be an import error."""

from __future__ import annotations

from datetime import UTC, datetime

import toolz
from airflow.sdk import dag, task


def _counted() -> str:
    return f"cluster-probe: toolz {toolz.__version__} counted {sorted(toolz.frequencies('abca').items())}"


@dag(
    dag_id="cluster_probe_packages",
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    default_args={"owner": "cluster-test", "retries": 0},
    tags=["cluster-test"],
)
def cluster_probe_packages() -> None:
    @task(queue="default")
    def counts_on_celery() -> None:
        print(_counted())

    @task(executor="KubernetesExecutor")
    def counts_in_a_pod() -> None:
        print(_counted())

    counts_on_celery()
    counts_in_a_pod()


cluster_probe_packages()
