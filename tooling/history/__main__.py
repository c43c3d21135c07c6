"""A stack's deploys, the rollback to one of them, and the restore of a database dump.

    python -m tooling.history --stack dev [--json]        # newest first
    python -m tooling.history --stack dev rollback 12     # checks and previews the rollback to update 12
    python -m tooling.history --stack dev rollback 12 --yes   # and deploys it
    python -m tooling.history --stack dev restore             # the dumps on the backups' claim
    python -m tooling.history --stack dev restore DUMP --yes  # Airflow stopped, DUMP restored, started

Run where ``pulumi`` reaches the stack's backend and ``kubectl`` its cluster (the workflows' and the
README's environment). Each row is one update from Pulumi's history: its commit (``+dirty`` when it
ran from uncommitted changes), its result, and the Helm revision of the Airflow chart it left running
(``*`` where it wrote that revision): chart, Airflow version, image and a digest of the chart values,
so two deploys of the same values show the same digest. A rollback deploys the commit's program and
stack file onto the same state; what it refuses is in ``rollback.py``. A restore puts a dump of the
metadata database back (``restore.py``): the way back from a migration, before rolling back to an
update that ran an older Airflow (``--after-restore``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tooling.cli import add_debug_flag, guarded
from tooling.history.records import Deploy
from tooling.history.restore import backup_container, list_dumps, restore_dump
from tooling.history.rollback import check_target, roll_back
from tooling.history.sources import Refused, deployed_values, kubectl, read_deploys, stack_namespace

__all__ = ["main", "table"]

PROJECT = Path(__file__).resolve().parents[2]
_COLUMNS = (
    "update",
    "started (UTC)",
    "kind",
    "result",
    "commit",
    "helm",
    "chart",
    "airflow",
    "image",
    "values",
)


def _row(deploy: Deploy) -> tuple[str, ...]:
    helm = deploy.helm
    commit = (deploy.commit or "-")[:12] + ("+dirty" if deploy.dirty else "")
    return (
        str(deploy.version),
        deploy.started.strftime("%Y-%m-%d %H:%M:%S"),
        deploy.kind,
        deploy.result,
        commit,
        "-" if helm is None else f"{helm.revision}{'*' if deploy.wrote_revision else ''}",
        "-" if helm is None else helm.chart,
        "-" if helm is None else helm.app_version,
        "-" if helm is None else helm.image,
        "-" if helm is None else helm.values_digest,
    )


def table(history: list[Deploy]) -> str:
    """The deploys as aligned columns, a header first."""
    rows = [_COLUMNS, *(_row(d) for d in history)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def _as_json(history: list[Deploy]) -> str:
    return json.dumps(
        [
            {
                "version": d.version,
                "kind": d.kind,
                "result": d.result,
                "started": d.started.isoformat(),
                "ended": None if d.ended is None else d.ended.isoformat(),
                "commit": d.commit,
                "dirty": d.dirty,
                "message": d.message,
                "helm": None
                if d.helm is None
                else {
                    "revision": d.helm.revision,
                    "wrote": d.wrote_revision,
                    "chart": d.helm.chart,
                    "appVersion": d.helm.app_version,
                    "image": d.helm.image,
                    "valuesDigest": d.helm.values_digest,
                },
            }
            for d in history
        ],
        indent=2,
    )


def _restore(args: argparse.Namespace) -> int:
    namespace = stack_namespace(Path(args.project), args.stack)
    values = deployed_values(namespace)
    if args.dump is None:
        dumps = list_dumps(kubectl, namespace, backup_container(values)[0])
        print("\n".join(dumps) if dumps else f"history: no dump on the backups' claim in {namespace} yet")
        return 0
    if not args.yes:
        backup_container(values)  # refused here already where the stack takes no backups
        print(f"history: would stop Airflow in {namespace}, restore {args.dump} and start it again")
        print("history: run again with --yes to do it")
        return 0
    started = restore_dump(kubectl, namespace, values, args.dump)
    print(f"history: restored {args.dump} in {namespace}; Airflow's {started} components started again")
    return 0


def _run(args: argparse.Namespace) -> int:
    project = Path(args.project)
    if args.command == "restore":
        try:
            return _restore(args)
        except Refused as refused:
            print(f"history: {refused}", file=sys.stderr)
            return 1
    try:
        history, missing = read_deploys(project, args.stack)
        if missing:
            print(f"history: {missing}", file=sys.stderr)
        if args.command is None:
            print(_as_json(history) if args.json else table(history))
            return 0
        target = check_target(history, args.version, after_restore=args.after_restore)
        changes = roll_back(project, args.stack, target, deploy=args.yes)
    except Refused as refused:
        print(f"history: {refused}", file=sys.stderr)
        return 1
    done = "rolled back" if args.yes else "would roll back"
    summary = ", ".join(changes) or "no change"
    print(f"history: {done} stack {args.stack} to update {target.version} ({target.commit}): {summary}")
    if not args.yes:
        print("history: run again with --yes to deploy it")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.history", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="the stack (Pulumi.<stack>.yaml)")
    parser.add_argument("--project", default=str(PROJECT), help="the Pulumi project folder (this clone's)")
    parser.add_argument("--json", action="store_true", help="the deploys as JSON")
    add_debug_flag(parser)
    commands = parser.add_subparsers(dest="command")
    rollback = commands.add_parser("rollback", help="roll the stack back to one of its updates")
    rollback.add_argument("version", type=int, help="the update's number, as the history lists it")
    rollback.add_argument("--yes", action="store_true", help="deploy it (without: check and preview only)")
    rollback.add_argument(
        "--after-restore", action="store_true", help="a dump from before the newer Airflow was restored"
    )
    restore = commands.add_parser("restore", help="list the dumps, or restore one with Airflow stopped")
    restore.add_argument("dump", nargs="?", help="the dump's file name, as the listing shows it")
    restore.add_argument("--yes", action="store_true", help="do it (without: say what it would do)")
    args = parser.parse_args(argv)
    return guarded(
        lambda: _run(args),
        command="history",
        what=f"history of stack {args.stack!r}",
        debug=args.debug,
        after_interrupt="the stack is as the last finished pulumi command left it",
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
