"""The cluster test's command line refuses what it cannot do in one line, before anything starts."""

from __future__ import annotations

import os
import re
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


def test_an_unknown_check_for_only_is_one_line_and_exit_2() -> None:
    if os.geteuid() != 0:
        pytest.skip("the cluster test refuses to run without root first")
    done = _run("local", "--only", "alerts,alert-storm")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("cluster-test: --only: no check named alert-storm; the checks: up-from")


def test_the_list_of_checks_is_every_check_the_test_runs() -> None:
    from tooling.cluster.__main__ import CHECKS

    sources = (ROOT / "tooling" / "cluster").glob("*.py")
    named = {match for path in sources for match in re.findall(r'check\(\s*"([a-z-]+)"', path.read_text())}
    assert named == set(CHECKS)
    assert len(CHECKS) == len(set(CHECKS))


def test_a_run_stopped_by_a_signal_exits_non_zero(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from tooling.cluster import __main__ as cluster_test

    class StoppedNode:
        def __init__(self, layout: object) -> None:
            self.layout = layout

        def up(self) -> None:
            raise cluster_test.Stopped("SIGTERM")

    stops: list[object] = []
    monkeypatch.setattr(cluster_test, "Node", StoppedNode)
    # Never the machine's own cluster: a run that finds one left up stops it first, as `down` here.
    monkeypatch.setattr(cluster_test, "down", stops.append)
    assert cluster_test.run("local", keep=False) == 1
    assert stops  # the cluster is stopped all the same
    assert "checks failed: 1 (stopped by SIGTERM)" in capsys.readouterr().out
