"""The backup's share of the chart's values: an init container of the migration Job that dumps the
metadata database to a volume claim before ``airflow db migrate`` runs in the same pod.

The dump happens only where it is needed: the script compares the schema's version key with the one
of the last dump (a file on the volume), skips a new database (no ``alembic_version`` table yet: the
first install), and writes the dump under a temporary name first, so a dump that failed halfway is
never taken for a good one, and the migration does not run without it (the init container fails the
Job, and Helm the release). The connection comes from a Secret, as the environment; nothing prints it.
"""

from __future__ import annotations

from typing import Any

from components.kube import READ_ONLY_CONTAINER, RELEASE_NAME
from components.release.settings import AIRFLOW_VERSION, CHART_VERSION

__all__ = [
    "BACKUP_CLAIM",
    "BACKUP_CONTAINER",
    "BACKUP_MOUNT",
    "BACKUP_SCRIPT",
    "CHART_POSTGRESQL_IMAGE",
    "LIBPQ_URL",
    "WAIT_FOR_DATABASE",
    "backup_key",
    "migration_backup_values",
]

BACKUP_CLAIM = f"{RELEASE_NAME}-db-backups"
BACKUP_MOUNT = "/backups"
# chart 1.22.0's postgresql.image: the bundled server's, so its pg_dump is the server's version.
CHART_POSTGRESQL_IMAGE = "docker.io/bitnamilegacy/postgresql:16.1.0-debian-11-r15"

# bash, in the PostgreSQL image: $1 the folder, $2 the version key, $3 how many dumps to keep; the
# database URL in $DATABASE_URL (SQLAlchemy's driver suffix is dropped: libpq does not know it).
# No Helm template markers: the chart passes extraInitContainers through `tpl`.
# $DATABASE_URL as libpq takes it, in $url: SQLAlchemy's driver suffix (postgresql+psycopg2://) dropped,
# and its password moved to $PGPASSWORD (decoded: %40 is @), which libpq reads, so no command line
# carries it: a process listing, or a runtime monitor that logs command lines, would show it. The user
# part is read as libpq reads it: before the first '/', up to the first '@', the password after its
# first ':'. printf and the expansions are bash's own, never a process of their own.
LIBPQ_URL = r"""url=$(printf '%s' "$DATABASE_URL" | sed -E 's#^postgres(ql)?(\+[A-Za-z0-9_]+)?://#postgresql://#')
rest="${url#postgresql://}"
authority="${rest%%/*}"
if [ "$rest" != "$url" ] && [[ "$authority" == *@* ]]; then
  user="${authority%%@*}"
  if [[ "$user" == *:* ]]; then
    password="${user#*:}"
    password="${password//\\/\\\\}"
    printf -v PGPASSWORD '%b' "${password//%/\\x}"
    export PGPASSWORD
    url="postgresql://${user%%:*}@${rest#*@}"
  fi
  unset user password
fi"""
# Until the database answers, $answer then holding whether Airflow's schema is there (empty for a new
# database). Found on the cluster: a new pod's first connection is refused while its NetworkPolicy
# allowance is not yet in place, so one failed query must not read as "a new database". After the
# tries ($DATABASE_TRIES, 60; $DATABASE_RETRY_SECONDS apart, 2) the last error, and exit 1.
WAIT_FOR_DATABASE = r"""tries="${DATABASE_TRIES:-60}"
for attempt in $(seq 1 "$tries"); do
  if answer=$(psql --no-psqlrc --tuples-only --no-align --dbname="$url" \
      --command="select to_regclass('public.alembic_version')" 2>&1); then
    break
  fi
  if [ "$attempt" = "$tries" ]; then
    echo "database: no answer after $tries tries: $answer" >&2
    exit 1
  fi
  sleep "${DATABASE_RETRY_SECONDS:-2}"
done"""
BACKUP_SCRIPT = (
    r"""set -euo pipefail
folder="$1" key="$2" keep="$3"
"""
    + LIBPQ_URL
    + r"""
if [ "$(cat "$folder/last-backup-key" 2>/dev/null || true)" = "$key" ]; then
  echo "backup: the dump for $key was taken; the schema has not changed since"
  exit 0
fi
"""
    + WAIT_FOR_DATABASE
    + r"""
if [ -z "$answer" ]; then
  echo "backup: a new database, nothing to dump"
  printf '%s' "$key" > "$folder/last-backup-key"
  exit 0
fi
name="$(date -u +%Y%m%dT%H%M%SZ)-$key.dump"
partial="$folder/.$name.partial"
trap 'rm -f "$partial"' EXIT
pg_dump --format=custom --no-owner --no-privileges --dbname="$url" --file="$partial"
mv "$partial" "$folder/$name"
printf '%s' "$key" > "$folder/last-backup-key"
echo "backup: $folder/$name, $(stat -c %s "$folder/$name") bytes"
ls -1 "$folder" | grep -E '\.dump$' | sort | head -n -"$keep" | while read -r old; do
  rm -f -- "$folder/$old"
  echo "backup: removed the older $old"
done
"""
)
BACKUP_CONTAINER = "backup-metadata-database"  # the migration Job's init container


def backup_key(generation: int) -> str:
    """The schema's version key: a dump is taken whenever it changes."""
    return f"airflow-{AIRFLOW_VERSION}-chart-{CHART_VERSION}-g{generation}"


def migration_backup_values(
    *, image: str, connection_secret: str, key: str, keep: int, resources: dict[str, Any]
) -> dict[str, Any]:
    """``migrateDatabaseJob`` values: the init container, the claim as a volume."""
    return {
        "extraInitContainers": [
            {
                "name": BACKUP_CONTAINER,
                "image": image,
                "imagePullPolicy": "IfNotPresent",
                "command": ["bash", "-c", BACKUP_SCRIPT, "backup", BACKUP_MOUNT, key, str(keep)],
                "env": [
                    {
                        "name": "DATABASE_URL",
                        "valueFrom": {"secretKeyRef": {"name": connection_secret, "key": "connection"}},
                    }
                ],
                "resources": resources,
                "securityContext": READ_ONLY_CONTAINER,
                "volumeMounts": [{"name": "db-backups", "mountPath": BACKUP_MOUNT}],
            }
        ],
        "extraVolumes": [{"name": "db-backups", "persistentVolumeClaim": {"claimName": BACKUP_CLAIM}}],
    }
