"""The cluster test's command line refuses what it cannot do in one line, before anything starts."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tooling.cluster", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.skipif(os.geteuid() != 0, reason="the cluster test refuses to run without root first")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["staging-that-is-not-there"], "Pulumi.staging-that-is-not-there.yaml: no such stack file"),
        (["dev"], "stack 'dev' cannot be deployed here yet; supported: ['local', 'prod']"),
        ([], "name the stack to deploy"),
    ],
)
def test_a_stack_it_cannot_deploy_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    done = _run(*args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"cluster-test: {message}")
    assert done.stdout == ""
