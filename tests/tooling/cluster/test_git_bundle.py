"""Check git-bundle-packages: what it sets is a stack the program accepts, its repository and index are
what git and pip read, its probe prints what it expects, and each missing piece fails it."""

from __future__ import annotations

import collections
import re
import subprocess
import sys
import types
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from components.dags.settings import GitBundleDags, deploy_key_problem
from components.validation import parse_settings
from tests.conftest import raw_settings
from tooling.cluster import git_bundle
from tooling.cluster.git_bundle import (
    EXPECTED_LINE,
    PACKAGE_INDEX_PORT,
    PACKAGES_DAG_FILE,
    check_counted,
    dags_repository,
    git_bundle_settings,
    git_server,
    packages_images,
    ssh_key_pair,
)
from tooling.cluster.timeline import CheckFailed

ROOT = Path(__file__).resolve().parents[3]
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _server() -> git_bundle.GitServer:
    _, host_public = ssh_key_pair()
    deploy_key, _ = ssh_key_pair()
    return git_server(host_public, deploy_key)


def test_the_settings_it_sets_are_a_git_bundle_stack_with_a_packages_image() -> None:
    """The URL, known_hosts line and deploy key pass the program's own checks, on the tests' local."""
    server = _server()
    assert deploy_key_problem(server.deploy_key) is None
    dags: dict[str, Any] = {}
    for key, value in git_bundle_settings(server, "localhost:5000/airflow-dags").items():
        *parents, leaf = key.removeprefix("airflow:dags.").split(".")
        target = dags
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = value
    raw = raw_settings("local", dags=dags, gitSshKey=server.deploy_key)
    settings = parse_settings(raw, source="Pulumi.local.yaml").dags
    assert isinstance(settings, GitBundleDags)
    assert settings.git_bundle.uses_ssh
    assert settings.git_bundle.refresh_seconds == 10
    assert settings.packages is not None
    assert settings.packages.repository == "localhost:5000/airflow-packages"


def test_the_known_hosts_line_names_the_port_as_ssh_looks_it_up() -> None:
    server = _server()
    port = re.search(r":(\d+)/", server.repo)
    assert port is not None
    assert port.group(1) == str(git_bundle.GIT_PORT)
    assert server.known_hosts.startswith(
        f"[git.external-services.svc.cluster.local]:{port.group(1)} ssh-ed25519 "
    )


def test_the_bundle_clones_to_the_dag_folder_at_its_commit(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "a_dag.py").write_text("# a DAG\n")
    (dags / "__pycache__").mkdir()
    (dags / "__pycache__" / "a_dag.cpython-311.pyc").write_bytes(b"\0")
    bundle, commit = dags_repository(dags, tmp_path / "scratch")
    (tmp_path / "served.bundle").write_bytes(bundle)
    subprocess.run(
        ["git", "clone", "-q", "--bare", str(tmp_path / "served.bundle"), str(tmp_path / "bare")], check=True
    )
    listed = subprocess.run(
        ["git", "-C", str(tmp_path / "bare"), "ls-tree", "-r", "--name-only", "main"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    head = subprocess.run(
        ["git", "-C", str(tmp_path / "bare"), "rev-parse", "main"], check=True, capture_output=True, text=True
    )
    assert listed == ["dags/a_dag.py"]
    assert head.stdout.strip() == commit


def test_the_stand_in_image_reads_the_index_the_check_serves() -> None:
    dockerfile = (ROOT / "tooling" / "cluster" / "images" / "airflow" / "Dockerfile").read_text()
    assert f"ENV PIP_INDEX_URL=http://127.0.0.1:{PACKAGE_INDEX_PORT}/simple/" in dockerfile


def test_the_probe_prints_the_line_the_check_expects(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """With toolz's frequencies (a count of each item, as collections.Counter makes it)."""
    stand_in = types.ModuleType("toolz")
    stand_in.__version__ = "1.0.0"  # type: ignore[attr-defined]
    stand_in.frequencies = lambda items: dict(collections.Counter(items))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "toolz", stand_in)
    monkeypatch.syspath_prepend(str(PACKAGES_DAG_FILE.parent))
    monkeypatch.delitem(sys.modules, "cluster_probe_packages", raising=False)
    import cluster_probe_packages

    print(cluster_probe_packages._counted())
    assert EXPECTED_LINE in capsys.readouterr().out


LOGS = {"counts_on_celery": f"... {EXPECTED_LINE} ...", "counts_in_a_pod": EXPECTED_LINE}


def test_a_run_from_the_served_commit_that_printed_the_line_passes() -> None:
    check_counted(LOGS, {"bundle_version": COMMIT}, COMMIT)


@pytest.mark.parametrize(
    ("logs", "run", "named"),
    [
        (LOGS, {"bundle_version": None}, "bundle version None"),
        (LOGS, {"bundle_version": "f" * 40}, "did not come from the repository"),
        (
            {**LOGS, "counts_in_a_pod": "ModuleNotFoundError: No module named 'toolz'"},
            {"bundle_version": COMMIT},
            "counts_in_a_pod",
        ),
    ],
)
def test_a_run_from_elsewhere_or_without_the_line_fails(
    logs: dict[str, str], run: dict[str, Any], named: str
) -> None:
    with pytest.raises(CheckFailed, match=re.escape(named)):
        check_counted(logs, run, COMMIT)


SINCE = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)


def _pod(
    name: str, component: str, *images: str, phase: str = "Running", created: str = "2026-12-06T06:00:00Z"
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"component": component}, "creationTimestamp": created},
        "spec": {"containers": [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]},
        "status": {"phase": phase},
    }


PACKAGES = "localhost:5000/airflow-packages@sha256:" + "a" * 64


def test_every_airflow_container_on_the_packages_image_is_counted() -> None:
    pods = [
        _pod("airflow-scheduler-0", "scheduler", PACKAGES, PACKAGES),
        _pod("airflow-worker-0", "worker", PACKAGES),
        _pod("airflow-statsd-0", "statsd", "quay.io/prometheus/statsd-exporter:v0.30.0"),
        _pod("airflow-triggerer-old", "triggerer", "apache/airflow:3.2.2", phase="Succeeded"),
        # A task pod of the earlier deploy, still running its task on the image it started with.
        _pod(
            "waits-in-a-pod-x", "worker", "localhost:5000/airflow-dags:dags-1", created="2026-12-06T05:59:59Z"
        ),
    ]
    assert packages_images(pods, SINCE) == 3


def test_an_airflow_container_on_another_image_is_named() -> None:
    pods = [
        _pod("airflow-scheduler-0", "scheduler", PACKAGES),
        _pod("airflow-dag-processor-0", "dag-processor", "localhost:5000/airflow-dags:abc"),
    ]
    with pytest.raises(CheckFailed, match="airflow-dag-processor-0/c0: localhost:5000/airflow-dags:abc"):
        packages_images(pods, SINCE)


def test_no_airflow_pod_on_the_packages_image_fails() -> None:
    with pytest.raises(CheckFailed, match="none runs it"):
        packages_images(
            [_pod("airflow-statsd-0", "statsd", "quay.io/prometheus/statsd-exporter:v0.30.0")], SINCE
        )


def test_a_dag_that_never_parsed_is_told_by_its_import_error() -> None:
    listed = {
        "import_errors": [
            {"filename": "dags/other.py", "stack_trace": "SyntaxError: x"},
            {
                "filename": "dags/cluster_probe_packages.py",
                "stack_trace": "Traceback ...\nModuleNotFoundError: No module named 'toolz'\n",
            },
        ]
    }
    assert git_bundle.import_errors(listed) == (
        "import errors: dags/cluster_probe_packages.py: ModuleNotFoundError: No module named 'toolz'"
    )
    assert git_bundle.import_errors({"import_errors": []}) == "import errors: none for its file"
