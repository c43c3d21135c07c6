"""The migration Job's backup script, run by bash against stand-ins for ``psql`` and ``pg_dump``: a
dump when the schema's key changed, none for a new database or an unchanged key, never a half-written
dump taken for a good one, the newest ``keep`` kept, and the URL never printed."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from components.backup.values import BACKUP_SCRIPT

URL = "postgresql+psycopg2://airflow:s3cret-pass@db.example:5432/airflow?sslmode=require"


@pytest.fixture
def tools(tmp_path: Path) -> Path:
    """``psql`` answers whether alembic_version exists ($NEW_DATABASE empty: it does); ``pg_dump``
    writes its --dbname into --file, or fails with $DUMP_FAILS set. Both log their arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "psql").write_text(
        "#!/bin/bash\n"
        'echo "psql $*" >> "$TOOL_LOG"\n'
        'calls=$(grep -c ^psql "$TOOL_LOG")\n'
        'if [ "$calls" -le "${PSQL_FAILS:-0}" ]; then\n'
        "  echo 'psql: error: connection to server at \"db.example\" failed: Connection refused' >&2\n"
        "  exit 2\n"
        "fi\n"
        '[ -n "$NEW_DATABASE" ] && echo "" || echo alembic_version\n'
    )
    (bin_dir / "pg_dump").write_text(
        "#!/bin/bash\n"
        'echo "pg_dump $*" >> "$TOOL_LOG"\n'
        'for arg; do case "$arg" in\n'
        '  --file=*) file="${arg#--file=}";;\n'
        '  --dbname=*) db="${arg#--dbname=}";;\n'
        "esac; done\n"
        'printf "partial" > "$file"\n'
        '[ -n "$DUMP_FAILS" ] && { echo "pg_dump: error: connection failed" >&2; exit 1; }\n'
        'printf "dump of %s (password %s)" "$db" "${PGPASSWORD-unset}" > "$file"\n'
    )
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    return bin_dir


def _backup(
    tools: Path, folder: Path, key: str, keep: int = 5, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", BACKUP_SCRIPT, "backup", str(folder), key, str(keep)],
        env={
            "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}",
            "DATABASE_URL": URL,
            "TOOL_LOG": str(folder.parent / "tools.log"),
            "NEW_DATABASE": "",
            "DUMP_FAILS": "",
            "DATABASE_TRIES": "3",
            "DATABASE_RETRY_SECONDS": "0",
            **env,
        },
        capture_output=True,
        text=True,
        check=False,
    )


def _dumps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".dump"))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "backups"
    path.mkdir()
    return path


def test_a_new_key_dumps_the_database_under_its_time_and_key(tools: Path, folder: Path) -> None:
    done = _backup(tools, folder, "airflow-3.2.2-chart-1.22.0-g0")
    assert done.returncode == 0, done.stderr
    (dump,) = _dumps(folder)
    assert re.fullmatch(r"\d{8}T\d{6}Z-airflow-3\.2\.2-chart-1\.22\.0-g0\.dump", dump)
    # libpq takes no SQLAlchemy driver suffix: the URL reaches pg_dump as postgresql://, its password
    # as $PGPASSWORD
    assert (folder / dump).read_text() == (
        "dump of postgresql://airflow@db.example:5432/airflow?sslmode=require (password s3cret-pass)"
    )
    assert (folder / "last-backup-key").read_text() == "airflow-3.2.2-chart-1.22.0-g0"
    assert "s3cret-pass" not in done.stdout + done.stderr


def test_the_same_key_again_dumps_nothing(tools: Path, folder: Path) -> None:
    _backup(tools, folder, "k1")
    again = _backup(tools, folder, "k1")
    assert again.returncode == 0
    assert len(_dumps(folder)) == 1
    assert "has not changed" in again.stdout


def test_a_new_database_has_nothing_to_dump_but_remembers_the_key(tools: Path, folder: Path) -> None:
    done = _backup(tools, folder, "k1", NEW_DATABASE="yes")
    assert done.returncode == 0
    assert _dumps(folder) == []
    assert (folder / "last-backup-key").read_text() == "k1"
    assert "pg_dump" not in (folder.parent / "tools.log").read_text()


def test_a_failed_dump_fails_the_job_and_leaves_no_dump_nor_key(tools: Path, folder: Path) -> None:
    _backup(tools, folder, "k1")
    failed = _backup(tools, folder, "k2", DUMP_FAILS="yes")
    assert failed.returncode != 0  # the init container fails: the migration does not run
    assert len(_dumps(folder)) == 1  # only k1's
    assert sorted(p.name for p in folder.iterdir()) == [*_dumps(folder), "last-backup-key"]  # no partial
    assert (folder / "last-backup-key").read_text() == "k1"  # so the next try dumps k2 again
    retried = _backup(tools, folder, "k2")
    assert retried.returncode == 0
    assert [name.split("-", 1)[1] for name in _dumps(folder)] == ["k1.dump", "k2.dump"]
    assert sorted(p.name for p in folder.iterdir()) == [*_dumps(folder), "last-backup-key"]  # no partial left


def test_only_the_newest_dumps_are_kept(tools: Path, folder: Path) -> None:
    for index, old in enumerate(("20260101T000000Z-a.dump", "20260201T000000Z-b.dump")):
        (folder / old).write_text(str(index))
    done = _backup(tools, folder, "c", keep=2)
    assert done.returncode == 0
    assert [name.split("-", 1)[1] for name in _dumps(folder)] == ["b.dump", "c.dump"]
    assert "removed the older 20260101T000000Z-a.dump" in done.stdout


def test_a_refused_first_connection_is_retried_not_taken_for_a_new_database(
    tools: Path, folder: Path
) -> None:
    # Found on the cluster: a new pod's NetworkPolicy allowance lags its start.
    done = _backup(tools, folder, "k1", PSQL_FAILS="2")
    assert done.returncode == 0, done.stderr
    assert len(_dumps(folder)) == 1


def test_a_database_that_never_answers_fails_the_job_and_remembers_nothing(tools: Path, folder: Path) -> None:
    done = _backup(tools, folder, "k1", PSQL_FAILS="99")
    assert done.returncode == 1
    assert "database: no answer after 3 tries: psql: error: connection to server" in done.stderr
    assert _dumps(folder) == []
    assert not (folder / "last-backup-key").exists()
    assert "s3cret-pass" not in done.stdout + done.stderr


def test_no_command_line_carries_the_password(tools: Path, folder: Path) -> None:
    """A process listing, or a runtime monitor that logs each command line, would show it."""
    done = _backup(tools, folder, "k1")
    assert done.returncode == 0, done.stderr
    commands = (folder.parent / "tools.log").read_text()
    assert "psql " in commands
    assert "pg_dump " in commands
    assert "s3cret-pass" not in commands


@pytest.mark.parametrize(
    ("url", "libpq_url", "password"),
    [
        # percent-encoded as a URL must be: libpq decodes the user, $PGPASSWORD takes it decoded
        (
            "postgresql://air%40flow:p%40ss%25w%5Cd@db:5432/airflow",
            "postgresql://air%40flow@db:5432/airflow",
            "p@ss%w\\d",
        ),
        ("postgres://airflow@db/airflow", "postgresql://airflow@db/airflow", "unset"),  # no password
        ("postgresql://db/airflow?sslmode=require", "postgresql://db/airflow?sslmode=require", "unset"),
        # libpq reads a user part only before the first '/': this '@' is the query's
        ("postgresql://db/airflow?user=a@b", "postgresql://db/airflow?user=a@b", "unset"),
        ("postgresql+asyncpg://a:b:c@db/airflow", "postgresql://a@db/airflow", "b:c"),
    ],
)
def test_the_password_leaves_the_url_as_libpq_would_read_it(
    tools: Path, folder: Path, url: str, libpq_url: str, password: str
) -> None:
    done = _backup(tools, folder, "k1", DATABASE_URL=url)
    assert done.returncode == 0, done.stderr
    (dump,) = _dumps(folder)
    assert (folder / dump).read_text() == f"dump of {libpq_url} (password {password})"
