"""The DAG gate: parse a stack's DAG folder with the real Airflow 3.2.2 and refuse what should not ship.

    python -m tooling.gate --stack dev    # Pulumi.dev.yaml: its folder, executors, delivery
    python -m tooling.gate dags --executor CeleryExecutor [--max-parse-seconds 2.0]

Checks, per file: no import error; no task sent to an executor the stack does not run (Airflow refuses
such a DAG when the cluster parses it); every DAG has tags and every task an owner other than Airflow's
default; no network connection or subprocess at import time (that work runs on every parse loop of
every dag-processor); no task that needs ``pods/exec`` unless the stack grants it; and a parse under
the limit in CPU time (its wall time would measure the machine's load as much as the DAG). With
``--stack`` the folder is also checked for the stack's DAG delivery (the ConfigMap's 1 MiB, the image's
Dockerfile). Prints the parse's CPU time of each file, then one line per problem, and exits 1 if there
is any (2 for a stack it cannot read). Runs in its own process: Airflow configures logging and settings
at import, which must not leak into the Pulumi tests.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tooling.task_rules import pod_exec_problems, pod_override_problems

__all__ = ["GateReport", "check_folder", "main"]

DEFAULT_OWNER = "airflow"  # what BaseOperator gives a task that names no owner


class HeavyImportError(RuntimeError):
    """Raised inside a DAG file that opens a connection or starts a process while being parsed."""


@dataclass
class GateReport:
    """Per file: its parse's CPU time and its DAGs; and every problem found, one line each."""

    parse_seconds: dict[str, float] = field(default_factory=dict)
    dags: dict[str, list[str]] = field(default_factory=dict)  # file -> dag ids
    problems: list[str] = field(default_factory=list)


def _refuse(what: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise HeavyImportError(f"{what} at import time; move it into a task")

    return refuse


DEFAULT_EXECUTOR = "CeleryExecutor,KubernetesExecutor"
# Airflow's refusal of a task whose executor is not configured (dagbag._validate_executor_fields).
_UNKNOWN_EXECUTOR = re.compile(r"UnknownExecutorException: Task '([^']+)' specifies executor '([^']+)'")


def _isolate_airflow(home: Path, executor: str) -> None:
    """An empty AIRFLOW_HOME, no example DAGs, and the stack's executors, so a DAG parses as it will in
    that stack's cluster."""
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__CORE__EXECUTOR"] = executor
    # Airflow logs each import error with its traceback; the report below says it in one line.
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "CRITICAL"


def check_folder(folder: Path, max_parse_seconds: float, *, pod_exec: bool = False) -> GateReport:
    """``max_parse_seconds``: the CPU time one file's parse may take in this process (its wall time would
    measure the machine's load as much as the DAG). ``pod_exec``: whether the stack lets workers exec
    into pods (``airflow:tasks.podExec``)."""
    from airflow.dag_processing.dagbag import DagBag  # after _isolate_airflow: Airflow reads env at import

    report = GateReport()
    files = sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)
    # Guards go up only around the parse: Airflow itself may use sockets while it starts.
    guarded = {
        (socket.socket, "connect"): _refuse("a network connection"),
        (socket, "create_connection"): _refuse("a network connection"),
        (subprocess, "Popen"): _refuse("a subprocess"),
    }
    originals = {target: getattr(*target) for target in guarded}
    for target, replacement in guarded.items():
        setattr(*target, replacement)
    bag = DagBag(dag_folder=str(folder), include_examples=False, safe_mode=False, collect_dags=False)
    cpu_seconds = _count_cpu_per_file(bag)
    try:
        bag.collect_dags(dag_folder=str(folder), include_examples=False, safe_mode=False)
    finally:
        for target, original in originals.items():
            setattr(*target, original)

    for path, seconds in sorted(cpu_seconds.items()):
        shown = _shown(folder, path)
        report.parse_seconds[shown] = seconds
        if seconds > max_parse_seconds:
            report.problems.append(
                f"{shown}: parsed in {seconds:.2f} s of CPU, over {max_parse_seconds:.2f} s; "
                "move heavy imports and work into tasks"
            )
    for path, error in sorted(bag.import_errors.items()):
        text = str(error).strip()
        last = text.splitlines()[-1] if text else "import error"
        unknown = _UNKNOWN_EXECUTOR.search(text)
        if unknown:
            task, executor = unknown.groups()
            report.problems.append(
                f"{_shown(folder, path)}: task {task!r} runs on executor {executor!r}, which this stack does "
                f"not run (airflow:executor is {os.environ['AIRFLOW__CORE__EXECUTOR']!r}); add it there or "
                "drop executor= from the task"
            )
            continue
        # The innermost frame in the DAG file itself is the line to fix.
        lines = re.findall(rf'File "{re.escape(str(Path(folder, path)))}", line (\d+)', text)
        where = f":{lines[-1]}" if lines else ""
        report.problems.append(f"{_shown(folder, path)}{where}: import error: {last}")
    for dag_id, dag in sorted(bag.dags.items()):
        shown = _shown(folder, dag.fileloc)
        report.dags.setdefault(shown, []).append(dag_id)
        if not dag.tags:
            report.problems.append(f"{shown}: DAG {dag_id!r} has no tags; add tags=[...] so it can be found")
        report.problems += [f"{shown}: DAG {dag_id!r} {problem}" for problem in pod_override_problems(dag)]
        if not pod_exec:
            report.problems += [f"{shown}: DAG {dag_id!r} {problem}" for problem in pod_exec_problems(dag)]
        ownerless = sorted(t.task_id for t in dag.tasks if not t.owner or t.owner == DEFAULT_OWNER)
        if ownerless:
            report.problems.append(
                f"{shown}: DAG {dag_id!r} tasks {', '.join(ownerless)} have no owner; "
                "set default_args={'owner': 'team'}"
            )
    for path in files:
        shown = _shown(folder, str(path))
        if (
            shown not in report.dags
            and not any(shown in p for p in report.problems)
            and _looks_like_dag(path)
        ):
            report.problems.append(f"{shown}: mentions DAG but defines none that Airflow found")
    return report


def _count_cpu_per_file(bag: Any) -> dict[str, float]:
    """Wraps ``bag.process_file`` so each file's parse is charged the CPU time this process spent on it
    (``time.process_time``: user and system, every thread), which a busy machine does not inflate."""
    spent: dict[str, float] = {}
    process_file = bag.process_file

    def timed(filepath: str, *args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return process_file(filepath, *args, **kwargs)
        finally:
            spent[filepath] = spent.get(filepath, 0.0) + time.process_time() - started

    bag.process_file = timed
    return spent


def _looks_like_dag(path: Path) -> bool:
    text = path.read_text(errors="replace")
    return "airflow" in text and ("DAG" in text or "@dag" in text)


def _shown(folder: Path, path: str) -> str:
    """``dags/x.py``, whether Airflow reports the path absolute or relative to the folder."""
    relative = Path(path).relative_to(folder) if Path(path).is_absolute() else Path(path)
    return f"{folder.name}/{relative.as_posix()}"


@dataclass
class StackTarget:
    """What ``--stack`` gates: the stack's DAG folder, executors and delivery, and its folder's problems."""

    folder: Path
    executor: str
    delivery: str
    problems: list[str]  # of the folder for that mode (the ConfigMap's size, the image's Dockerfile)
    # For a git mode, where the cluster takes the DAGs from; the local copy is then optional.
    repository: str | None
    pod_exec: bool  # airflow:tasks.podExec


def _stack_target(stack: str, project: Path) -> StackTarget:
    """The stack's DAG folder, executors and delivery, and the problems of that folder for the mode."""
    from components.config import check_namespaces, raw_from_config
    from components.dags.folder import dags_for_delivery
    from components.stack_file import stack_file_path
    from components.validation import parse_settings
    from tooling.offline.render import load_stack_config

    config, _ = load_stack_config(stack_file_path(project, stack))
    source = f"Pulumi.{stack}.yaml"
    check_namespaces(config, source)
    settings = parse_settings(raw_from_config(config), source=source, offline=True)
    try:
        dags_for_delivery(settings.dags, project)
        problems = []
    except ValueError as err:  # DagFolderError: one line per problem, named by file
        problems = str(err).splitlines()
    dags, git = settings.dags, settings.dags.git
    repository = None if git is None else f"{git.repo} ref {git.ref} path {git.sub_path or '.'}"
    return StackTarget(
        project / dags.folder, settings.executor, dags.delivery, problems, repository, settings.tasks.pod_exec
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m tooling.gate``: 0 when the folder may ship, 1 with problems, 2 for a stack it cannot
    read."""
    parser = argparse.ArgumentParser(prog="python -m tooling.gate", description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path, nargs="?", help="a DAG folder (instead of --stack)")
    parser.add_argument("--stack", help="check the DAG folder of Pulumi.<stack>.yaml with its executors")
    parser.add_argument(
        "--executor", default=DEFAULT_EXECUTOR, help=f"with a folder (default {DEFAULT_EXECUTOR})"
    )
    parser.add_argument("--max-parse-seconds", type=float, default=2.0)
    parser.add_argument(
        "--pod-exec",
        action="store_true",
        help="with a folder: the stack sets airflow:tasks.podExec, so tasks may use pods/exec",
    )
    args = parser.parse_args(argv)
    if (args.folder is None) == (args.stack is None):
        parser.error("give either a DAG folder or --stack NAME")
    problems: list[str] = []
    described = args.executor
    pod_exec = args.pod_exec
    if args.stack is not None:
        from components.model import ConfigError
        from tooling.offline.render import RenderError

        try:
            target = _stack_target(args.stack, Path.cwd())
        except (RenderError, ConfigError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        folder, executor, problems = target.folder, target.executor, target.problems
        pod_exec = target.pod_exec
        described = " ".join(filter(None, [f"{executor}; {target.delivery}", target.repository]))
        if target.repository is not None and not folder.is_dir():
            print(
                f"error: airflow:dags.folder {folder.name!r} is not a folder here; the stack takes its DAGs "
                f"from {target.repository}: run the gate in a checkout of that repository",
                file=sys.stderr,
            )
            return 2
    else:
        folder, executor = args.folder, args.executor
    folder = folder.resolve()
    if not folder.is_dir():
        print(f"error: {folder} is not a folder", file=sys.stderr)
        return 2
    from components.dags.entries import unreadable_entries

    unreadable = unreadable_entries(folder, folder.name)
    if unreadable:
        # Airflow would open every file it finds: a named pipe would block the parse for good.
        for problem in dict.fromkeys(problems + unreadable):
            print(f"error: {problem}")
        return 1
    with tempfile.TemporaryDirectory(prefix="airflow-home-") as home:
        _isolate_airflow(Path(home), executor)
        report = check_folder(folder, args.max_parse_seconds, pod_exec=pod_exec)
    report.problems = problems + report.problems
    dag_count = sum(len(ids) for ids in report.dags.values())
    print(f"dag gate: {folder.name}: {dag_count} DAGs in {len(report.parse_seconds)} files ({described})")
    for shown, seconds in sorted(report.parse_seconds.items()):
        print(f"  {seconds * 1000:7.1f} ms  {shown}  {', '.join(report.dags.get(shown, [])) or '-'}")
    for problem in report.problems:
        print(f"error: {problem}")
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
