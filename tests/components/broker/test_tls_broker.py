"""An external Redis over TLS, for real: Airflow's own Celery app (apache-airflow-providers-celery, kombu,
redis-py) connects with the URL the program writes into the broker Secret, to a real redis-server with
TLS on loopback, and is refused when the server's certificate or name is not the one it should be."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from components.broker.url import verified_broker_url
from tooling.rehearsal.certificates import certificate, key, pem, server_tls
from tooling.rehearsal.services import Services, free_port

REDIS_SERVER = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(
    REDIS_SERVER is None, reason="redis-server is not installed (.ci/system-packages)"
)
PASSWORD = "tls-broker-test-password"


@dataclass(frozen=True)
class TlsRedis:
    port: int
    ca_file: Path  # the CA that signed the server's certificate (for "localhost")
    other_ca_file: Path  # a CA that did not


@pytest.fixture(scope="module")
def tls_redis() -> Iterator[TlsRedis]:
    # Traversable by the unprivileged user the servers run as under root (pytest's own are 0700).
    folder = Path(tempfile.mkdtemp(prefix="tls-redis-"))
    folder.chmod(0o755)
    tls = server_tls(folder, "localhost")
    other_ca_file = folder / "other.crt"
    other_ca_file.write_bytes(pem(certificate("other CA", key(), None)))
    port = free_port()
    services = Services(folder / "services")  # the rehearsal's own Redis, TLS only
    try:
        services.redis(PASSWORD, port, tls)
        yield TlsRedis(port, tls.ca, other_ca_file)
    finally:
        services.close()
        shutil.rmtree(folder, ignore_errors=True)


# Airflow's Celery app, as the scheduler and workers build it from [celery] broker_url (the chart sets
# it from the broker Secret): a message goes to the broker and comes back.
_ROUND_TRIP = """
from airflow.providers.celery.executors.celery_executor_utils import app
with app.connection_for_write() as connection:
    connection.ensure_connection(max_retries=1)
    queue = connection.SimpleQueue("tls-broker-test")
    queue.put({"task": "ping"})
    message = queue.get(timeout=5)
    message.ack()
    print("round trip:", message.payload["task"])
"""


def _celery(url: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CELERY__BROKER_URL": url,
    }
    return subprocess.run(
        [sys.executable, "-c", _ROUND_TRIP], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _url(host: str, port: int) -> str:
    return f"rediss://:{PASSWORD}@{host}:{port}/0"


def test_the_program_s_url_reaches_the_broker_it_trusts(tls_redis: TlsRedis, tmp_path: Path) -> None:
    result = _celery(verified_broker_url(_url("localhost", tls_redis.port), str(tls_redis.ca_file)), tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "round trip: ping" in result.stdout


def test_a_server_signed_by_another_ca_is_refused(tls_redis: TlsRedis, tmp_path: Path) -> None:
    url = verified_broker_url(_url("localhost", tls_redis.port), str(tls_redis.other_ca_file))
    result = _celery(url, tmp_path)
    assert result.returncode != 0
    assert "certificate verify failed" in result.stderr


def test_a_certificate_for_another_name_is_refused(tls_redis: TlsRedis, tmp_path: Path) -> None:
    """The server's certificate names localhost; reached as 127.0.0.1 it is someone else's."""
    result = _celery(verified_broker_url(_url("127.0.0.1", tls_redis.port), str(tls_redis.ca_file)), tmp_path)
    assert result.returncode != 0
    assert "certificate is not valid for '127.0.0.1'" in result.stderr


def test_the_url_as_given_would_trust_any_server(tls_redis: TlsRedis, tmp_path: Path) -> None:
    """Why the program rewrites the URL: kombu's own default for rediss:// checks nothing, so the same
    impostor the tests above refuse is accepted. If kombu ever changes this, this test says so."""
    result = _celery(_url("127.0.0.1", tls_redis.port), tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "round trip: ping" in result.stdout


def test_without_the_name_check_the_impostor_would_pass(tls_redis: TlsRedis, tmp_path: Path) -> None:
    """``ssl_check_hostname`` is what refuses the certificate for another name: redis-py 5 does not
    check names by default, so a certificate the CA issued to anyone would do."""
    url = f"{_url('127.0.0.1', tls_redis.port)}?ssl_cert_reqs=required&ssl_ca_certs={tls_redis.ca_file}"
    result = _celery(url, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
