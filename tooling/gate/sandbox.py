"""Starts the gate's parser (``tooling/gate/parser.py``) in a sandbox and reads what it found.

DAG code is the user's, or an attacker's: it runs with an environment that holds only what Python and
Airflow need (no CI secret, no cloud credential, no Pulumi passphrase), a temporary HOME, TMPDIR and
AIRFLOW_HOME that are removed afterwards, no stdin, and its output kept from the gate's own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import tooling
from tooling.gate.packages import PackagesError, dag_packages

__all__ = ["GateError", "ParsedFile", "parse_folder", "sandbox_environment"]

# From the caller's environment, only what finds programs and reads text the same way.
KEPT = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")
PARSER_STARTUP_SECONDS = 300  # importing Airflow once, on a loaded machine


class GateError(RuntimeError):
    """The parser itself failed: one line, the gate exits 2."""


@dataclass(frozen=True)
class ParsedFile:
    """One DAG file as its child saw it; ``fault`` when the child did not finish its parse."""

    file: str  # dags/x.py
    cpu_seconds: float | None
    dags: tuple[str, ...]
    problems: tuple[str, ...]
    fault: str | None


def sandbox_environment(
    home: Path, folder: Path, executor: str, packages: Path | None = None
) -> dict[str, str]:
    """What the parser and every DAG file see as their environment; ``packages``: the folder's own
    requirements, installed (``tooling/gate/packages.py``)."""
    kept = {name: os.environ[name] for name in KEPT if name in os.environ}
    (home / "tmp").mkdir()
    paths = [str(Path(tooling.__file__).resolve().parent.parent), *([str(packages)] if packages else [])]
    return {
        **kept,
        "HOME": str(home),
        "TMPDIR": str(home / "tmp"),
        "PYTHONPATH": os.pathsep.join(paths),
        "PYTHONDONTWRITEBYTECODE": "1",  # no __pycache__ left in the user's DAG folder
        # An empty AIRFLOW_HOME, no example DAGs and the stack's executors: a DAG parses as it will in
        # that stack's cluster, with its folder on sys.path as the dag-processor puts it.
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": executor,
        # Airflow logs each import error with its traceback; the gate says it in one line.
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "CRITICAL",
    }


def parse_folder(folder: Path, executor: str, *, pod_exec: bool, kill_after: float) -> list[ParsedFile]:
    """Every DAG file of ``folder`` (as Airflow lists them), each parsed in its own child."""
    files = sum(1 for _ in folder.rglob("*.py"))
    try:
        packages = dag_packages(folder)
    except PackagesError as err:
        raise GateError(str(err)) from None
    with tempfile.TemporaryDirectory(prefix="dag-gate-") as home:
        command = [
            sys.executable,
            "-m",
            "tooling.gate.parser",
            str(folder),
            f"--kill-after-seconds={kill_after}",
        ]
        try:
            finished = subprocess.run(
                [*command, *(["--pod-exec"] if pod_exec else [])],
                cwd=home,
                env=sandbox_environment(Path(home), folder, executor, packages),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=PARSER_STARTUP_SECONDS + files * (kill_after + 5),
                check=False,
            )
        except subprocess.TimeoutExpired as err:
            raise GateError(
                f"the gate's parser of {folder.name}/ did not finish in {err.timeout:g} s"
            ) from None
    if finished.returncode != 0:
        last = finished.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise GateError(f"the gate's parser of {folder.name}/ failed (exit {finished.returncode}): {last[0]}")
    return [_parsed(json.loads(line)) for line in finished.stdout.decode().splitlines()]


def _parsed(sent: dict) -> ParsedFile:
    return ParsedFile(
        file=sent["file"],
        cpu_seconds=sent.get("cpu"),
        dags=tuple(sent.get("dags", ())),
        problems=tuple(sent.get("problems", ())),
        fault=sent.get("fault"),
    )
