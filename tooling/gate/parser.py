"""The gate's parser, run inside its sandbox (``tooling/gate/sandbox.py`` starts it with a scrubbed
environment and a temporary HOME): imports Airflow once, then parses each DAG file in a forked child.

    python -m tooling.gate.parser FOLDER --kill-after-seconds 60 [--pod-exec]

A child per file, as Airflow's own dag-processor does, so that no DAG file can hide another:
- it runs in its own process group and is killed with it after ``--kill-after-seconds`` of wall time
  (a DAG that sleeps and swallows Airflow's import timeout would otherwise hang the gate);
- what it prints goes to a file of its own, never to the gate's output;
- it must send its result before it exits: one that exits the interpreter (``os._exit(0)``) or dies
  from a signal while being parsed is named as broken, its neighbours still parsed;
- a network connection or a subprocess at import time is refused inside it.
Prints one JSON object per file on the descriptor that was its stdout, the only channel to the gate.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["main", "shown_path"]

OUTPUT_TAIL = 2_000  # characters of a dead child's output kept as a clue


class HeavyImportError(RuntimeError):
    """Raised inside a DAG file that opens a connection or starts a process while being parsed."""


def _refuse(what: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise HeavyImportError(f"{what} at import time; move it into a task")

    return refuse


def shown_path(folder: Path, path: str) -> str:
    """``dags/x.py``, whether Airflow reports the path absolute or relative to the folder."""
    relative = Path(path).relative_to(folder) if Path(path).is_absolute() else Path(path)
    return f"{folder.name}/{relative.as_posix()}"


def _parse(folder: Path, path: str, *, pod_exec: bool) -> dict[str, Any]:
    """In the child: the file's parse CPU time, its DAG ids and its problems."""
    from airflow.dag_processing.dagbag import DagBag

    from tooling.gate.dag_checks import dag_problems, import_error_problem

    # Only in this child, and only now: Airflow itself may use sockets while it starts.
    socket.socket.connect = _refuse("a network connection")  # type: ignore[method-assign]
    socket.create_connection = _refuse("a network connection")
    subprocess.Popen = _refuse("a subprocess")  # type: ignore[misc]
    bag = DagBag(dag_folder=str(folder), include_examples=False, safe_mode=False, collect_dags=False)
    started = time.process_time()  # this process alone: a busy machine does not inflate it
    bag.process_file(path, only_if_updated=False, safe_mode=False)
    cpu = time.process_time() - started
    shown = shown_path(folder, path)
    executor = os.environ["AIRFLOW__CORE__EXECUTOR"]
    problems = [
        import_error_problem(shown_path(folder, failed), Path(folder, failed), str(error), executor)
        for failed, error in sorted(bag.import_errors.items())
    ]
    dags = sorted(bag.dags)
    for dag_id in dags:
        problems += dag_problems(shown, dag_id, bag.dags[dag_id], pod_exec=pod_exec)
    return {"file": shown, "cpu": cpu, "dags": dags, "problems": problems}


def _child(folder: Path, path: str, result_fd: int, output: BinaryIO, *, pod_exec: bool) -> None:
    """The forked child: never returns."""
    try:
        os.setpgid(0, 0)
        os.dup2(output.fileno(), 1)
        os.dup2(output.fileno(), 2)
        try:
            result = _parse(folder, path, pod_exec=pod_exec)
        except BaseException as err:  # reported as the file's fault: the child must always answer
            result = {
                "file": shown_path(folder, path),
                "fault": f"the parse failed: {type(err).__name__}: {err}",
            }
        os.write(result_fd, json.dumps(result).encode())
    finally:
        os._exit(0)


def _read_result(read_fd: int, deadline: float) -> bytes | None:
    """What the child sent, or None when it is still running at ``deadline`` (monotonic)."""
    chunks = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        ready, _, _ = select.select([read_fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(read_fd, 65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _parse_in_child(
    folder: Path, path: str, kill_after: float, results_fd: int, *, pod_exec: bool
) -> dict[str, Any]:
    """``results_fd``: the channel to the gate, closed in the child so DAG code cannot write to it."""
    shown = shown_path(folder, path)
    read_fd, write_fd = os.pipe()
    with tempfile.TemporaryFile() as output:
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            os.close(results_fd)
            _child(folder, path, write_fd, output, pod_exec=pod_exec)
        os.close(write_fd)
        sent = _read_result(read_fd, time.monotonic() + kill_after)
        os.close(read_fd)
        if sent is None:
            _kill_group(pid)
        _, status = os.waitpid(pid, 0)
        output.seek(0)
        tail = output.read()[-OUTPUT_TAIL:].decode(errors="replace")
    if sent is None:
        return {"file": shown, "fault": f"still parsing after {kill_after:g} s of wall time, killed"}
    try:
        return json.loads(sent)
    except ValueError:
        if os.WIFSIGNALED(status):
            how = f"died from {signal.Signals(os.WTERMSIG(status)).name} while being parsed"
        else:
            how = f"exited the interpreter while being parsed (exit code {os.waitstatus_to_exitcode(status)})"
        last = tail.strip().splitlines()[-1:] or ["(none)"]
        return {
            "file": shown,
            "fault": f"{how}; a DAG file must not exit or crash; its last output: {last[0]}",
        }


def _kill_group(pid: int) -> None:
    """The child and whatever it started in its process group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.gate.parser")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--kill-after-seconds", type=float, required=True)
    parser.add_argument("--pod-exec", action="store_true")
    args = parser.parse_args(argv)
    results = os.fdopen(os.dup(1), "w")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # so nothing else can print on the channel
    from airflow.dag_processing.dagbag import DagBag
    from airflow.dag_processing.importers import get_importer_registry

    folder = args.folder
    # Airflow's own lazy start (settings, plugins, the SDK) once here, as the dag-processor has it
    # before it forks: a file is charged for its own imports and work, not Airflow's.
    import airflow.sdk  # noqa: F401

    DagBag(dag_folder=str(folder), include_examples=False, safe_mode=False, collect_dags=False)
    for path in sorted(get_importer_registry().list_dag_files(str(folder), safe_mode=False)):
        result = _parse_in_child(
            folder, path, args.kill_after_seconds, results.fileno(), pod_exec=args.pod_exec
        )
        results.write(json.dumps(result) + "\n")
        results.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
