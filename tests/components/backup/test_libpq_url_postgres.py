"""The backup's and the restore's LIBPQ_URL judged by a real PostgreSQL and the real psql: the URL a user
gives (percent-encoded, with SQLAlchemy's driver suffix) still signs in once its password has moved to
$PGPASSWORD, a wrong one is refused (the server checks it), and psql's command line never holds it."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.backup.values import LIBPQ_URL
from tooling.rehearsal.services import POSTGRES_BIN, Database, Services, free_port

PSQL = shutil.which("psql")
pytestmark = pytest.mark.skipif(
    PSQL is None or not (POSTGRES_BIN / "initdb").exists(),
    reason="PostgreSQL is not installed (.ci/system-packages)",
)
# A user and a password with what a URL must percent-encode: '@', '%', ':' and a backslash.
USER = "air@flow"
PASSWORD = "p@ss%w\\d:x"
URL = "postgresql+psycopg2://air%40flow:p%40ss%25w%5Cd%3Ax@127.0.0.1:{port}/airflow?sslmode=disable"


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    # Traversable by the unprivileged user the server runs as under root (pytest's own are 0700).
    folder = Path(tempfile.mkdtemp(prefix="libpq-url-"))
    folder.chmod(0o755)
    services = Services(folder / "services")
    database = Database(user=USER, password=PASSWORD, name="airflow", port=free_port())
    try:
        services.postgres(database, tls=False)
        yield database.port
    finally:
        services.close()
        shutil.rmtree(folder, ignore_errors=True)


def _sign_in(url: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    """psql through a wrapper that records its arguments, as the backup script calls it."""
    wrapper = tmp_path / "bin" / "psql"
    wrapper.parent.mkdir(exist_ok=True)
    wrapper.write_text(f'#!/bin/bash\necho "$*" >> {tmp_path}/args\nexec {PSQL} "$@"\n')
    wrapper.chmod(0o755)
    script = (
        LIBPQ_URL
        + '\npsql --no-psqlrc --tuples-only --no-align --dbname="$url" --command="select current_user"'
    )
    done = subprocess.run(
        ["bash", "-c", script],
        env={"PATH": f"{wrapper.parent}{os.pathsep}{os.environ['PATH']}", "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done, (tmp_path / "args").read_text()


def test_the_url_signs_in_with_its_password_on_no_command_line(port: int, tmp_path: Path) -> None:
    done, args = _sign_in(URL.format(port=port), tmp_path)
    assert (done.returncode, done.stdout.strip()) == (0, USER), done.stderr
    assert "--dbname=postgresql://air%40flow@127.0.0.1:" in args
    assert "p%40ss" not in args
    assert PASSWORD not in args


def test_a_wrong_password_is_refused(port: int, tmp_path: Path) -> None:
    done, _ = _sign_in(URL.format(port=port).replace("%3Ax@", "%3Ay@"), tmp_path)
    assert done.returncode != 0
    assert "password authentication failed" in done.stderr
