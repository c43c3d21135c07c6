"""No hang and no lost file: named pipes, path-like stack names, render folders holding other files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.hostile.conftest import Cli, Refused
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


ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(9)
)


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        (ALIAS_BOMB.encode(), "resources.yaml uses YAML aliases (&/*), which a render never writes"),
        (b"name: x\ntype: y\n", "resources.yaml is not a list of resources"),
        (b"- name: \xff\n", "resources.yaml is not UTF-8 text"),
        (
            b"[" * 3_000 + b"]" * 3_000,
            "resources.yaml nests deeper than 64 levels, which a render never writes",
        ),
    ],
)
def test_the_diff_refuses_a_render_it_cannot_trust_in_one_line(
    tmp_path: Path, resources: bytes, expected: str
) -> None:
    before, after = tmp_path / "before", tmp_path / "after"
    for folder in (before, after):
        folder.mkdir()
        (folder / "resources.yaml").write_text("- {name: a, type: t}\n")
    (after / "resources.yaml").write_bytes(resources)
    result = _run_module("tooling.offline.diff", str(before), str(after))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr == f"error: {after}/{expected}; render it again\n"


def test_a_deeply_nested_stack_file_is_one_line(refused: Refused) -> None:
    err = refused(THROWAWAY_STACK + "  airflow:admin: " + "[" * 3_000 + "]" * 3_000 + "\n")
    assert err == (
        "error: Pulumi.test.yaml:3: nests deeper than 64 levels; a stack file's settings nest a few levels\n"
    )
    assert len(err.splitlines()) == 1


def test_a_dag_file_name_that_is_not_utf8_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    project = project_copy(tmp_path, THROWAWAY_STACK + "  airflow:dags: {delivery: configmap}\n")
    (project / "dags").joinpath(os.fsdecode(b"caf\xe9.py")).write_text("x = 1\n")
    monkeypatch.setattr(render_module, "ROOT", project)
    code, _, err = cli("--stack", "test", "--out", str(tmp_path / "out"))
    assert code == 2
    assert err == (
        "error: dags/caf\\udce9.py: the file name is not UTF-8, which a ConfigMap key and git cannot "
        "carry; rename it\n"
    )


def test_a_dag_folder_that_links_outside_the_repository_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    """A symbolic link as dags/ packed what it pointed to (here a private key) into the ConfigMap."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "id_rsa.py").write_text("KEY = 'private'\n")
    project = project_copy(tmp_path, THROWAWAY_STACK + "  airflow:dags: {delivery: configmap}\n")
    shutil.rmtree(project / "dags")
    (project / "dags").symlink_to(outside)
    monkeypatch.setattr(render_module, "ROOT", project)
    code, _, err = cli("--stack", "test", "--out", str(tmp_path / "out"))
    assert code == 2
    assert err == (
        "error: airflow:dags.folder 'dags' is a symbolic link; the DAG folder must be a folder inside "
        "the repository, not a link to one elsewhere\n"
    )
    assert not (tmp_path / "out").exists()


def test_a_file_put_into_an_earlier_render_is_kept_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    monkeypatch.setattr(render_module, "ROOT", project_copy(tmp_path, THROWAWAY_STACK))
    out = tmp_path / "out"
    assert cli("--stack", "test", "--out", str(out))[0] == 0
    (out / "manifests" / "by-hand.yaml").write_text("keep\n")
    edited = next((out / "manifests").glob("*.yaml"))
    code, _, err = cli("--stack", "test", "--out", str(out))
    assert code == 2
    assert "holds files a render did not write (manifests/by-hand.yaml)" in err
    assert (out / "manifests" / "by-hand.yaml").read_text() == "keep\n"
    (out / "manifests" / "by-hand.yaml").unlink()
    edited.write_text(edited.read_text() + "# my note\n")
    code, _, err = cli("--stack", "test", "--out", str(out))
    assert code == 2
    assert f"holds files changed since the render wrote them ({edited.relative_to(out).as_posix()})" in err
    assert edited.read_text().endswith("# my note\n")
