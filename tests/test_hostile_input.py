"""Each class of careless input, through the real entry points: one clear line, or exactly what the
Pulumi CLI and Airflow would do; never a traceback, a hang, a leaked credential or a lost file."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from components.config import raw_from_config
from components.stack_file import engine_config, read_stack_file
from components.validation import parse_settings
from tests.conftest import ROOT
from tooling.offline import render as render_module
from tooling.offline.trial import THROWAWAY_STACK, project_copy

GIT_SYNC = "  airflow:dags:\n    delivery: git-sync\n    gitSync:\n"
TOKEN = "ghp_R4nd0mT0k3nV4lu3Th4tMustN0tL34k"
PASSWORD = "Sup3rS3cr3tPassw0rd"


Cli = Callable[..., tuple[int, str, str]]
Refused = Callable[[str | bytes], str]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """``python -m tooling.offline.render ARGS`` in-process: (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = render_module.main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture
def refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli) -> Refused:
    """Renders a project copy whose Pulumi.test.yaml is the given text; asserts a clean refusal and
    returns what it printed."""

    def run(stack_yaml: str | bytes) -> str:
        project = project_copy(tmp_path, THROWAWAY_STACK)
        stack_file = project / "Pulumi.test.yaml"
        if isinstance(stack_yaml, bytes):
            stack_file.write_bytes(stack_yaml)
        else:
            stack_file.write_text(stack_yaml)
        monkeypatch.setattr(render_module, "ROOT", project)
        code, out, err = cli("--stack", "test", "--out", str(tmp_path / "out"))
        assert code == 2, out + err
        assert "Traceback" not in err
        assert out == ""
        assert not (tmp_path / "out").exists()
        return err

    return run


# -- credentials are never echoed ------------------------------------------------------------------


@pytest.mark.parametrize(
    "repo",
    [f"https://bot:{TOKEN}@github.com/acme/dags.git", f"https://{TOKEN}@github.com/acme/dags.git"],
)
def test_a_git_url_with_a_token_is_refused_without_echoing_it(refused: Refused, repo: str) -> None:
    err = refused(THROWAWAY_STACK + GIT_SYNC + f"      repo: {repo}\n")
    assert "airflow:dags.gitSync.repo in Pulumi.test.yaml: embeds a credential" in err
    assert "pulumi config set --secret airflow:gitSshKey" in err
    assert TOKEN not in err


def test_an_ssh_url_with_a_password_is_refused_and_never_reaches_the_values(refused: Refused) -> None:
    err = refused(
        THROWAWAY_STACK + GIT_SYNC + f"      repo: ssh://deploy:{PASSWORD}@git.example.com/dags.git\n"
        "      knownHosts: git.example.com ssh-ed25519 AAAA\n",
    )
    assert "embeds a credential" in err
    assert PASSWORD not in err


def test_a_connection_url_pasted_into_a_plain_key_is_masked(refused: Refused) -> None:
    err = refused(
        THROWAWAY_STACK + "  airflow:database:\n    mode: external\n"
        f"    existingSecretName: postgresql://airflow:{PASSWORD}@db.example.com:5432/airflow\n",
    )
    assert "airflow:database.existingSecretName in Pulumi.test.yaml: must be a DNS label" in err
    assert "postgresql://***@db.example.com" in err
    assert PASSWORD not in err


def test_a_credential_in_a_plain_key_that_would_accept_it_is_refused(refused: Refused) -> None:
    """admin.firstName takes any word: a token there would go into the chart values and the state."""
    err = refused(THROWAWAY_STACK + f"  airflow:admin: {{firstName: {TOKEN}, lastName: 'x=password=abc'}}\n")
    because = (
        " in Pulumi.test.yaml looks like it holds a credential (value not shown), and it is not a secret "
        "key: its value would be stored in plain text in the state and the chart values. Keep credentials "
        "in Secrets or in 'pulumi config set --secret' keys"
    )
    assert err.splitlines() == [
        f"error: airflow:admin.firstName{because}",
        f"airflow:admin.lastName{because}",
    ]


def test_a_private_key_pasted_as_known_hosts_is_refused_unseen(refused: Refused) -> None:
    key_body = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"
    err = refused(
        THROWAWAY_STACK + GIT_SYNC + "      repo: git@github.com:acme/dags.git\n      knownHosts: |\n"
        f"        -----BEGIN OPENSSH PRIVATE KEY-----\n        {key_body}\n"
        "        -----END OPENSSH PRIVATE KEY-----\n",
    )
    assert "airflow:dags.gitSync.knownHosts in Pulumi.test.yaml: must be known_hosts lines" in err
    assert key_body not in err
    assert "PRIVATE KEY" not in err


def test_a_token_in_any_other_key_is_masked(refused: Refused) -> None:
    err = refused(THROWAWAY_STACK + f"  airflow:namespace: {TOKEN}\n")
    assert "airflow:namespace in Pulumi.test.yaml: must be a DNS label" in err
    assert TOKEN not in err


# -- ordinary YAML that used to end in a traceback ----------------------------------------------------


def test_an_unquoted_date_is_the_text_the_cli_passes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    stack = (
        THROWAWAY_STACK + GIT_SYNC + "      repo: https://github.com/acme/dags.git\n      ref: 2026-11-25\n"
    )
    monkeypatch.setattr(render_module, "ROOT", project_copy(tmp_path, stack))
    code, _, err = cli("--stack", "test", "--out", str(tmp_path / "out"))
    assert code == 0, err
    values = yaml.safe_load((tmp_path / "out" / "releases" / "airflow.yaml").read_text())["values"]
    assert values["dags"]["gitSync"]["ref"] == "2026-11-25"


def test_a_non_string_key_is_an_unknown_key(refused: Refused) -> None:
    err = refused(THROWAWAY_STACK + "  airflow:monitoring: {1: x, true: y}\n")
    assert "airflow:monitoring.1 in Pulumi.test.yaml is not a known key" in err
    assert "airflow:monitoring.true in Pulumi.test.yaml is not a known key" in err


def test_a_key_with_control_or_line_breaking_characters_is_shown_escaped_in_one_line(
    refused: Refused,
) -> None:
    # \x1e and \x85 (NEL) end a line for str.splitlines(); \x1b would start a terminal escape.
    err = refused(THROWAWAY_STACK + '  airflow:admin:\n    "a\\x1eb\\Nc\\ed": x\n')
    assert "airflow:admin.a\\x1eb\\x85c\\x1bd in Pulumi.test.yaml is not a known key" in err
    assert len(err.splitlines()) == 1


def test_a_recursive_alias_is_named(refused: Refused) -> None:
    err = refused(THROWAWAY_STACK + "  airflow:dags: &loop\n    again: *loop\n")
    assert "Pulumi.test.yaml:3: airflow:dags.again: an anchor's value contains itself" in err


def test_a_byte_that_is_not_utf8_is_named(refused: Refused) -> None:
    err = refused(THROWAWAY_STACK.encode() + b"  airflow:namespace: caf\xe9\n")
    assert "error: Pulumi.test.yaml:3: byte" in err
    assert "is not UTF-8" in err


@pytest.mark.parametrize("out", ["file", "file/render"])
def test_out_at_a_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli, out: str
) -> None:
    (tmp_path / "file").write_text("mine\n")
    monkeypatch.setattr(render_module, "ROOT", project_copy(tmp_path, THROWAWAY_STACK))
    code, _, err = cli("--stack", "test", "--out", str(tmp_path / out))
    assert code == 2
    assert err.startswith("error: ")
    assert len(err.splitlines()) == 1
    assert (tmp_path / "file").read_text() == "mine\n"


def test_out_in_an_unwritable_place_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    """/proc refuses new folders even to root (CI runs as root, so chmod would prove nothing)."""
    monkeypatch.setattr(render_module, "ROOT", project_copy(tmp_path, THROWAWAY_STACK))
    code, _, err = cli("--stack", "test", "--out", "/proc/airflow-render")
    assert code == 2
    assert err.startswith("error: cannot write the render to /proc/airflow-render: ")
    assert len(err.splitlines()) == 1


# -- no hang, no data loss ------------------------------------------------------------------------------


def _run_module(module: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """``python -m MODULE ARGV`` in the project, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", module, *argv],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )


def test_the_dag_gate_refuses_a_named_pipe_instead_of_hanging(tmp_path: Path) -> None:
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "ok.py").write_text((ROOT / "dags" / "etl_taskflow.py").read_text())
    os.mkfifo(folder / "pipe.py")
    result = _run_module("tooling.gate", str(folder))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "error: dags/pipe.py: is a named pipe (FIFO); a DAG folder holds only regular files and folders"
    ]


@pytest.mark.parametrize("module", ["tooling.offline.render", "tooling.gate"])
@pytest.mark.parametrize("stack", ["../../etc/passwd", "..", "dev/../prod", ""])
def test_a_stack_name_that_is_a_path_is_refused(module: str, stack: str) -> None:
    result = _run_module(
        module, "--stack", stack, *(["--out", "/nonexistent/x"] if "render" in module else [])
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"error: stack name {stack!r} is not one Pulumi allows: letters, digits, '-', '_' and '.', starting "
        "with a letter, digit, '-' or '_'\n"
    )


def test_out_at_a_folder_of_other_files_leaves_them_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    mine = tmp_path / "mine"
    (mine / "manifests").mkdir(parents=True)
    (mine / "notes.md").write_text("keep\n")
    (mine / "manifests" / "by-hand.yaml").write_text("keep\n")
    monkeypatch.setattr(render_module, "ROOT", project_copy(tmp_path, THROWAWAY_STACK))
    code, _, err = cli("--stack", "test", "--out", str(mine))
    assert code == 2
    assert "holds files a render did not write (notes.md)" in err
    assert sorted(p.relative_to(mine).as_posix() for p in mine.rglob("*")) == [
        "manifests",
        "manifests/by-hand.yaml",
        "notes.md",
    ]


def test_a_failed_render_leaves_the_earlier_one_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    project = project_copy(tmp_path, THROWAWAY_STACK)
    monkeypatch.setattr(render_module, "ROOT", project)
    out = tmp_path / "out"
    assert cli("--stack", "test", "--out", str(out))[0] == 0
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    real_write = render_module._write

    def fail_midway(path: Path, document: object, header: str = "") -> None:
        if path.name == "outputs.yaml":
            raise OSError(28, "No space left on device")
        real_write(path, document, header)

    monkeypatch.setattr(render_module, "_write", fail_midway)
    (project / "Pulumi.test.yaml").write_text(THROWAWAY_STACK + "  airflow:executor: CeleryExecutor\n")
    code, _, err = cli("--stack", "test", "--out", str(out))
    assert code == 2
    assert err == f"error: cannot write the render to {out}: No space left on device\n"
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "project"]  # no staging folder left


# -- what used to be accepted silently ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stack_yaml", "expected"),
    [
        (
            THROWAWAY_STACK + "  executor: CeleryExecutor\n",
            "Pulumi.test.yaml:3: config key 'executor' is not of the form namespace:name",
        ),
        (
            THROWAWAY_STACK + "  airfow:executor: CeleryExecutor\n",
            "airfow:executor in Pulumi.test.yaml: 'airfow' is not this project's namespace, so nothing would "
            "read it; did you mean 'airflow:executor'?",
        ),
        (
            THROWAWAY_STACK + "  airflow:executor: CeleryExecutor\n  airflow:executor: KubernetesExecutor\n",
            "Pulumi.test.yaml:4: key 'airflow:executor' under config is also set on line 3",
        ),
        (
            THROWAWAY_STACK + "  airflow:monitoring: {mode: off}\n",
            "airflow:monitoring.mode in Pulumi.test.yaml: must be one of 'install', 'existing' or 'off', "
            "got the boolean false: inside an object, YAML reads an unquoted off, on, no, yes, n or y as a "
            'boolean; quote the value (e.g. mode: "off")',
        ),
        (
            THROWAWAY_STACK + "  airflow:dags: {delivery: configmap, folder: ../../etc}\n",
            "airflow:dags.folder in Pulumi.test.yaml: must be a relative path inside the repository",
        ),
        (
            THROWAWAY_STACK
            + GIT_SYNC
            + "      repo: https://github.com/acme/dags.git\n      subPath: ../..\n",
            "airflow:dags.gitSync.subPath in Pulumi.test.yaml: must be a relative path inside the repository",
        ),
        (
            THROWAWAY_STACK + "  airflow:namespace: kube-system\n",
            "airflow:namespace 'kube-system' is reserved for Kubernetes' own components (kube-*)",
        ),
        (
            THROWAWAY_STACK + "  airflow:namespace: monitoring\n  airflow:monitoring: {mode: install}\n",
            "airflow:namespace and airflow:monitoring.namespace are both 'monitoring'",
        ),
        (
            THROWAWAY_STACK + "  airflow:monitoring: {mode: existing, alerts: {parseTimeSeconds: .inf}}\n",
            "airflow:monitoring.alerts.parseTimeSeconds: '.inf' is not a number the Pulumi CLI can pass on",
        ),
        (
            THROWAWAY_STACK
            + "  airflow:monitoring:\n    mode: existing\n    alerts: {parseTimeSeconds: inf}\n",
            "airflow:monitoring.alerts.parseTimeSeconds in Pulumi.test.yaml: Input should be a finite number",
        ),
        (
            THROWAWAY_STACK
            + "  airflow:remoteLogs: {bucket: My_Bucket, roleArn: 'arn:aws:iam::123456789012:role/r'}\n",
            "airflow:remoteLogs.bucket in Pulumi.test.yaml: must be an S3 bucket name: 3 to 63 lowercase",
        ),
        (
            THROWAWAY_STACK
            + "  airflow:remoteLogs: {bucket: 192.168.1.1, roleArn: 'arn:aws:iam::123456789012:role/r'}\n",
            "must be an S3 bucket name: not an IP address",
        ),
        (
            THROWAWAY_STACK
            + "  airflow:remoteLogs: {bucket: logs..airflow, roleArn: 'arn:aws:iam::123456789012:role/r'}\n",
            "must be an S3 bucket name: without '..', '.-' or '-.'",
        ),
        (
            THROWAWAY_STACK
            + "  airflow:remoteLogs: {bucket: xn--logs, roleArn: 'arn:aws:iam::123456789012:role/r'}\n",
            "must be an S3 bucket name: not starting with xn--",
        ),
        (
            THROWAWAY_STACK + f"  airflow:ingress: {{enabled: true, host: {'a' * 64}.example.com, "
            "clusterIssuer: letsencrypt}\n",
            "airflow:ingress.host in Pulumi.test.yaml: must be a DNS name of at most 253 characters: "
            "dot-separated labels of 1 to 63",
        ),
        (
            THROWAWAY_STACK
            + "  airflow:monitoring: {mode: existing, selectorLabels: {release: "
            + "x" * 64
            + "}}\n",
            "airflow:monitoring.selectorLabels.release in Pulumi.test.yaml: must be a Kubernetes label value",
        ),
    ],
)
def test_what_used_to_pass_silently_is_refused_in_one_line(
    refused: Refused, stack_yaml: str, expected: str
) -> None:
    err = refused(stack_yaml)
    assert expected in err
    assert all(line.startswith(("error: ", "Pulumi.", "airflow:", "airfow:")) for line in err.splitlines()), (
        err
    )


def test_a_dag_file_with_a_byte_order_mark_renders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    project = project_copy(tmp_path, THROWAWAY_STACK + "  airflow:dags: {delivery: configmap}\n")
    source = (project / "dags" / "etl_taskflow.py").read_bytes()
    (project / "dags" / "etl_taskflow.py").write_bytes(b"\xef\xbb\xbf" + source)
    monkeypatch.setattr(render_module, "ROOT", project)
    code, _, err = cli("--stack", "test", "--out", str(tmp_path / "out"))
    assert code == 0, err


def test_inputs_accepted_on_purpose_mean_what_the_pulumi_cli_passes_on(tmp_path: Path) -> None:
    """Each as `pulumi up` would get it: a top-level `off` is the text "off" (a false bool to pydantic, as
    the user meant); inside an object `010` is octal 8 and `0x3C` is 60; `subPath: ""` is the repo's root."""
    stack = tmp_path / "Pulumi.test.yaml"
    stack.write_text(
        "config:\n  airflow:protectStatefulResources: off\n  airflow:dags:\n    delivery: git-sync\n"
        "    gitSync: {repo: 'https://github.com/acme/dags.git', ref: 2026-11-25, subPath: '',"
        " periodSeconds: 0x3C}\n  airflow:workers: {replicas: 010, resources: {cpu: 1, memory: 1Gi,"
        " memoryLimit: 1Gi}}\n"
    )
    config, _ = engine_config(read_stack_file(stack), lambda key: "[secret]")
    settings = parse_settings(raw_from_config(config), source=stack.name)
    assert settings.protect_stateful_resources is False
    assert settings.dags.git_sync is not None
    assert (settings.dags.git_sync.ref, settings.dags.git_sync.sub_path) == ("2026-11-25", "")
    assert settings.dags.git_sync.period_seconds == 60
    assert settings.workers.replicas == 8
