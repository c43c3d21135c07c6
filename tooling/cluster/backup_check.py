"""The backup before a migration, judged on the real cluster: ``airflow:backup`` turned on, the next
``up`` upgrades the release, and its migration Job dumps the database first; raising
``backup.generation`` takes a second dump.

The dumps are read where they lie, on the claim, by a pod of the PostgreSQL image (restricted, as the
namespace enforces): their names (time and the schema's key), and ``pg_restore --list`` of the newest,
which must hold the data of the tables that carry the stack's history (dag_run, task_instance) and
its stored connections, the connection the upgrade check stored among them. Only counts are printed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from components.backup.values import CHART_POSTGRESQL_IMAGE, backup_key
from tooling.cluster.timeline import CheckFailed
from tooling.cluster.workspace import Workspace
from tooling.history.claim import ClaimPod, run_on_claim

__all__ = ["check_backup", "read_backups"]

_TABLES = ("dag_run", "task_instance", "connection")
_LISTING = r"""set -eu
cd "$1"
ls -1 | grep -E '\.dump$' | sort | sed 's/^/DUMP /'
newest=$(ls -1 | grep -E '\.dump$' | sort | tail -n 1)
[ -n "$newest" ] || exit 0
pg_restore --list "$newest" | grep -E ' TABLE DATA public ' | awk '{print "DATA " $7}'
echo "PROBE $(pg_restore --data-only --table=connection --file=- "$newest" | grep -c -- "$2" || true)"
"""


def read_backups(
    kubectl: Callable[..., str], namespace: str, image: str, probe: str
) -> tuple[list[str], set[str], int]:
    """The dumps on the claim (oldest first), the tables the newest holds data of, and how many rows of
    its connection table name ``probe``."""
    pod = ClaimPod(image, _LISTING, [probe], connection_secret=None, read_only=True)
    ok, log = run_on_claim(kubectl, namespace, pod, prefix="read-backups", timeout=300)
    if not ok:
        raise CheckFailed(f"reading the backups failed: {log.strip()[-300:]}")
    lines = log.splitlines()
    dumps = [line[5:] for line in lines if line.startswith("DUMP ")]
    tables = {line[5:] for line in lines if line.startswith("DATA ")}
    found = [int(line[6:]) for line in lines if line.startswith("PROBE ")]
    return dumps, tables, found[0] if found else 0


def check_backup(
    workspace: Workspace, kubectl: Callable[..., str], namespace: str, probe_connection: str
) -> str:
    """See the module's docstring; the dumps taken, for the timeline."""
    image = workspace.config_value("airflow:images.postgresql") or CHART_POSTGRESQL_IMAGE
    generation = int(workspace.config_value("airflow:backup.generation") or 0)

    def read() -> tuple[list[str], set[str], int]:
        return read_backups(kubectl, namespace, image, probe_connection)

    workspace.set_value("airflow:backup.enabled", "true", path=True)
    workspace.run("up", "--yes", "--skip-preview", check=True)
    dumps, tables, probes = read()
    first = backup_key(generation)
    if [re.sub(r"^\d{8}T\d{6}Z-", "", d) for d in dumps] != [f"{first}.dump"]:
        raise CheckFailed(f"after turning backups on the claim should hold one dump for {first}: {dumps}")
    missing = sorted(set(_TABLES) - tables)
    if missing or probes != 1:
        raise CheckFailed(
            f"the dump {dumps[0]} lacks the data of {missing or 'none'}; rows naming the stored "
            f"connection: {probes}"
        )
    workspace.set_value("airflow:backup.generation", str(generation + 1), path=True)
    workspace.run("up", "--yes", "--skip-preview", check=True)
    again, _, _ = read()
    second = backup_key(generation + 1)
    if len(again) != 2 or again[0] != dumps[0] or not again[1].endswith(f"-{second}.dump"):
        raise CheckFailed(f"raising backup.generation should add a dump for {second}: {again}")
    return f"{len(again)} dumps ({', '.join(again)}), each before its migration; {len(tables)} tables' data"
