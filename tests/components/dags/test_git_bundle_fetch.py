"""The git DAG bundle fetched for real: the rendered chart's bundle config, the program's connection
Secret and known-hosts ConfigMap, the git provider the apache/airflow image ships, and a git repository
behind a real sshd on loopback.

What the chart and the program render is taken as it is, with one rewrite: the known-hosts folder the
pods mount (``/opt/airflow/git-known-hosts``) is a temporary folder here. The bundle is fetched by
Airflow's own ``DagBundlesManager`` in a child process (Airflow reads its configuration at import).
"""

from __future__ import annotations

import configparser
import getpass
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from components.dags.values import GIT_CONN_ENV, KNOWN_HOSTS_DIR
from tests.conftest import render_chart, run_stack
from tests.helpers import secret_string_data
from tooling.offline.render import manifests
from tooling.offline.runtime import plain
from tooling.rehearsal.services import free_port, listening, wait_until

SSHD = Path("/usr/sbin/sshd")
pytestmark = pytest.mark.skipif(not SSHD.exists(), reason="sshd is installed by .ci/system-packages")

DAG = """from airflow.sdk import dag, task


@dag(schedule=None, tags=["bundle"])
def from_the_bundle():
    @task(owner="data")
    def hello():
        return "{greeting}"

    hello()


from_the_bundle()
"""


def _git(*args: str, cwd: Path) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    done = subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def _keypair(path: Path) -> str:
    """A new ed25519 key at ``path``; its public line without the comment."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)], check=True)
    return " ".join(path.with_suffix(".pub").read_text().split()[:2])


@dataclass
class GitServer:
    """A bare repository behind sshd on 127.0.0.1, and a working copy that pushes to it."""

    url: str
    known_hosts: str
    client_key: str
    work: Path

    def commit(self, greeting: str) -> str:
        (self.work / "dags").mkdir(exist_ok=True)
        (self.work / "dags" / "from_the_bundle.py").write_text(DAG.format(greeting=greeting))
        (self.work / "README.md").write_text("outside the bundle's sub-path\n")
        _git("add", "-A", cwd=self.work)
        _git("commit", "-q", "-m", greeting, cwd=self.work)
        _git("push", "-q", "origin", "HEAD:main", cwd=self.work)
        return _git("rev-parse", "HEAD", cwd=self.work)


@pytest.fixture
def git_server(tmp_path: Path) -> Iterator[GitServer]:
    ssh = tmp_path / "ssh"
    ssh.mkdir()
    host_key = _keypair(ssh / "host_key")
    (ssh / "authorized_keys").write_text(_keypair(ssh / "client_key") + "\n")
    port = free_port()
    config = ssh / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {ssh / 'host_key'}\n"
        f"AuthorizedKeysFile {ssh / 'authorized_keys'}\nPidFile {ssh / 'sshd.pid'}\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
        "LogLevel ERROR\n"
    )
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation folder, when run as root
    bare = tmp_path / "dags.git"
    _git("init", "-q", "--bare", "-b", "main", str(bare), cwd=tmp_path)
    work = tmp_path / "work"
    _git("clone", "-q", str(bare), str(work), cwd=tmp_path)
    server = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)], stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: listening(port), "sshd on 127.0.0.1", timeout=10)
        yield GitServer(
            url=f"ssh://{getpass.getuser()}@127.0.0.1:{port}{bare}",
            known_hosts=f"[127.0.0.1]:{port} {host_key}",
            client_key=(ssh / "client_key").read_text(),
            work=work,
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


@dataclass
class Rendered:
    """What a dag-processor pod of the stack gets: its airflow.cfg, its environment, its mounts."""

    bundle_config_list: str
    connection: str
    known_hosts: str
    mount_path: str


def _rendered(server: GitServer, known_hosts: str) -> Rendered:
    recording = run_stack(
        "dev",
        secret_keys=["airflow:gitSshKey"],
        executor="CeleryExecutor,KubernetesExecutor",
        dags={
            "delivery": "git-bundle",
            "gitBundle": {"repo": server.url, "ref": "main", "subPath": "dags", "knownHosts": known_hosts},
        },
        gitSshKey=server.client_key,
    )
    release = plain(recording.release().inputs)
    objects = render_chart(release["values"], namespace=release["namespace"])
    config = next(
        o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "airflow-config"
    )
    parsed = configparser.ConfigParser(interpolation=None)
    parsed.read_string(config["data"]["airflow.cfg"])
    processor = next(
        o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "airflow-dag-processor"
    )
    (container,) = [
        c for c in processor["spec"]["template"]["spec"]["containers"] if c["name"] == "dag-processor"
    ]
    (env,) = [e for e in container["env"] if e["name"] == GIT_CONN_ENV]
    ref = env["valueFrom"]["secretKeyRef"]
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == KNOWN_HOSTS_DIR]
    (volume,) = [v for v in processor["spec"]["template"]["spec"]["volumes"] if v["name"] == mount["name"]]
    (hosts,) = [
        m
        for m in manifests(recording)
        if m["kind"] == "ConfigMap" and m["metadata"]["name"] == volume["configMap"]["name"]
    ]
    return Rendered(
        bundle_config_list=parsed["dag_processor"]["dag_bundle_config_list"],
        connection=secret_string_data(recording, ref["name"])[ref["key"]],
        known_hosts=hosts["data"]["known_hosts"],
        mount_path=mount["mountPath"],
    )


# Runs in a child process: fetches the bundle at its tracking ref, or at one version, and reports.
_FETCH = """
import json, sys
from airflow.dag_processing.bundles.manager import DagBundlesManager
(name,) = [b.name for b in DagBundlesManager().get_all_dag_bundles()]
version = sys.argv[1] or None
bundle = DagBundlesManager().get_bundle(name, version=version)
bundle.initialize()
files = sorted(p.relative_to(bundle.path).as_posix() for p in bundle.path.rglob("*") if p.is_file())
dag = (bundle.path / "from_the_bundle.py").read_text()
print(json.dumps({"name": name, "version": bundle.get_current_version(), "files": files, "dag": dag}))
"""


def _fetch(rendered: Rendered, tmp_path: Path, version: str = "") -> subprocess.CompletedProcess[str]:
    mount = tmp_path / "git-known-hosts"  # stands in for the pods' read-only mount
    mount.mkdir(exist_ok=True)
    (mount / "known_hosts").write_text(rendered.known_hosts)
    connection = rendered.connection.replace(rendered.mount_path, str(mount))
    home = tmp_path / "airflow-home"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": rendered.bundle_config_list,
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_STORAGE_PATH": str(tmp_path / "bundles"),
        GIT_CONN_ENV: connection,
    }
    return subprocess.run(
        [sys.executable, "-c", _FETCH, version], env=env, capture_output=True, text=True, timeout=120
    )


def _report(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_rendered_bundle_fetches_over_ssh_and_a_run_keeps_its_commit(
    git_server: GitServer, tmp_path: Path
) -> None:
    first = git_server.commit("first")
    rendered = _rendered(git_server, git_server.known_hosts)
    assert json.loads(rendered.bundle_config_list)[0]["kwargs"]["tracking_ref"] == "main"

    tracking = _report(_fetch(rendered, tmp_path))
    assert (tracking["name"], tracking["version"]) == ("dags-git", first)
    assert tracking["files"] == ["from_the_bundle.py"]  # the sub-path only

    second = git_server.commit("second")
    assert _report(_fetch(rendered, tmp_path))["version"] == second
    pinned = _report(_fetch(rendered, tmp_path, version=first))
    assert pinned["version"] == first
    assert 'return "first"' in pinned["dag"]


def test_a_host_not_in_known_hosts_is_refused_not_trusted_on_first_use(
    git_server: GitServer, tmp_path: Path
) -> None:
    git_server.commit("first")
    port = git_server.known_hosts.split()[0].rsplit(":", 1)[1]
    host_key = " ".join(git_server.known_hosts.split()[1:])
    # The right key, listed for another host: the provider's own default (accept-new) would connect.
    rendered = _rendered(git_server, f"[127.0.0.9]:{port} {host_key}")
    done = _fetch(rendered, tmp_path)
    assert done.returncode != 0
    assert "Host key verification failed" in done.stderr
    assert git_server.client_key.splitlines()[1] not in done.stderr + done.stdout
