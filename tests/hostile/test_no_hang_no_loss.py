"""No hang and no lost file: named pipes, path-like stack names, render folders holding other files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.hostile.conftest import Cli
from tooling.offline import render as render_module
from tooling.offline.trial import THROWAWAY_STACK, project_copy


def _run_module(module: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """``python -m MODULE ARGV`` in the project, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", module, *argv],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )


def test_the_dag_gate_refuses_a_named_pipe_instead_of_hanging(tmp_path: Path) -> None:
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "ok.py").write_text((ROOT / "dags" / "etl_taskflow.py").read_text())
    os.mkfifo(folder / "pipe.py")
    result = _run_module("tooling.gate", str(folder))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "error: dags/pipe.py: is a named pipe (FIFO); a DAG folder holds only regular files and folders"
    ]


@pytest.mark.parametrize("module", ["tooling.offline.render", "tooling.gate"])
@pytest.mark.parametrize("stack", ["../../etc/passwd", "..", "dev/../prod", ""])
def test_a_stack_name_that_is_a_path_is_refused(module: str, stack: str) -> None:
    result = _run_module(
        module, "--stack", stack, *(["--out", "/nonexistent/x"] if "render" in module else [])
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"error: stack name {stack!r} is not one Pulumi allows: letters, digits, '-', '_' and '.', starting "
        "with a letter, digit, '-' or '_'\n"
    )


def test_out_at_a_folder_of_other_files_leaves_them_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    mine = tmp_path / "mine"
    (mine / "manifests").mkdir(parents=True)
    (mine / "notes.md").write_text("keep\n")
    (mine / "manifests" / "by-hand.yaml").write_text("keep\n")
    monkeypatch.setattr(render_module, "ROOT", project_copy(tmp_path, THROWAWAY_STACK))
    code, _, err = cli("--stack", "test", "--out", str(mine))
    assert code == 2
    assert "holds files a render did not write (notes.md)" in err
    assert sorted(p.relative_to(mine).as_posix() for p in mine.rglob("*")) == [
        "manifests",
        "manifests/by-hand.yaml",
        "notes.md",
    ]


def test_a_failed_render_leaves_the_earlier_one_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    project = project_copy(tmp_path, THROWAWAY_STACK)
    monkeypatch.setattr(render_module, "ROOT", project)
    out = tmp_path / "out"
    assert cli("--stack", "test", "--out", str(out))[0] == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    real_write = render_module._write

    def fail_midway(path: Path, document: object, header: str = "") -> None:
        if path.name == "outputs.yaml":
            raise OSError(28, "No space left on device")
        real_write(path, document, header)

    monkeypatch.setattr(render_module, "_write", fail_midway)
    (project / "Pulumi.test.yaml").write_text(THROWAWAY_STACK + "  airflow:executor: CeleryExecutor\n")
    code, _, err = cli("--stack", "test", "--out", str(out))
    assert code == 2
    assert err == f"error: cannot write the render to {out}: No space left on device\n"
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "project"]  # no staging folder left
