"""The DAG gate as a sandbox: DAG code runs in a child process per file, with a hard kill, an
environment holding only what Airflow needs, a temporary HOME and its output captured; what the gate
prints about a file is escaped and masked."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.helpers import run_gate

BROKEN = Path(__file__).resolve().parents[1] / "fixtures" / "broken_dags"

HEADER = """import os
import sys
import time
from pathlib import Path
from datetime import UTC, datetime

from airflow.sdk import DAG

"""
A_DAG = """
with DAG("{name}", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=UTC), tags=["t"],
         default_args={{"owner": "team"}}):
    pass
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A DAG folder holding the fixtures' clean file and the fixtures' file with an import error."""
    dags = tmp_path / "dags"
    dags.mkdir()
    shutil.copy(BROKEN / "good.py", dags)
    shutil.copy(BROKEN / "import_error.py", dags)
    return dags


def _write(folder: Path, name: str, body: str) -> None:
    (folder / f"{name}.py").write_text(HEADER + body + A_DAG.format(name=name))


def _errors(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith("error: ")]


def test_a_dag_that_swallows_the_timeout_is_killed_and_named(folder: Path) -> None:
    _write(
        folder,
        "forever",
        "while True:\n    try:\n        time.sleep(3600)\n    except BaseException:\n        pass\n",
    )
    result = run_gate(folder, "--kill-after-seconds", "5")
    assert result.returncode == 1
    assert "error: dags/forever.py: still parsing after 5 s of wall time, killed" in result.stdout, (
        result.stdout
    )
    assert "dags/good.py  good" in result.stdout
    assert any(
        line.startswith("error: dags/import_error.py:5: import error:") for line in _errors(result.stdout)
    )


def test_a_dag_that_exits_the_interpreter_is_broken_and_hides_nothing(folder: Path) -> None:
    _write(folder, "exits", "os._exit(0)\n")
    result = run_gate(folder)
    assert result.returncode == 1
    errors = _errors(result.stdout)
    assert (
        "error: dags/exits.py: exited the interpreter while being parsed (exit code 0); a DAG file must not "
        "exit or crash; its last output: (none)" in errors
    ), result.stdout
    assert any(line.startswith("error: dags/import_error.py:5: import error:") for line in errors), errors
    assert "dags/good.py  good" in result.stdout


def test_no_secret_of_the_caller_reaches_dag_code(folder: Path) -> None:
    _write(
        folder,
        "snoops",
        "raise RuntimeError(f\"home={Path.home()} deploy={os.environ.get('CI_DEPLOY_TOKEN')} "
        'vars={len(os.environ)}")\n',
    )
    env = {**os.environ, "CI_DEPLOY_TOKEN": "not-for-dags"}
    result = run_gate(folder, env=env)
    assert "not-for-dags" not in result.stdout + result.stderr
    snooped = [line for line in _errors(result.stdout) if "snoops.py" in line]
    assert len(snooped) == 1, result.stdout
    assert "deploy=None" in snooped[0]
    assert f"home={Path.home()} " not in snooped[0]


def test_what_dag_code_prints_is_captured_not_shown(folder: Path) -> None:
    _write(folder, "chatty", 'print("chatter on stdout")\nprint("chatter on stderr", file=sys.stderr)\n')
    result = run_gate(folder)
    assert "chatter" not in result.stdout + result.stderr
    assert "dags/chatty.py  chatty" in result.stdout


def test_what_the_gate_repeats_of_dag_code_is_escaped_and_masked(folder: Path) -> None:
    token = "ghp_" + "R4nd0mT0k3nV4lu3Th4tMustN0tL34k"
    _write(folder, "loud", f'raise RuntimeError("login with {token} \\x1b[31mred\\x1b[0m")\n')
    result = run_gate(folder)
    assert token not in result.stdout + result.stderr
    assert "\x1b" not in result.stdout + result.stderr
    line = next(line for line in _errors(result.stdout) if "loud.py" in line)
    assert line.endswith(r"import error: RuntimeError: login with *** \x1b[31mred\x1b[0m"), line
