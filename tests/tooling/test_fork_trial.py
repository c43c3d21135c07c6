"""The fork trial's copy: a clone holding the working tree, edited as a fork edits it, committed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.conftest import ROOT
from tooling.fork_trial import FORK_EDITS, fork_copy
from tooling.offline.render import load_stack_config
from tooling.offline.stand_ins import example_keys


def test_the_fork_replaces_every_example_value_and_gives_each_stack_its_namespace(tmp_path: Path) -> None:
    fork = fork_copy(ROOT, tmp_path)
    namespaces = []
    for stack in FORK_EDITS:
        config, _ = load_stack_config(fork / f"Pulumi.{stack}.yaml")
        assert example_keys(config) == [], stack
        namespaces.append(config["airflow:namespace"])
    assert len(set(namespaces)) == len(FORK_EDITS)
    staging = yaml.safe_load((fork / "Pulumi.staging.yaml").read_text())["config"]
    prod = yaml.safe_load((fork / "Pulumi.prod.yaml").read_text())["config"]
    assert {k: v for k, v in staging.items() if k != "airflow:namespace"} == {
        k: v for k, v in prod.items() if k != "airflow:namespace"
    }


def test_the_fork_is_a_clean_clone_with_the_working_trees_changes(tmp_path: Path) -> None:
    fork = fork_copy(ROOT, tmp_path)
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=fork, capture_output=True, text=True, check=True
    )
    assert status.stdout == ""  # the edits are committed, the linked virtualenvs are not files of it
    assert (fork / "tooling" / "fork_trial.py").read_bytes() == (
        ROOT / "tooling" / "fork_trial.py"
    ).read_bytes()
    assert (fork / ".venv-dev").resolve() == (ROOT / ".venv-dev").resolve()
