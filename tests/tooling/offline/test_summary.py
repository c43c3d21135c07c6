"""What a render prints about a stack (tooling/offline/summary.py): workloads and their requests, the
broker, the DAG delivery and the secrets a stack still needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import project_with_test_stack
from tooling.offline.render import render
from tooling.offline.trial import THROWAWAY_STACK, project_copy


def test_summary_reports_workloads_secrets_and_total_requests(tmp_path: Path) -> None:
    stack = THROWAWAY_STACK + "  airflow:namespace: team-a\n  airflow:dags: {delivery: configmap}\n"
    _, summary = render("test", tmp_path / "out", project_dir=project_copy(tmp_path, stack))
    assert (
        "release airflow = chart airflow 1.22.0 (https://airflow.apache.org) in namespace team-a" in summary
    )
    assert "executor: KubernetesExecutor" in summary
    # The settings' defaults plus the log groomers (10m/32Mi): scheduler 250m/512Mi+groomer, api-server
    # 250m/768Mi, triggerer 100m/256Mi+groomer, dag-processor 100m/384Mi+groomer, statsd 20m/32Mi,
    # postgresql 100m/256Mi.
    assert "total requests: cpu 850m, memory 2304Mi" in summary
    assert "airflow-fernet" in summary


def test_summary_names_the_git_bundle_its_repository_and_ref(tmp_path: Path) -> None:
    stack = THROWAWAY_STACK + (
        "  airflow:dags:\n    delivery: git-bundle\n"
        "    gitBundle: {repo: 'https://github.com/acme/dags.git', ref: release-7, refreshSeconds: 90}\n"
    )
    _, summary = render("test", tmp_path / "out", project_dir=project_copy(tmp_path, stack))
    assert (
        "dags: git-bundle dags-git https://github.com/acme/dags.git ref release-7 path dags every 90s "
        "(versioned: a run keeps its commit)"
    ) in summary.splitlines()


def test_summary_names_the_dag_delivery_and_the_secrets_it_still_needs(tmp_path: Path) -> None:
    _, summary = render("prod", tmp_path / "out", project_dir=project_with_test_stack(tmp_path, "prod"))
    assert "dags: image ghcr.io/your-org/airflow-dags:dags-" in summary
    last = summary.splitlines()[-1]
    assert last.startswith(
        "not in Pulumi.prod.yaml, rendered with placeholders (set with 'pulumi config set --secret' before "
        "'pulumi up'): "
    )
    assert "airflow:registryPassword" in last.split(": ")[-1].split(", ")
    assert "offline-render-placeholder" not in "".join(
        p.read_text() for p in (tmp_path / "out").rglob("*.yaml")
    )


@pytest.mark.parametrize(
    ("redis", "expected"),
    [
        (
            "",
            "broker: the chart's Redis, 1 pod without probes (chart 1.22.0 has none); see airflow:redis.mode",
        ),
        (
            "  airflow:redis: {mode: external}\n",
            "broker: external Redis over TLS, server certificate and name checked; "
            "URL in Secret airflow-broker",
        ),
    ],
)
def test_summary_says_which_redis_celery_uses(tmp_path: Path, redis: str, expected: str) -> None:
    stack = THROWAWAY_STACK + "  airflow:executor: CeleryExecutor\n" + redis
    _, summary = render("test", tmp_path / "out", project_dir=project_copy(tmp_path, stack))
    assert expected in summary.splitlines()
    assert ("airflow:brokerUrl" in summary.splitlines()[-1]) == bool(redis)  # a placeholder until it is set


def _pin(name: str, index: int) -> str:
    return f"registry.example/{name}:1@sha256:{index:064x}"


def test_summary_names_each_image_that_runs_by_tag_until_every_one_is_pinned(tmp_path: Path) -> None:
    configmap = THROWAWAY_STACK + "  airflow:dags: {delivery: configmap}\n"
    (tmp_path / "a").mkdir()
    _, summary = render("test", tmp_path / "a" / "out", project_dir=project_copy(tmp_path / "a", configmap))
    line = "images by tag, not digest (pin them in airflow:images): airflow, statsd, postgresql"
    assert line in summary.splitlines()
    pins = ", ".join(
        f"{role}: '{_pin(role, i)}'" for i, role in enumerate(("airflow", "statsd", "postgresql"))
    )
    pinned = configmap + f"  airflow:images: {{{pins}}}\n"
    (tmp_path / "b").mkdir()
    _, summary = render("test", tmp_path / "b" / "out", project_dir=project_copy(tmp_path / "b", pinned))
    assert "images: every one by digest" in summary.splitlines()
