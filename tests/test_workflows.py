"""The GitHub workflows: lint-clean, pinned, and wired the way the README says."""

from __future__ import annotations

import json
import os
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


def test_deploys_never_overlap_and_each_stack_waits_for_its_environment() -> None:
    deploy = _workflow("deploy.yml")
    assert deploy["on"]["push"] == {"branches": ["main"], "tags": ["v*.*.*"]}
    gate = deploy["jobs"]["gate"]
    gate_runs = " ".join(step.get("run", "") for step in gate["steps"])
    assert gate_runs.index("bash .ci/run") < gate_runs.index("python -m tooling.stacks --github-output")
    job = deploy["jobs"]["deploy"]
    assert job["needs"] == "gate"  # the gate runs before any `pulumi up`
    assert job["strategy"]["matrix"]["stack"] == (
        "${{ fromJSON(github.ref_type == 'tag' && needs.gate.outputs.tags || needs.gate.outputs.main) }}"
    )
    assert job["environment"] == "${{ matrix.stack.name }}"
    assert job["concurrency"] == {"group": "deploy-${{ matrix.stack.name }}", "cancel-in-progress": False}
    runs = [step.get("run", "") for step in job["steps"]]
    setup = next(i for i, run in enumerate(runs) if "bash .ci/setup" in run)  # the .venv Pulumi.yaml names
    first = next(i for i, run in enumerate(runs) if ".ci/first-deploy" in run)
    assert setup < first < len(runs) - 1
    # refresh: what was changed by hand in the cluster is read first and put back (README, "Drift").
    assert job["steps"][-1]["with"] == {"command": "up", "stack-name": "${{ env.STACK }}", "refresh": True}
    assert job["env"]["PULUMI_BACKEND_URL"] == "${{ vars.PULUMI_BACKEND_URL }}"


def test_every_stack_file_is_previewed_and_commented_none_is_listed() -> None:
    pr = _workflow("pull-request.yml")
    assert (
        pr["jobs"]["preview"]["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.stacks) }}"
    )
    assert "python -m tooling.stacks --github-output" in pr["jobs"]["stacks"]["steps"][-1]["run"]
    texts = [
        (WORKFLOWS / name).read_text()
        for name in ("deploy.yml", "pull-request.yml", "pull-request-comment.yml")
    ]
    for text in texts:
        assert not re.search(r"\[\s*['\"]?dev['\"]?\s*,\s*['\"]?prod", text)
        assert "'prod'" not in text
        assert "'dev'" not in text


def _first_deploy(tmp_path: Path, resources: list[dict[str, str]]) -> subprocess.CompletedProcess[str]:
    """``.ci/first-deploy`` against a fake ``pulumi`` whose stack export holds ``resources``."""
    fake = tmp_path / "bin" / "pulumi"
    fake.parent.mkdir(parents=True)
    export = json.dumps({"version": 3, "deployment": {"resources": resources}})
    fake.write_text(f"#!/bin/sh\n[ \"$2\" = export ] || exit 0\ncat <<'JSON'\n{export}\nJSON\n")
    fake.chmod(0o755)
    return subprocess.run(
        ["bash", str(ROOT / ".ci" / "first-deploy"), "staging"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PATH": f"{fake.parent}:{os.environ['PATH']}"},
    )


def test_only_a_stacks_first_deploy_adopts_existing_objects(tmp_path: Path) -> None:
    assert _first_deploy(tmp_path / "a", []).stdout == "PULUMI_K8S_UPSERT_EXISTING_OBJECTS=true\n"
    deployed = [{"urn": "urn:pulumi:staging::airflow::pulumi:pulumi:Stack::airflow-staging"}]
    assert _first_deploy(tmp_path / "b", deployed).stdout == ""


def test_credentials_come_from_secrets_never_from_files() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        text = path.read_text()
        for name in ("PULUMI_ACCESS_TOKEN", "KUBECONFIG_B64"):
            for line in text.splitlines():
                if f"{name}:" in line:
                    assert re.search(r"\$\{\{ secrets[.\[]", line), f"{path.name}: {line.strip()}"


def test_a_stack_added_by_copying_its_file_deploys_first_time(tmp_path: Path) -> None:
    """The README's way to add a stack (copy a stack file, commit it): the deploy job's first step on it
    runs against a backend that has never heard of it, with the real CLI. The copied secret must still
    read (same passphrase, the file's own salt)."""
    pulumi = Path(os.environ.get("PULUMI_CLI", "/var/cache/airflow-stack/bin/pulumi"))
    if not pulumi.is_file():
        if "PULUMI_CLI" in os.environ:
            pytest.fail(f"PULUMI_CLI={pulumi} does not exist")
        pytest.skip(f"no Pulumi CLI at {pulumi}; bash .ci/toolchain builds it")
    (tmp_path / "state").mkdir()
    (tmp_path / "Pulumi.yaml").write_text("name: airflow\nruntime: python\n")
    env = {
        "PATH": f"{pulumi.parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PULUMI_HOME": str(tmp_path / "home"),
        "PULUMI_BACKEND_URL": f"file://{tmp_path / 'state'}",
        "PULUMI_CONFIG_PASSPHRASE": "a passphrase",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
    }

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=tmp_path, env=env, input=stdin, capture_output=True, text=True)

    assert run("pulumi", "stack", "init", "prod").returncode == 0
    assert (
        run(
            "pulumi", "config", "set", "--secret", "--stack", "prod", "airflow:token", stdin="s3cr3t"
        ).returncode
        == 0
    )
    shutil.copy(tmp_path / "Pulumi.prod.yaml", tmp_path / "Pulumi.staging.yaml")
    first = run("bash", str(ROOT / ".ci" / "first-deploy"), "staging")
    assert (first.returncode, first.stdout) == (0, "PULUMI_K8S_UPSERT_EXISTING_OBJECTS=true\n"), first.stderr
    assert "Traceback" not in first.stderr
    assert run("pulumi", "config", "get", "--stack", "staging", "airflow:token").stdout.strip() == "s3cr3t"
    again = run("bash", str(ROOT / ".ci" / "first-deploy"), "staging")
    assert (again.returncode, again.stdout) == (0, "PULUMI_K8S_UPSERT_EXISTING_OBJECTS=true\n")
