"""The GitHub workflows: lint-clean, pinned, and wired the way the README says."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = Path(sys.prefix) / "bin" / "actionlint"  # the test virtualenv's (.venv-dev)


def _workflow(name: str) -> dict[str, Any]:
    # PyYAML reads the key `on` as True (YAML 1.1); take it back.
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    document["on"] = document.pop(True)
    return document


def _uses() -> list[str]:
    return [
        step["uses"]
        for path in sorted(WORKFLOWS.glob("*.yml"))
        for job in yaml.safe_load(path.read_text())["jobs"].values()
        for step in job.get("steps", [])
        if "uses" in step
    ]


def _actionlint(folder: Path) -> subprocess.CompletedProcess[str]:
    binary = ACTIONLINT if ACTIONLINT.exists() else shutil.which("actionlint")
    if binary is None:
        pytest.fail("actionlint is not installed (requirements-dev.txt)")
    return subprocess.run([str(binary)], cwd=folder, capture_output=True, text=True, timeout=60, check=False)


def test_actionlint_passes_our_workflows() -> None:
    result = _actionlint(ROOT)
    assert result.returncode == 0, result.stdout


def test_actionlint_catches_script_injection(tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "bad.yml").write_text(
        "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n"
    )
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    result = _actionlint(tmp_path)
    assert result.returncode == 1
    assert "potentially untrusted" in result.stdout


def test_every_action_is_pinned_to_an_exact_version() -> None:
    uses = _uses()
    assert len(uses) >= 8
    loose = [u for u in uses if not re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+\.\d+\.\d+", u)]
    assert loose == []


def test_pull_requests_never_get_write_access_or_fork_secrets() -> None:
    pr = _workflow("pull-request.yml")
    assert list(pr["on"]) == ["pull_request"]
    assert pr["permissions"] == {"contents": "read"}
    assert pr["jobs"]["preview"]["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    comment = _workflow("pull-request-comment.yml")
    assert comment["on"]["workflow_run"]["workflows"] == [pr["name"]]
    assert not any("checkout" in step.get("uses", "") for step in comment["jobs"]["comment"]["steps"])


def test_the_comment_is_updated_in_place_not_duplicated() -> None:
    script = _workflow("pull-request-comment.yml")["jobs"]["comment"]["steps"][-1]["with"]["script"]
    assert "updateComment" in script
    assert "createComment" in script
    assert "c.body.startsWith(marker)" in script


def test_deploys_never_overlap_and_prod_waits_for_its_environment() -> None:
    deploy = _workflow("deploy.yml")
    assert deploy["on"]["push"] == {"branches": ["main"], "tags": ["v*.*.*"]}
    job = deploy["jobs"]["deploy"]
    assert job["environment"] == "${{ github.ref_type == 'tag' && 'prod' || 'dev' }}"
    assert job["concurrency"]["group"] == "deploy-${{ github.ref_type == 'tag' && 'prod' || 'dev' }}"
    assert job["concurrency"]["cancel-in-progress"] is False
    run_steps = " ".join(step.get("run", "") for step in job["steps"])
    assert "bash .ci/run" in run_steps  # the gate runs before `pulumi up`
    # refresh: what was changed by hand in the cluster is read first and put back (README, "Drift").
    assert job["steps"][-1]["with"] == {"command": "up", "stack-name": "${{ env.STACK }}", "refresh": True}


def test_credentials_come_from_secrets_never_from_files() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        text = path.read_text()
        for name in ("PULUMI_ACCESS_TOKEN", "KUBECONFIG_B64"):
            for line in text.splitlines():
                if f"{name}:" in line:
                    assert re.search(r"\$\{\{ secrets[.\[]", line), f"{path.name}: {line.strip()}"
