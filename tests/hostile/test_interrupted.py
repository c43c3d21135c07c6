"""The commands' top: Ctrl-C and SIGTERM are one line and leave the earlier render whole; an output that
cannot encode a path still works; anything unexpected is one line, the traceback behind --debug."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.hostile.conftest import Cli
from tooling.offline import render as render_module
from tooling.offline.trial import THROWAWAY_STACK, project_copy


def _files(folder: Path) -> dict[Path, bytes]:
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def rendered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli) -> Path:
    """An earlier render of a project copy, which the next render (with another executor) replaces."""
    project = project_copy(tmp_path, THROWAWAY_STACK)
    monkeypatch.setattr(render_module, "ROOT", project)
    out = tmp_path / "out"
    assert cli("--stack", "test", "--out", str(out))[0] == 0
    (project / "Pulumi.test.yaml").write_text(THROWAWAY_STACK + "  airflow:executor: CeleryExecutor\n")
    return out


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_an_interrupted_render_leaves_the_earlier_one_whole(
    rendered: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli, how: str
) -> None:
    before = _files(rendered)
    real_write = render_module._write

    def interrupted(path: Path, document: object, header: str = "") -> None:
        if path.name == "resources.yaml":
            if how == "ctrl-c":
                raise KeyboardInterrupt
            os.kill(os.getpid(), signal.SIGTERM)
        real_write(path, document, header)

    monkeypatch.setattr(render_module, "_write", interrupted)
    code, _, err = cli("--stack", "test", "--out", str(rendered))
    assert code == 130
    assert err.splitlines()[-1] == f"render: interrupted; {rendered} is as it was"
    assert "Traceback" not in err
    assert _files(rendered) == before
    assert sorted(p.name for p in rendered.parent.iterdir()) == ["out", "project"]  # no staging left


def test_an_unexpected_failure_is_one_line_and_the_traceback_is_behind_debug(
    rendered: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("a bug with ghp_R4nd0mT0k3nV4lu3Th4tMustN0tL34k in it")

    monkeypatch.setattr(render_module, "stack_summary", broken)
    code, _, err = cli("--stack", "test", "--out", str(rendered))
    assert code == 2
    assert err == (
        "error: render of stack 'test' failed unexpectedly: RuntimeError: a bug with *** in it "
        "(run again with --debug for the traceback)\n"
    )
    code, _, err = cli("--stack", "test", "--out", str(rendered), "--debug")
    assert code == 2
    assert "Traceback (most recent call last)" in err
    assert 'raise RuntimeError("a bug with' in err


def test_an_output_that_cannot_encode_the_path_still_renders(tmp_path: Path) -> None:
    """With an ASCII stdout (PYTHONIOENCODING=ascii, an old terminal), printing a non-ASCII folder
    failed after the render was written, and said it had failed."""
    (tmp_path / "prøject").mkdir()
    project = project_copy(tmp_path / "prøject", THROWAWAY_STACK)
    for package in ("components", "tooling"):  # the render's ROOT is where its module is
        shutil.copytree(ROOT / package, project / package, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "rénder"
    result = subprocess.run(
        [sys.executable, "-m", "tooling.offline.render", "--stack", "test", "--out", str(out)],
        cwd=project,
        env={**os.environ, "PYTHONIOENCODING": "ascii", "LC_ALL": "C"},
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert result.stdout.decode("ascii").endswith(f"wrote {tmp_path}/r\\xe9nder\n")
    assert (out / "resources.yaml").is_file()
