"""What the gate says about one parsed file: its import error in one line, and each DAG's problems
(tags, owners, pod overrides, ``pods/exec``). Runs in the child that parsed the file, where the DAG
objects are; the lines go back to the gate as text."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tooling.gate.task_rules import pod_exec_problems, pod_override_problems

__all__ = ["dag_problems", "import_error_problem"]

DEFAULT_OWNER = "airflow"  # what BaseOperator gives a task that names no owner
# Airflow's refusal of a task whose executor is not configured (dagbag._validate_executor_fields).
_UNKNOWN_EXECUTOR = re.compile(r"UnknownExecutorException: Task '([^']+)' specifies executor '([^']+)'")


def import_error_problem(shown: str, path: Path, error: str, executor: str) -> str:
    """One line for Airflow's import error of ``path``: the executor a task names that the stack lacks,
    or the innermost line of the DAG file itself and the error's last line."""
    text = error.strip()
    unknown = _UNKNOWN_EXECUTOR.search(text)
    if unknown:
        task, named = unknown.groups()
        return (
            f"{shown}: task {task!r} runs on executor {named!r}, which this stack does not run "
            f"(airflow:executor is {executor!r}); add it there or drop executor= from the task"
        )
    last = text.splitlines()[-1] if text else "import error"
    lines = re.findall(rf'File "{re.escape(str(path))}", line (\d+)', text)
    where = f":{lines[-1]}" if lines else ""
    return f"{shown}{where}: import error: {last}"


def dag_problems(shown: str, dag_id: str, dag: Any, *, pod_exec: bool) -> list[str]:
    """``pod_exec``: whether the stack lets workers exec into pods (``airflow:tasks.podExec``)."""
    problems = []
    if not dag.tags:
        problems.append("has no tags; add tags=[...] so it can be found")
    problems += pod_override_problems(dag)
    if not pod_exec:
        problems += pod_exec_problems(dag)
    ownerless = sorted(t.task_id for t in dag.tasks if not t.owner or t.owner == DEFAULT_OWNER)
    if ownerless:
        problems.append(f"tasks {', '.join(ownerless)} have no owner; set default_args={{'owner': 'team'}}")
    return [f"{shown}: DAG {dag_id!r} {problem}" for problem in problems]
