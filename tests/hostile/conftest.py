"""What the hostile-input tests share: made-up credentials to look for, and the real render command run
in-process on a project copy whose stack file is the input, asserting a clean refusal."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tooling.offline import render as render_module
from tooling.offline.trial import THROWAWAY_STACK, project_copy

GIT_SYNC = "  airflow:dags:\n    delivery: git-sync\n    gitSync:\n"
TOKEN = "ghp_R4nd0mT0k3nV4lu3Th4tMustN0tL34k"
PASSWORD = "Sup3rS3cr3tPassw0rd"


Cli = Callable[..., tuple[int, str, str]]
Refused = Callable[[str | bytes], str]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """``python -m tooling.offline.render ARGS`` in-process: (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = render_module.main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture
def refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli) -> Refused:
    """Renders a project copy whose Pulumi.test.yaml is the given text; asserts a clean refusal and
    returns what it printed."""

    def run(stack_yaml: str | bytes) -> str:
        project = project_copy(tmp_path, THROWAWAY_STACK)
        stack_file = project / "Pulumi.test.yaml"
        if isinstance(stack_yaml, bytes):
            stack_file.write_bytes(stack_yaml)
        else:
            stack_file.write_text(stack_yaml)
        monkeypatch.setattr(render_module, "ROOT", project)
        code, out, err = cli("--stack", "test", "--out", str(tmp_path / "out"))
        assert code == 2, out + err
        assert "Traceback" not in err
        assert out == ""
        assert not (tmp_path / "out").exists()
        return err

    return run
