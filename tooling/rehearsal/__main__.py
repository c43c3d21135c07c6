"""Rehearse a stack: boot its rendered pods' own processes here, against real services, and run a DAG.

    python -m tooling.rehearsal --stack prod      (bash .ci/rehearse prod installs what it needs)

Renders the stack with its real generated values, renders the real chart with the release's values,
starts PostgreSQL (the operator's database, TLS), PgBouncer (the program's pgbouncer.ini and users.txt),
Redis (the generated password; or, for an external broker, over TLS with a CA of its own, as a managed
Redis), an S3 (moto) and a StatsD socket, then runs, in the order Kubernetes
would: the migrations Job, the create-user Job (twice), the api-server, scheduler, dag-processor,
triggerer and a Celery worker, each with its rendered args and env. It checks the health endpoint, logs
in as the admin through the REST API, runs a DAG on Celery to success and reads its log, sees StatsD
packets, stops a worker with SIGTERM mid-task, and rotates the Fernet key on the real database.
Prints a timeline; on failure, the step, its command and the last lines of its log; exit code 1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from components.config import raw_from_config
from components.model import ConfigError
from components.redact import redact
from components.stack_file import stack_file_path
from components.validation import parse_settings
from tooling.offline.render import load_stack_config
from tooling.rehearsal.session import PROJECT, Rehearsal
from tooling.rehearsal.steps import steps
from tooling.rehearsal.timeline import MemorySampler, StepFailed, Timeline


def rehearse(stack_name: str, root: Path, timeline: Timeline) -> list[str]:
    """Runs every step; the rewrites made, for the report. Raises StepFailed."""
    r = Rehearsal(stack_name, root, timeline)
    r.statsd.start()
    r.kubernetes.start()
    try:
        return steps(r)
    finally:
        with timeline.step("stop everything"):
            r.close()


def _not_rehearsable(stack: str) -> str | None:
    """Why ``stack`` cannot be rehearsed (a stack file the program refuses, or a shape the rehearsal does
    not cover yet), in one line, before any service starts; or None."""
    try:
        config, _ = load_stack_config(stack_file_path(PROJECT, stack))
        settings = parse_settings(raw_from_config(config), source=f"Pulumi.{stack}.yaml", offline=True)
    except ConfigError as err:
        return str(err).replace("\n", "; ")
    database = settings.database
    if not (settings.uses_celery and database.mode == "external" and database.pgbouncer.enabled):
        return (
            "the rehearsal covers stacks with the CeleryExecutor and an external database behind PgBouncer "
            f"(like prod); Pulumi.{stack}.yaml has executor {settings.executor!r}, database "
            f"{database.mode!r}, PgBouncer {'on' if database.pgbouncer.enabled else 'off'}"
        )
    return None


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """``python -m tooling.rehearsal --stack S [--keep]``: 0 when every step passed, 1 otherwise, 2 for a
    stack it cannot rehearse."""
    parser = argparse.ArgumentParser(prog="python -m tooling.rehearsal", description=__doc__.split("\n")[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs) afterwards")
    args = parser.parse_args(argv)
    problem = _not_rehearsable(args.stack)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    timeline = Timeline()
    sampler = MemorySampler(timeline)
    sampler.start()
    root = Path(tempfile.mkdtemp(prefix="airflow-rehearsal-"))
    os.chmod(root, 0o755)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    # A cancelled CI job sends SIGTERM: leave as after Ctrl-C, through every `finally` (servers stopped,
    # folder removed), instead of dying with PostgreSQL, PgBouncer and Redis still running.
    previous_term = signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        rewrites = rehearse(args.stack, root, timeline)
    except StepFailed as failed:
        sampler.stop()
        print(timeline.report())
        print(f"FAILED at step: {failed.step}: {redact(str(failed))}", file=sys.stderr)
        if failed.log and failed.log.exists():
            # Airflow's own CLI prints some values it stores (a connection's URI): masked here.
            tail = redact(failed.log.read_text(errors="replace")).splitlines()[-30:]
            print(f"last lines of {failed.log.name}:", *tail, sep="\n  ", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    sampler.stop()
    print(f"rehearsal of {args.stack}: every step passed\n{timeline.report()}")
    print("rewritten for this machine:", *rewrites, sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
