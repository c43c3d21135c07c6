"""The cluster test's own DAGs: they pass the gate a deploy runs them through, and the waiting tasks run
until they are released with their own run's id, and only then."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tooling.cluster import mid_run
from tooling.cluster.probe_edits import probe_marker, retag_probe
from tooling.cluster.timeline import CheckFailed
from tooling.gate.__main__ import gate_report
from tooling.gate.sandbox import parse_folder

PROBE_FOLDER = Path(__file__).resolve().parents[3] / "tooling" / "cluster" / "dags"


def test_the_probe_dags_pass_the_gate_of_a_stack_with_both_executors() -> None:
    parsed = parse_folder(PROBE_FOLDER, "CeleryExecutor,KubernetesExecutor", pod_exec=False, kill_after=120)
    report = gate_report(PROBE_FOLDER, parsed, max_parse_seconds=30)
    assert report.problems == []
    assert sorted(report.dags["dags/cluster_probe.py"]) == [
        "cluster_probe",
        "cluster_probe_fails",
        "cluster_probe_settings",
        "cluster_probe_waits",
    ]


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch):
    """The DAG module with a Variable store of its own instead of the API server's; the first sleep
    puts what the test left in ``on_sleep`` into the store, as the check sets the Variable meanwhile."""
    monkeypatch.syspath_prepend(str(PROBE_FOLDER))
    monkeypatch.delitem(sys.modules, "cluster_probe", raising=False)
    import cluster_probe

    store: dict[str, str] = {}
    on_sleep: dict[str, str] = {}
    reads: list[str] = []

    def get(key: str, default: object = None) -> object:
        reads.append(key)
        return store.get(key, default)

    monkeypatch.setattr(cluster_probe.Variable, "get", staticmethod(get))
    monkeypatch.setattr(cluster_probe.time, "sleep", lambda seconds: store.update(on_sleep))
    return cluster_probe, on_sleep, reads


def test_a_waiting_task_returns_once_released_with_its_own_run_id(probe) -> None:
    module, on_sleep, reads = probe
    on_sleep[module.RELEASE_VARIABLE] = "run-1"
    assert module.wait_for_release("run-1", poll=0, limit=60) == "run-1"
    assert reads == [module.RELEASE_VARIABLE, module.RELEASE_VARIABLE]


def test_the_failing_probe_fails(probe) -> None:
    module, _, _ = probe
    with pytest.raises(RuntimeError, match="fails on purpose"):
        module.cluster_probe_fails().get_task("fails").python_callable()


def test_a_waiting_task_is_not_released_by_another_runs_id(probe) -> None:
    module, on_sleep, _ = probe
    on_sleep[module.RELEASE_VARIABLE] = "run-0"
    with pytest.raises(TimeoutError, match="run-1"):
        module.wait_for_release("run-1", poll=0, limit=0.05)


def test_the_check_names_what_the_dag_file_defines(probe) -> None:
    module, _, _ = probe
    assert mid_run.RELEASE_VARIABLE == module.RELEASE_VARIABLE
    waiting = module.cluster_probe_waits()
    assert waiting.dag_id == mid_run.WAITING_DAG
    assert sorted(waiting.task_ids) == sorted([mid_run.CELERY_TASK, mid_run.POD_TASK])
    assert waiting.task_dict[mid_run.POD_TASK].executor == "KubernetesExecutor"


def test_a_retag_changes_the_tags_line_only_and_again(tmp_path: Path) -> None:
    original = (PROBE_FOLDER / "cluster_probe.py").read_text()
    (tmp_path / "cluster_probe.py").write_text(original)
    retag_probe(tmp_path, "edit-1")
    retag_probe(tmp_path, "mid-run-2")
    edited = (tmp_path / "cluster_probe.py").read_text()
    changed = [(a, b) for a, b in zip(original.splitlines(), edited.splitlines(), strict=True) if a != b]
    assert changed == [
        (
            'TAGS = ["cluster-test"]',
            'TAGS = ["cluster-test", "mid-run-2"]',
        )
    ]


def test_a_file_without_a_tags_line_is_refused(tmp_path: Path) -> None:
    (tmp_path / "cluster_probe.py").write_text("tags = []\n")
    with pytest.raises(CheckFailed, match="no TAGS line"):
        retag_probe(tmp_path, "edit-1")


def test_the_marker_a_retag_set_reads_back(tmp_path: Path) -> None:
    shipped = (Path(mid_run.__file__).parent / "dags" / "cluster_probe.py").read_text()
    assert probe_marker(shipped) == "cluster-test"
    (tmp_path / "cluster_probe.py").write_text(shipped)
    retag_probe(tmp_path, "edit-123")
    assert probe_marker((tmp_path / "cluster_probe.py").read_text()) == "edit-123"
    with pytest.raises(CheckFailed, match="no TAGS line"):
        probe_marker("dag = 1\n")
