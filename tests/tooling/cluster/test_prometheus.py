"""The test cluster's Prometheus: the release Debian's package is, and a Prometheus object that selects
what the stack's ``airflow:monitoring`` labels, where the stack's NetworkPolicies admit the scrape."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.observability.settings import MonitoringSettings
from tooling.cluster.prometheus import (
    PROMETHEUS_IMAGE,
    debian_prometheus_version,
    prometheus_objects,
    stack_monitoring,
)


@pytest.mark.parametrize(
    ("dpkg", "release"),
    [("2.42.0+ds-5+deb12u1", "v2.42.0"), ("1:2.53.3+ds1-2", "v2.53.3"), ("2.45.0-1\n", "v2.45.0")],
)
def test_the_release_is_read_from_debians_version(dpkg: str, release: str) -> None:
    assert debian_prometheus_version(dpkg) == release


@pytest.mark.parametrize("dpkg", ["", "2.42", "latest", "2.42.0.1"])
def test_a_version_that_names_no_release_is_refused(dpkg: str) -> None:
    with pytest.raises(RuntimeError, match="prometheus package"):
        debian_prometheus_version(dpkg)


def _prometheus(objects: list[dict]) -> dict:
    (found,) = [o for o in objects if o["kind"] == "Prometheus"]
    return found


def test_the_prometheus_selects_what_the_stack_labels_in_every_namespace() -> None:
    monitoring = MonitoringSettings.model_validate(
        {"mode": "existing", "namespace": "observability", "selectorLabels": {"team": "data", "prom": "main"}}
    )
    objects = prometheus_objects(monitoring, "v2.42.0")
    spec = _prometheus(objects)["spec"]
    assert spec["serviceMonitorSelector"] == {"matchLabels": {"team": "data", "prom": "main"}}
    assert spec["ruleSelector"] == spec["serviceMonitorSelector"]
    assert spec["serviceMonitorNamespaceSelector"] == {}
    assert spec["ruleNamespaceSelector"] == {}
    assert (spec["image"], spec["version"]) == (PROMETHEUS_IMAGE, "v2.42.0")
    # Everything of it lives in the namespace the stack's NetworkPolicies admit for the scrape.
    namespaced = [o for o in objects if o["kind"] not in ("Namespace", "ClusterRoleBinding")]
    assert {o["metadata"]["namespace"] for o in namespaced} == {"observability"}
    assert [o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"] == ["observability"]


def test_the_service_reaches_the_pods_the_operator_labels() -> None:
    objects = prometheus_objects(MonitoringSettings(mode="existing"), "v2.42.0")
    (service,) = [o for o in objects if o["kind"] == "Service"]
    pod_labels = _prometheus(objects)["spec"]["podMetadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["selector"]


def test_the_prometheus_runs_as_restricted_asks() -> None:
    context = _prometheus(prometheus_objects(MonitoringSettings(), "v2.42.0"))["spec"]["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["runAsUser"] != 0
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}


def test_the_stack_files_monitoring_is_read_with_its_defaults(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.trial.yaml").write_text(
        "config:\n  airflow:monitoring:\n    mode: existing\n    selectorLabels: {prometheus: platform}\n"
    )
    monitoring = stack_monitoring(tmp_path, "trial")
    assert monitoring.mode == "existing"
    assert monitoring.selector_labels == {"prometheus": "platform"}
    assert monitoring.namespace == MonitoringSettings().namespace


def test_a_stack_without_monitoring_reads_as_off(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.bare.yaml").write_text("config:\n  airflow:executor: CeleryExecutor\n")
    assert stack_monitoring(tmp_path, "bare").mode == "off"
