"""What used to pass silently: refused in one line, or meaning exactly what the Pulumi CLI passes on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from components.config import raw_from_config
from components.stack_file import engine_config, read_stack_file
from components.validation import parse_settings
from tests.hostile.conftest import GIT_SYNC, Cli, Refused
from tooling.offline import render as render_module
from tooling.offline.trial import THROWAWAY_STACK, project_copy


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
            THROWAWAY_STACK + "  airflow:monitoring: {mode: false}\n",
            "airflow:monitoring.mode in Pulumi.test.yaml: must be one of 'install', 'existing' or 'off', "
            "got the boolean false: YAML reads an unquoted true or false as a boolean; quote the value "
            '(e.g. mode: "true")',
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
        (
            THROWAWAY_STACK
            + GIT_SYNC
            + "      repo: https://github.com/acme/dags.git\n      ref: '--upload-pack=touch /tmp/owned'\n",
            "airflow:dags.gitSync.ref in Pulumi.test.yaml: must be a branch, tag or commit git accepts",
        ),
        *[
            (
                THROWAWAY_STACK
                + GIT_SYNC
                + f"      repo: https://github.com/acme/dags.git\n      ref: '{ref}'\n",
                "airflow:dags.gitSync.ref in Pulumi.test.yaml: must be a branch, tag or commit git accepts",
            )
            for ref in ("-x", "a..b", ".hidden", "feature/.x", "main.lock", "a//b", "main/", "a@{1}", "@")
        ],
        *[
            (
                THROWAWAY_STACK + GIT_SYNC + f'      repo: "https://github.com/ac{char}me/dags.git"\n',
                "airflow:dags.gitSync.repo in Pulumi.test.yaml: must be an https://, ssh:// or "
                "git@host:org/repo.git URL of printable ASCII",
            )
            for char in ("\\u200b", "\\u202e", "\\e[31m", "\\u00e9")
        ],
        (
            THROWAWAY_STACK + "  airflow:admin: {email: '{{.Release.Name}}@example.com'}\n",
            "airflow:admin.email in Pulumi.test.yaml: must be an e-mail address",
        ),
        (
            THROWAWAY_STACK
            + "  airflow:monitoring: {mode: existing, alerts: {statsdDownFor: 99999999999999999999h}}\n",
            "airflow:monitoring.alerts.statsdDownFor in Pulumi.test.yaml: must be a Prometheus duration",
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
    """Each as `pulumi up` would get it (yaml.v3): `off` is the text "off", at the top (a false bool to
    pydantic, as the user meant) as in an object (monitoring's mode off); `010` is octal 8 and `0x3C` is
    60; a quoted date is its text; `subPath: ""` is the repo's root."""
    stack = tmp_path / "Pulumi.test.yaml"
    stack.write_text(
        "config:\n  airflow:protectStatefulResources: off\n  airflow:dags:\n    delivery: git-sync\n"
        "    gitSync: {repo: 'https://github.com/acme/dags.git', ref: '2026-11-25', subPath: '',"
        " periodSeconds: 0x3C}\n  airflow:workers: {replicas: 010, resources: {cpu: 1, memory: 1Gi,"
        " memoryLimit: 1Gi}}\n  airflow:monitoring: {mode: off}\n"
    )
    config, _ = engine_config(read_stack_file(stack), lambda key: "[secret]")
    settings = parse_settings(raw_from_config(config), source=stack.name)
    assert settings.protect_stateful_resources is False
    assert settings.dags.git_sync is not None
    assert (settings.dags.git_sync.ref, settings.dags.git_sync.sub_path) == ("2026-11-25", "")
    assert settings.dags.git_sync.period_seconds == 60
    assert settings.workers.replicas == 8
    assert settings.monitoring.mode == "off"


def test_pulumi_config_in_the_environment_is_ignored_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    """The engine hands a program its config in PULUMI_CONFIG; left in a shell, it silently overrode the
    stack file in a render. The render reads the stack file alone, and says so."""
    project = project_copy(tmp_path, THROWAWAY_STACK)
    monkeypatch.setattr(render_module, "ROOT", project)
    monkeypatch.setenv("PULUMI_CONFIG", '{"airflow:executor": "CeleryExecutor"}')
    code, _, err = cli("--stack", "test", "--out", str(tmp_path / "out"))
    assert code == 0, err
    release = yaml.safe_load((tmp_path / "out" / "releases" / "airflow.yaml").read_text())
    assert release["values"]["executor"] == "KubernetesExecutor"
    assert (
        err == "render: PULUMI_CONFIG in the environment is ignored; a render reads Pulumi.test.yaml alone\n"
    )
    assert os.environ["PULUMI_CONFIG"] == '{"airflow:executor": "CeleryExecutor"}'
