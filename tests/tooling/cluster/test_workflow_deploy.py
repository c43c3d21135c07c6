"""Check copied-stack-through-the-deploy-job: the copy changes the namespace alone, the matrix is read as
the workflow reads it, and the deploy job's steps run as GitHub's runner runs them (here with a fake
pulumi that records what it is asked), skipping a stack without credentials and refusing a step kind
the rehearsal does not know."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tooling.cluster.timeline import CheckFailed
from tooling.cluster.workflow_deploy import copy_stack_file, deploy_job, matrix_stacks, run_deploy_job

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / ".github" / "workflows" / "deploy.yml"


def test_the_copy_changes_the_namespace_alone(tmp_path: Path) -> None:
    text = "encryptionsalt: v1:abc\nconfig:\n  airflow:namespace: airflow-local\n"
    text += "  airflow:x:\n    secure: v1:zzz\n"
    (tmp_path / "Pulumi.local.yaml").write_text(text)
    copy_stack_file(tmp_path, "local", "staging", "airflow-staging")
    assert (tmp_path / "Pulumi.staging.yaml").read_text() == text.replace("airflow-local", "airflow-staging")


def test_the_matrix_is_the_line_the_workflow_reads() -> None:
    output = 'stacks=[{"name":"dev"}]\nmain=[{"name":"dev"},{"name":"staging"}]\ntags=[]\n'
    assert matrix_stacks(output) == ["dev", "staging"]
    with pytest.raises(CheckFailed, match="no main= line"):
        matrix_stacks("stacks=[]\n")


def _fake_pulumi(tmp_path: Path) -> tuple[Path, Path]:
    """A pulumi that records each call with the variables a deploy reads, and exports an empty stack."""
    calls = tmp_path / "calls.jsonl"
    fake = tmp_path / "bin" / "pulumi"
    fake.parent.mkdir()
    fake.write_text(
        "#!/usr/bin/env python3\nimport json, os, sys\n"
        f"with open({str(calls)!r}, 'a') as f:\n"
        "    f.write(json.dumps({'args': sys.argv[1:], 'KUBECONFIG': os.environ.get('KUBECONFIG'),"
        " 'upsert': os.environ.get('PULUMI_K8S_UPSERT_EXISTING_OBJECTS')}) + '\\n')\n"
        "if sys.argv[1:3] == ['stack', 'export']:\n    print('{}')\n"
    )
    fake.chmod(0o755)
    return fake.parent, calls


def _given(kubeconfig_b64: str) -> dict[str, dict[str, str]]:
    return {
        "secrets": {"KUBECONFIG_B64": kubeconfig_b64, "PULUMI_CONFIG_PASSPHRASE": "x"},
        "vars": {"PULUMI_BACKEND_URL": "file:///nowhere"},
    }


def _checkout(tmp_path: Path) -> Path:
    """The project's .ci scripts, but a .ci/setup that only records its run: the suite reaches no index."""
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT / ".ci", checkout / ".ci")
    (checkout / ".ci" / "setup").write_text(f"#!/usr/bin/env bash\ntouch {tmp_path / 'setup-ran'}\n")
    return checkout


def test_the_deploy_job_creates_adopts_and_deploys_the_matrix_stack(tmp_path: Path) -> None:
    bin_dir, calls = _fake_pulumi(tmp_path)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(tmp_path)}
    ran = run_deploy_job(deploy_job(DEPLOY), "staging", env, _given("a3ViZWNvbmZpZw=="), _checkout(tmp_path))
    assert "A first deploy adopts the namespace and Secrets made before it" in ran
    assert (tmp_path / "setup-ran").exists()  # the .venv Pulumi.yaml names
    recorded = [json.loads(line) for line in calls.read_text().splitlines()]
    assert recorded[0]["args"] == ["stack", "select", "--create", "staging"]
    up = recorded[-1]
    assert up["args"] == ["up", "--yes", "--skip-preview", "--stack", "staging", "--refresh"]
    assert up["upsert"] == "true"  # the first deploy's adoption reached the up
    assert Path(up["KUBECONFIG"]).read_text() == "kubeconfig"  # .ci/kubeconfig's file, through GITHUB_ENV


def test_a_stack_without_cluster_credentials_is_skipped(tmp_path: Path) -> None:
    bin_dir, calls = _fake_pulumi(tmp_path)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(tmp_path)}
    ran = run_deploy_job(deploy_job(DEPLOY), "local", env, _given(""), _checkout(tmp_path))
    assert ran == ["Skip a stack without cluster credentials"]
    assert not calls.exists()


def test_a_step_the_rehearsal_cannot_run_fails_the_check(tmp_path: Path) -> None:
    job = {"steps": [{"uses": "actions/cache@v4"}]}
    with pytest.raises(CheckFailed, match=r"'actions/cache@v4' \(actions/cache@v4\) is not one"):
        run_deploy_job(job, "staging", {"PATH": os.environ["PATH"]}, _given("eA=="), tmp_path)
