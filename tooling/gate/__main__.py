"""The DAG gate: parse a stack's DAG folder with the real Airflow 3.2.2 and refuse what should not ship.

    python -m tooling.gate --stack dev    # Pulumi.dev.yaml: its folder, executors, delivery
    python -m tooling.gate dags --executor CeleryExecutor [--max-parse-seconds 2.0]

Checks, per file: no import error, and no module-level import that only the gate's own environment
resolves (pytest, the Pulumi SDKs: the image lacks them); no task sent to an executor the stack does
not run (Airflow refuses such a DAG when the cluster parses it); every DAG has tags and every task an
owner other than Airflow's default; no network connection or subprocess at import time (that work
runs on every parse loop of every dag-processor); no task that needs ``pods/exec`` unless the stack
grants it; and a parse under the limit in CPU time (its wall time would measure the machine's load as
much as the DAG). With ``--stack`` the folder is also checked for the stack's DAG delivery (the
ConfigMap's 1 MiB, the image's Dockerfile). Prints the parse's CPU time of each file, then one line per
problem, and exits 1 if there is any (2 for a stack it cannot read).

DAG code runs only in the sandbox (``sandbox.py``, ``parser.py``): a child process per file with a
hard kill, a scrubbed environment and a temporary HOME; what the gate repeats of it is escaped and
masked. This process never imports Airflow.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from dataclasses import dataclass, field
from pathlib import Path

from components.redact import safe_to_print
from tooling.cli import add_debug_flag, guarded
from tooling.gate.parser import shown_path
from tooling.gate.sandbox import GateError, ParsedFile, parse_folder

__all__ = ["GateReport", "gate_report", "main"]

DEFAULT_EXECUTOR = "CeleryExecutor,KubernetesExecutor"
KILL_AFTER_SECONDS = 60.0  # of wall time, per file: twice Airflow's own dagbag_import_timeout


@dataclass
class GateReport:
    """Per file: its parse's CPU time and its DAGs; and every problem found, one line each."""

    parse_seconds: dict[str, float] = field(default_factory=dict)
    dags: dict[str, list[str]] = field(default_factory=dict)  # file -> dag ids
    problems: list[str] = field(default_factory=list)


def gate_report(folder: Path, parsed: list[ParsedFile], max_parse_seconds: float) -> GateReport:
    """``max_parse_seconds``: the CPU time one file's parse may take in its child (its wall time would
    measure the machine's load as much as the DAG)."""
    report = GateReport()
    for result in parsed:
        if result.fault is not None:
            report.problems.append(f"{result.file}: {result.fault}")
            continue
        seconds = result.cpu_seconds or 0.0
        report.parse_seconds[result.file] = seconds
        if seconds > max_parse_seconds:
            report.problems.append(
                f"{result.file}: parsed in {seconds:.2f} s of CPU, over {max_parse_seconds:.2f} s; "
                "move heavy imports and work into tasks"
            )
        if result.dags:
            report.dags[result.file] = list(result.dags)
        report.problems += result.problems
    for path in sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts):
        shown = shown_path(folder, str(path))
        if (
            shown not in report.dags
            and not any(shown in p for p in report.problems)
            and _looks_like_dag(path)
        ):
            report.problems.append(f"{shown}: mentions DAG but defines none that Airflow found")
    return report


def _looks_like_dag(path: Path) -> bool:
    text = path.read_text(errors="replace")
    return "airflow" in text and ("DAG" in text or "@dag" in text)


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
    parser.add_argument("--max-parse-seconds", type=float, default=2.0, help="CPU time per file (default 2)")
    parser.add_argument(
        "--kill-after-seconds",
        type=float,
        default=KILL_AFTER_SECONDS,
        help=f"wall time after which a file's parse is killed (default {KILL_AFTER_SECONDS:g})",
    )
    parser.add_argument(
        "--pod-exec",
        action="store_true",
        help="with a folder: the stack sets airflow:tasks.podExec, so tasks may use pods/exec",
    )
    add_debug_flag(parser)
    args = parser.parse_args(argv)
    if (args.folder is None) == (args.stack is None):
        parser.error("give either a DAG folder or --stack NAME")
    return guarded(
        lambda: _gate_command(args),
        command="dag gate",
        what=f"DAG gate of {f'stack {args.stack!r}' if args.stack else args.folder}",
        debug=args.debug,
        after_interrupt="nothing was written",
    )


def _gate_command(args: argparse.Namespace) -> int:
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
            print(_line(f"error: {problem}"))
        return 1
    try:
        parsed = parse_folder(folder, executor, pod_exec=pod_exec, kill_after=args.kill_after_seconds)
    except GateError as err:
        print(f"error: {safe_to_print(str(err))}", file=sys.stderr)
        return 2
    report = gate_report(folder, parsed, args.max_parse_seconds)
    report.problems = problems + report.problems + _tooling_only_imports(folder)
    dag_count = sum(len(ids) for ids in report.dags.values())
    print(_line(f"dag gate: {folder.name}: {dag_count} DAGs in {len(parsed)} files ({described})"))
    for shown, seconds in sorted(report.parse_seconds.items()):
        print(_line(f"  {seconds * 1000:7.1f} ms  {shown}  {', '.join(report.dags.get(shown, [])) or '-'}"))
    for problem in report.problems:
        print(_line(f"error: {problem}"))
    return 1 if report.problems else 0


def _tooling_only_imports(folder: Path) -> list[str]:
    """Imports the parse here resolved but the apache/airflow image would not (``imports.py``). A file
    that cannot be read is left out: the parse has named it already."""
    from components.dags.entries import entries
    from tooling.gate.imports import tooling_only_imports
    from tooling.gate.packages import installed_dag_packages

    files = {}
    for path, relative, problem in entries(folder, folder.name):
        if problem is None and relative.endswith(".py"):
            with contextlib.suppress(OSError):
                files[relative] = path.read_bytes()
    return tooling_only_imports(folder.name, files, installed_dag_packages(folder))


def _line(text: str) -> str:
    """What DAG code wrote (an error message, a DAG id) as one printable, masked line."""
    return safe_to_print(text).replace("\n", "\\n")


if __name__ == "__main__":
    sys.exit(main())
