"""What the cluster checks read from a ``--json`` run of the real CLI: the resources it would change."""

from __future__ import annotations

import json

from tooling.cluster.workspace import PulumiResult


def _result(stdout: str) -> PulumiResult:
    return PulumiResult(code=0, stdout=stdout, stderr="", seconds=0.0)


def test_only_the_resources_a_preview_would_change_are_named_by_type_and_name() -> None:
    urn = "urn:pulumi:local::airflow::airflow:secrets:AirflowSecrets$kubernetes:core/v1:Secret::{}"
    preview = {
        "steps": [
            {"op": "update", "urn": urn.format("airflow-webserver-secret")},
            {"op": "same", "urn": urn.format("airflow-fernet")},
            {"op": "read", "urn": urn.format("airflow-metadata")},
            {"op": "replace", "urn": urn.format("airflow-jwt")},
        ]
    }
    assert _result(json.dumps(preview)).changes() == [
        ("kubernetes:core/v1:Secret", "airflow-jwt"),
        ("kubernetes:core/v1:Secret", "airflow-webserver-secret"),
    ]


def test_a_run_without_json_output_changes_nothing_it_can_name() -> None:
    assert _result(json.dumps({"steps": []})).changes() == []
    assert _result("error: could not load plugin").changes() == []


def test_an_upgrade_brings_the_working_tree_over_an_earlier_copy_and_keeps_the_stack_file(tmp_path) -> None:
    from pathlib import Path

    from tooling.cluster.layout import NodeLayout
    from tooling.cluster.workspace import PROBE_DAG, PROJECT, Workspace

    workspace = Workspace(NodeLayout(tmp_path / "run", tmp_path / "cache"), "local")
    folder = workspace.folder
    (folder / "components").mkdir(parents=True)
    (folder / "components" / "removed_since.py").write_text("old module\n")
    (folder / "__main__.py").write_text("the earlier program\n")
    (folder / "Pulumi.local.yaml").write_text("config: {what the stack set}\n")
    venv = tmp_path / "venv"
    venv.mkdir()
    (folder / ".venv").symlink_to(venv)

    workspace.upgrade_program()

    assert not (folder / "components" / "removed_since.py").exists()
    assert (folder / "__main__.py").read_text() == (PROJECT / "__main__.py").read_text()
    assert (folder / "Pulumi.local.yaml").read_text() == "config: {what the stack set}\n"
    assert (folder / "Pulumi.prod.yaml").read_text() == (PROJECT / "Pulumi.prod.yaml").read_text()
    assert (folder / "dags" / PROBE_DAG.name).read_text() == PROBE_DAG.read_text()
    assert (folder / ".venv").resolve() == Path(venv).resolve()


def test_each_up_deploys_a_commit_of_the_copy_that_an_upgrade_keeps(tmp_path) -> None:
    import subprocess

    from tooling.cluster.layout import NodeLayout
    from tooling.cluster.workspace import Workspace

    workspace = Workspace(NodeLayout(tmp_path / "run", tmp_path / "cache"), "local")
    folder = workspace.folder
    folder.mkdir(parents=True)
    (folder / "Pulumi.local.yaml").write_text("config: {}\n")
    venv = tmp_path / "venv"
    venv.mkdir()
    (folder / ".venv").symlink_to(venv)
    workspace._init_repository("53c14ce")
    first = workspace.commit()
    assert workspace.commit() == first  # nothing changed: no new commit

    def status() -> str:
        return subprocess.run(
            ["git", "status", "--porcelain"], cwd=folder, check=True, capture_output=True, text=True
        ).stdout

    assert status() == ""  # the shared virtualenv is no change: Pulumi records the deploy as clean
    workspace.upgrade_program()
    upgraded = workspace.commit()
    assert upgraded != first
    assert status() == ""
    (folder / "Pulumi.local.yaml").write_text("config: {airflow:x: 1}\n")
    assert workspace.commit() not in (first, upgraded)
