"""The restore: refused in one line for what it cannot do, and otherwise Airflow stopped, the dump
restored in one transaction, and Airflow started again with the replicas it had, whatever happened."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from components.backup.values import BACKUP_CONTAINER
from tooling.history.restore import RESTORE_SCRIPT, backup_container, restore_dump
from tooling.history.sources import Refused

DUMPS = ["20261202T000000Z-airflow-3.2.2-chart-1.22.0-g0.dump"]
VALUES = {
    "migrateDatabaseJob": {
        "extraInitContainers": [
            {
                "name": BACKUP_CONTAINER,
                "image": "registry.example/postgresql:16@sha256:" + "a" * 64,
                "env": [
                    {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "airflow-db-backup"}}}
                ],
            }
        ]
    }
}


class FakeKubectl:
    """The API as the restore sees it: two workloads, pods that go once scaled to none, pods on the
    claim whose log and phase the test sets."""

    def __init__(self, *, task_pods: int = 0, restore_fails: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.pods: dict[str, dict[str, Any]] = {}
        self.replicas = {"deployment/airflow-scheduler": 2, "statefulset/airflow-worker": 3}
        self.task_pods, self.restore_fails = task_pods, restore_fails

    def __call__(self, *args: str) -> str:
        self.calls.append(list(args))
        verb = args[0]
        if verb == "apply":
            manifest = json.loads(Path(args[2]).read_text())
            self.pods[manifest["metadata"]["name"]] = manifest
            return ""
        if verb == "scale":
            self.replicas[args[3]] = int(args[4].split("=")[1])
            return ""
        if verb in ("delete",):
            return ""
        if verb == "logs":
            return "\n".join(DUMPS) if args[3].startswith("list-backups") else "restore: failed: boom\n"
        if args[1] == "pod":
            failed = args[4].startswith("restore-backup") and self.restore_fails
            return json.dumps({"status": {"phase": "Failed" if failed else "Succeeded"}})
        if args[1] == "deployments,statefulsets":
            items = [
                {
                    "kind": w.split("/")[0].title().replace("set", "Set"),
                    "metadata": {"name": w.split("/")[1]},
                    "spec": {"replicas": n},
                }
                for w, n in self.replicas.items()
            ]
            return json.dumps({"items": items})
        if args[1] == "pods" and args[5] == "kubernetes_executor=True":
            return json.dumps(
                {
                    "items": [
                        {"metadata": {"name": f"task-{i}"}, "status": {"phase": "Running"}}
                        for i in range(self.task_pods)
                    ]
                }
            )
        running = any(n for n in self.replicas.values())
        return json.dumps({"items": [{"metadata": {"name": "p"}}] if running else []})

    def verbs(self) -> list[str]:
        return [c[0] if c[0] != "get" else f"get {c[1]}" for c in self.calls]


def test_the_backup_container_gives_image_and_secret() -> None:
    assert backup_container(VALUES) == (
        VALUES["migrateDatabaseJob"]["extraInitContainers"][0]["image"],
        "airflow-db-backup",
    )
    with pytest.raises(Refused, match=r"takes no backups \(airflow:backup.enabled\)"):
        backup_container({"migrateDatabaseJob": {}})


def test_a_dump_the_claim_lacks_is_refused_before_anything_stops() -> None:
    kubectl = FakeKubectl()
    with pytest.raises(Refused, match=f"holds no dump 'x.dump'; it holds: {DUMPS[0]}"):
        restore_dump(kubectl, "airflow", VALUES, "x.dump")
    assert "scale" not in kubectl.verbs()


def test_running_task_pods_are_refused_before_anything_stops() -> None:
    kubectl = FakeKubectl(task_pods=1)
    with pytest.raises(Refused, match=r"task pods still run \(task-0\)"):
        restore_dump(kubectl, "airflow", VALUES, DUMPS[0])
    assert "scale" not in kubectl.verbs()


def test_airflow_is_stopped_for_the_restore_and_started_with_its_replicas() -> None:
    kubectl = FakeKubectl()
    assert restore_dump(kubectl, "airflow", VALUES, DUMPS[0]) == 2
    scales = [c[3:] for c in kubectl.calls if c[0] == "scale"]
    assert scales[:2] == [
        ["deployment/airflow-scheduler", "--replicas=0"],
        ["statefulset/airflow-worker", "--replicas=0"],
    ]
    assert scales[2:] == [
        ["deployment/airflow-scheduler", "--replicas=2"],
        ["statefulset/airflow-worker", "--replicas=3"],
    ]
    applies = [i for i, c in enumerate(kubectl.calls) if c[0] == "apply"]
    last_stop = max(i for i, c in enumerate(kubectl.calls) if c[0] == "scale" and c[4] == "--replicas=0")
    first_start = min(i for i, c in enumerate(kubectl.calls) if c[0] == "scale" and c[4] != "--replicas=0")
    assert last_stop < applies[-1] < first_start  # the restore pod runs while Airflow is stopped
    (restore,) = [p for n, p in kubectl.pods.items() if n.startswith("restore-backup")]
    container = restore["spec"]["containers"][0]
    assert container["command"][-1] == DUMPS[0]
    assert container["env"][0]["valueFrom"]["secretKeyRef"] == {
        "name": "airflow-db-backup",
        "key": "connection",
    }
    assert restore["spec"]["automountServiceAccountToken"] is False


def test_a_failed_restore_starts_airflow_again_and_says_so() -> None:
    kubectl = FakeKubectl(restore_fails=True)
    with pytest.raises(Refused, match="the restore failed, the database is as it was: restore: failed: boom"):
        restore_dump(kubectl, "airflow", VALUES, DUMPS[0])
    assert kubectl.replicas == {"deployment/airflow-scheduler": 2, "statefulset/airflow-worker": 3}


def test_the_script_restores_in_one_transaction_with_a_libpq_url(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pg_restore").write_text(
        f'#!/bin/bash\necho "$@" > {tmp_path}/args\necho "$PGPASSWORD" > {tmp_path}/password\n'
    )
    (bin_dir / "pg_restore").chmod(0o755)
    (bin_dir / "psql").write_text("#!/bin/bash\necho alembic_version\n")  # the database answers
    (bin_dir / "psql").chmod(0o755)
    done = subprocess.run(
        ["bash", "-c", RESTORE_SCRIPT, "restore", "/backups", DUMPS[0]],
        env={
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "DATABASE_URL": "postgresql+psycopg2://u:p@h/db",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    args = (tmp_path / "args").read_text().split()
    assert {"--clean", "--if-exists", "--single-transaction", "--exit-on-error"} <= set(args)
    assert "--dbname=postgresql://u@h/db" in args  # its password in $PGPASSWORD, on no command line
    assert (tmp_path / "password").read_text() == "p\n"
    assert args[-1] == f"/backups/{DUMPS[0]}"
    assert "u:p@" not in done.stdout + done.stderr
