"""The real services a rehearsal runs against: PostgreSQL, PgBouncer, Redis, an S3 and a StatsD socket.

Each listens on 127.0.0.1 on a free port, lives in the rehearsal's temporary folder and is stopped by
``Services.close``. PostgreSQL and PgBouncer refuse to run as root, so as root (CI) the servers run as
the unprivileged ``postgres`` user Debian's package creates.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tooling.rehearsal.certificates import ServerTls

__all__ = ["Database", "Services", "StatsdListener", "free_port", "listening", "wait_until"]

# Debian's layout: /usr/lib/postgresql/<major>/bin; the newest installed.
POSTGRES_BIN = max(
    Path("/usr/lib/postgresql").glob("*/bin"),
    key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    default=Path("/usr/lib/postgresql/15/bin"),
)
_SERVICE_USER = "postgres"


def free_port() -> int:
    """A free loopback port, so two rehearsals (or CI beside a developer) never collide."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(check: Callable[[], bool], what: str, timeout: float, interval: float = 0.5) -> None:
    """Polls ``check`` until it is true; a RuntimeError naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise RuntimeError(f"{what}: not ready after {timeout:.0f} s")


def listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    with closing(socket.socket()) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass(frozen=True)
class Database:
    """The operator's external PostgreSQL, as the connection URL of the stack's existing Secret names it."""

    user: str
    password: str
    name: str
    port: int

    def url(self, sslmode: str) -> str:
        """The database's URL as an operator would give it."""
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.name}?sslmode={sslmode}"


class StatsdListener(threading.Thread):
    """Collects every StatsD line that arrives until stopped (StatsD packs several into a datagram)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port: int = self.socket.getsockname()[1]
        self.lines: list[str] = []
        self.packets = 0
        self._stopping = threading.Event()

    @property
    def names(self) -> set[str]:
        return {line.split(":", 1)[0] for line in self.lines}

    def run(self) -> None:
        """Receives StatsD packets until stopped."""
        while not self._stopping.is_set():
            try:
                data, _ = self.socket.recvfrom(65535)
            except TimeoutError:
                continue
            self.packets += 1
            self.lines += data.decode(errors="replace").splitlines()

    def stop(self) -> None:
        """Stops receiving and joins the thread."""
        self._stopping.set()
        self.join(timeout=5)
        self.socket.close()


@dataclass
class Services:
    """Starts and stops the servers; every one of them is stopped by ``close``, whatever happened."""

    root: Path
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    cleanups: list[Callable[[], Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.as_root = os.geteuid() == 0
        self.logs = self.root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            self._owned(self.root)

    def _owned(self, path: Path) -> Path:
        """As root, hands ``path`` to the unprivileged service user, which the servers run as."""
        if self.as_root:
            user = pwd.getpwnam(_SERVICE_USER)
            os.chown(path, user.pw_uid, user.pw_gid)
        return path

    def _folder(self, name: str) -> Path:
        folder = self.root / name
        folder.mkdir(mode=0o700, exist_ok=True)
        return self._owned(folder)

    def _log(self, name: str) -> Path:
        """``logs/<name>.log``, writable by the user the process runs as."""
        log = self.logs / f"{name}.log"
        log.touch()
        return self._owned(log)

    def _user(self) -> dict[str, Any]:
        return {"user": _SERVICE_USER, "group": pwd.getpwnam(_SERVICE_USER).pw_gid} if self.as_root else {}

    def start(
        self, name: str, args: list[str], *, as_service_user: bool = True, **kwargs: Any
    ) -> subprocess.Popen[bytes]:
        """A long-running process in its own session (so a stop reaches its children), logging to
        ``logs/<name>.log``."""
        user = self._user() if as_service_user else {}
        with self._log(name).open("ab") as out:
            process = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **user, **kwargs
            )
        self.processes.append((name, process))
        return process

    def run(
        self, name: str, args: list[str], *, timeout: float = 120, as_service_user: bool = True, **kwargs: Any
    ) -> None:
        """A command to completion; a RuntimeError naming it and its log when it fails."""
        log = self._log(name)
        user = self._user() if as_service_user else {}
        with log.open("ab") as out:
            result = subprocess.run(
                args, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False, **user, **kwargs
            )
        if result.returncode != 0:
            raise RuntimeError(f"{name}: exit code {result.returncode} (log: {log})")

    def postgres(self, database: Database, tls: bool) -> None:
        """An initialised cluster with the database and its owner, password-authenticated (scram) over
        TCP, with a self-signed certificate when ``tls``: ``sslmode=require`` wants encryption, not a CA."""
        data = self._folder("postgres")
        self.run("initdb", [str(POSTGRES_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"])
        settings = [
            "listen_addresses = '127.0.0.1'",
            f"port = {database.port}",
            f"unix_socket_directories = '{data}'",
            "password_encryption = 'scram-sha-256'",
            "fsync = off",
        ]
        if tls:
            self.run(
                "openssl",
                [
                    "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-keyout", str(data / "server.key"), "-out", str(data / "server.crt"),
                ],
            )  # fmt: skip
            settings.append("ssl = on")
        with (data / "postgresql.conf").open("a") as conf:
            conf.write("\n".join(settings) + "\n")
        # Local (socket) administration stays trusted; every TCP client must give a scram password.
        (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n")
        self.start("postgres", [str(POSTGRES_BIN / "postgres"), "-D", str(data)])
        wait_until(lambda: listening(database.port), "PostgreSQL", 30)
        psql = [str(POSTGRES_BIN / "psql"), "-h", str(data), "-p", str(database.port), "-U", "postgres"]
        psql += ["-v", "ON_ERROR_STOP=1"]

        def accepting() -> bool:
            check = subprocess.run(
                [*psql, "-c", "select 1"], capture_output=True, check=False, **self._user()
            )
            return check.returncode == 0

        wait_until(accepting, "PostgreSQL accepting connections", 30)
        # On stdin, not the command line, where ps would show the password.
        sql = (
            f"create role \"{database.user}\" login password '{database.password}';\n"
            f'create database "{database.name}" owner "{database.user}";\n'
        )
        self.run("psql", [*psql, "-f", "-"], input=sql.encode())

    def pgbouncer(self, ini: str, users: str, port: int) -> None:
        """PgBouncer with the program's own pgbouncer.ini and users.txt; only where it listens and keeps
        its files is changed (see ``local_pgbouncer_ini``)."""
        folder = self._folder("pgbouncer")
        (folder / "users.txt").write_text(users)
        (folder / "pgbouncer.ini").write_text(ini)
        for name in ("users.txt", "pgbouncer.ini"):
            self._owned(folder / name)
            (folder / name).chmod(0o600)
        self.start(
            "pgbouncer", [shutil.which("pgbouncer") or "/usr/sbin/pgbouncer", str(folder / "pgbouncer.ini")]
        )
        wait_until(lambda: listening(port), "PgBouncer", 30)

    def redis(self, password: str, port: int, tls: ServerTls | None = None) -> None:
        """Redis with ``password``; with ``tls``, on ``port`` over TLS only (as a managed Redis is)."""
        folder = self._folder("redis")
        conf = folder / "redis.conf"
        listen = f"port {port}\n"
        if tls is not None:  # copies the server uses as the service user can read them
            for path in (tls.certificate, tls.key, tls.ca):
                shutil.copy(path, folder / path.name)
                self._owned(folder / path.name).chmod(0o600)
            listen = (
                f"port 0\ntls-port {port}\ntls-cert-file {folder / tls.certificate.name}\n"
                f"tls-key-file {folder / tls.key.name}\ntls-ca-cert-file {folder / tls.ca.name}\n"
                "tls-auth-clients no\n"
            )
        # The password goes in a file, not on the command line, where ps would show it.
        conf.write_text(
            f'bind 127.0.0.1\n{listen}requirepass {password}\ndir {folder}\nsave ""\nappendonly no\n'
        )
        self._owned(conf)
        conf.chmod(0o600)
        self.start("redis", [shutil.which("redis-server") or "/usr/bin/redis-server", str(conf)])
        wait_until(lambda: listening(port), "Redis", 30)

    def s3(self, port: int) -> None:
        """moto's S3 server: where the task logs the stack sends to S3 land."""
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line a request otherwise

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        self.cleanups.append(server.stop)

    def close(self) -> None:
        """Stops every server (SIGTERM, then SIGKILL after 10 s); never raises."""
        for _, process in reversed(self.processes):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for _, process in reversed(self.processes):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for cleanup in reversed(self.cleanups):
            with contextlib.suppress(Exception):  # a server that will not stop must not hide the real error
                cleanup()
