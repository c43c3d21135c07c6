"""Where the real ``pulumi`` runs against the test cluster: a copy of the project (so a stack file the CLI
writes to, or a DAG the test edits, is never the clone's), a local file backend, a passphrase secrets
provider, the built plugins registered in a Pulumi home of its own, and the stand-ins on PATH."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tooling.cluster.layout import NodeLayout

__all__ = ["PulumiResult", "Workspace"]

PROJECT = Path(__file__).resolve().parents[2]
# The Python SDK of requirements.txt asks the engine for kubernetes 4.34.2; .ci/toolchain builds the
# provider source the proxy serves and it is registered as that version (README: "The real cluster").
KUBERNETES_PLUGIN_VERSION = "4.34.2"
PROBE_DAG = Path(__file__).resolve().parent / "dags" / "cluster_probe.py"
_STAND_INS = {
    "pulumi-language-python": "tooling.cluster.plugins.language_host",
    "pulumi-resource-random": "tooling.cluster.plugins.random_provider",
    "pulumi-resource-docker": "tooling.cluster.plugins.docker_provider",
}


@dataclass(frozen=True)
class PulumiResult:
    """One run of the real ``pulumi`` CLI: its exit code, output and time."""

    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def changes(self) -> list[tuple[str, str]]:
        """``(type, name)`` of each resource a ``--json`` preview or refresh changes, from the URNs of
        its steps; none when the output is no JSON (a run that failed before planning)."""
        try:
            steps = json.loads(self.stdout).get("steps", [])
        except ValueError:
            return []
        urns = {step["urn"] for step in steps if step.get("op") not in ("same", "read")}
        return sorted((urn.split("::")[-2].split("$")[-1], urn.split("::")[-1]) for urn in urns)


class Workspace:
    """The real Pulumi CLI on a copy of the project, with its own backend, passphrase and plugins."""

    def __init__(self, layout: NodeLayout, stack: str) -> None:
        self.layout = layout
        self.stack = stack
        self.folder = layout.run / "stack"
        self.home = layout.run / "pulumi-home"
        self.backend = layout.run / "state"
        self.passphrase_file = layout.run / "passphrase"
        self.bin = layout.run / "bin"
        self.deployed_commits: list[str] = []  # the commit of each ``up``, in order

    @property
    def env(self) -> dict[str, str]:
        return os.environ | {
            "PATH": f"{self.bin}{os.pathsep}{self.layout.bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "PULUMI_HOME": str(self.home),
            "PULUMI_BACKEND_URL": f"file://{self.backend}",
            "PULUMI_CONFIG_PASSPHRASE_FILE": str(self.passphrase_file),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_SKIP_CONFIRMATIONS": "true",
            "KUBECONFIG": str(self.layout.kubeconfig),
            "DOCKER_HOST": self.layout.docker_host,
            "NO_COLOR": "1",
        }

    def prepare(self, commit: str | None = None) -> None:
        """The project copy (of the working tree, or of an earlier ``commit``), the plugins, the backend
        and the stack."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        if commit is None:
            self._copy_working_tree(keep_stack_files=False)
        else:
            done = subprocess.run(
                ["git", "archive", "--format=tar", commit], cwd=PROJECT, capture_output=True
            )
            if done.returncode != 0:
                raise RuntimeError(
                    f"the earlier commit {commit[:12]} to upgrade from is not in this clone "
                    "(a shallow clone? git fetch --unshallow)"
                )
            archive = done.stdout
            subprocess.run(["tar", "-x", "-C", str(self.folder)], input=archive, check=True)
            shutil.copy2(PROBE_DAG, self.folder / "dags" / PROBE_DAG.name)
        # The program's own virtualenv (bash .ci/setup), as Pulumi.yaml names it.
        (self.folder / ".venv").symlink_to(PROJECT / ".venv")
        self._init_repository(commit or "the working tree")
        self.bin.mkdir(parents=True, exist_ok=True)
        # The language host must lie beside the pulumi binary: a hard link keeps it one file.
        for name in ("pulumi", "pulumi-language-python-exec"):
            target = self.bin / name
            target.unlink(missing_ok=True)
            os.link(self.layout.bin / name, target)
        for name, module in _STAND_INS.items():
            script = self.bin / name
            python = PROJECT / ".venv" / "bin" / "python"
            script.write_text(f'#!/bin/sh\nPYTHONPATH="{PROJECT}" exec "{python}" -m {module} "$@"\n')
            script.chmod(0o755)
        self.backend.mkdir(parents=True, exist_ok=True)
        self.passphrase_file.write_text(secrets.token_urlsafe(24))
        self.passphrase_file.chmod(0o600)
        self.run(
            "plugin",
            "install",
            "resource",
            "kubernetes",
            KUBERNETES_PLUGIN_VERSION,
            "--file",
            str(self.layout.bin / "pulumi-resource-kubernetes"),
            check=True,
        )
        self.run("stack", "init", self.stack, check=True)

    def upgrade_program(self) -> None:
        """The working tree's program over an earlier commit's copy, as ``git pull`` brings it to an
        operator: files it no longer has are removed; the stack files keep what the stack set."""
        keep = {path for path in self.folder.glob("Pulumi.*.yaml")}
        for path in sorted(self.folder.rglob("*"), reverse=True):
            if path.is_symlink() or path in keep or ".git" in path.relative_to(self.folder).parts:
                continue
            if path.is_file():
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        self._copy_working_tree(keep_stack_files=True)

    def _copy_working_tree(self, *, keep_stack_files: bool) -> None:
        """The clone's tracked and untracked-but-not-ignored files, and the test's own DAG beside the
        user's (tooling/cluster/dags/cluster_probe.py)."""
        listed = (
            subprocess.run(
                ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                cwd=PROJECT,
                check=True,
                capture_output=True,
            )
            .stdout.decode()
            .split("\0")
        )
        for name in filter(None, listed):
            source, target = PROJECT / name, self.folder / name
            if not source.is_file() or (
                keep_stack_files and target.match("Pulumi.*.yaml") and target.exists()
            ):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        shutil.copy2(PROBE_DAG, self.folder / "dags" / PROBE_DAG.name)

    def _git(self, *args: str) -> str:
        identity = ["-c", "user.name=cluster-test", "-c", "user.email=cluster-test@localhost"]
        done = subprocess.run(
            ["git", *identity, *args], cwd=self.folder, check=True, capture_output=True, text=True
        )
        return done.stdout.strip()

    def _init_repository(self, source: str) -> None:
        """The copy as a git repository of its own, as a user's clone is: each ``up`` deploys a
        commit, which Pulumi's history records (git.head) and a rollback checks out again."""
        self._git("init", "-q", "-b", "main")
        # The shared virtualenv is a symlink, which the project's ".venv/" pattern does not match.
        (self.folder / ".git" / "info" / "exclude").write_text("/.venv\n")
        self._git("add", "-A")
        self._git("commit", "-q", "-m", f"the program of {source}")

    def file_at(self, commit: str, path: str) -> str:
        """``path`` as ``commit`` of the copy holds it."""
        return self._git("show", f"{commit}:{path}")

    def commit(self) -> str:
        """Commits what the test changed (a stack value, a DAG edit, a new program); HEAD's sha."""
        self._git("add", "-A")
        if subprocess.run(["git", "diff", "--cached", "--quiet"], cwd=self.folder, check=False).returncode:
            self._git("commit", "-q", "-m", "the cluster test's change")
        return self._git("rev-parse", "HEAD")

    def run(
        self, *args: str, check: bool = False, stdin: str | None = None, timeout: float = 3600
    ) -> PulumiResult:
        """``pulumi ARGS`` in the project copy; with ``check``, a failure raises with the end of its
        output. An ``up`` deploys a commit: what the test changed is committed first."""
        if args[:1] == ("up",):
            self.deployed_commits.append(self.commit())
        started = time.monotonic()
        done = subprocess.run(
            [str(self.bin / "pulumi"), *args],
            cwd=self.folder,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        result = PulumiResult(done.returncode, done.stdout, done.stderr, time.monotonic() - started)
        if check and result.code != 0:
            raise RuntimeError(
                f"pulumi {' '.join(args[:2])} failed ({result.code}):\n{result.output[-3000:]}"
            )
        return result

    def set_secret(self, key: str, value: str, *, path: bool = False) -> None:
        """``pulumi config set --secret`` (``--path`` for an entry of a secret mapping), as a user sets a
        credential."""
        # On stdin: a secret never on a command line.
        self.run("config", "set", "--secret", *(["--path"] if path else []), key, stdin=value, check=True)

    def set_value(self, key: str, value: str, *, path: bool = False) -> None:
        """``pulumi config set`` of a plain value (``--path`` for a nested key)."""
        # --plaintext: the CLI refuses a plain value whose key reads like a secret (...SecretName).
        # "--": a value may start with a dash (a PEM certificate does).
        self.run("config", "set", "--plaintext", *(["--path"] if path else []), "--", key, value, check=True)

    def config_value(self, key: str) -> str | None:
        """The stack's plain value at ``key`` (a ``--path``: ``airflow:tasks.celeryConcurrency``), or
        None where the stack does not set it."""
        current = self.run("config", "get", "--path", key)
        return current.stdout.strip() if current.code == 0 else None

    def outputs(self) -> dict[str, Any]:
        """The stack outputs, secrets masked as the CLI masks them."""
        return json.loads(self.run("stack", "output", "--json", check=True).stdout or "{}")

    def export(self) -> str:
        """``pulumi stack export``: the state as the engine stores it."""
        return self.run("stack", "export", check=True).stdout

    def shell_assignments(self, airflow_api: str) -> list[str]:
        """What ``--keep`` prints to ``eval``: the variables that point kubectl and pulumi at the kept
        cluster."""
        env = self.env
        return [
            f"KUBECONFIG={env['KUBECONFIG']}",
            f"PULUMI_BACKEND_URL={env['PULUMI_BACKEND_URL']}",
            f"PULUMI_CONFIG_PASSPHRASE_FILE={env['PULUMI_CONFIG_PASSPHRASE_FILE']}",
            f"PULUMI_HOME={env['PULUMI_HOME']}",
            f"PATH={self.bin}:{self.layout.bin}:$PATH",
            f"DOCKER_HOST={env['DOCKER_HOST']}",
            f"STACK_DIR={self.folder}",
            f"AIRFLOW_API={airflow_api}",
        ]
