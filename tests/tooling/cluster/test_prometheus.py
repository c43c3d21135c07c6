"""The test cluster's Prometheus: the release the toolchain builds, and a Prometheus object that selects
what the stack's ``airflow:monitoring`` labels, where the stack's NetworkPolicies admit the scrape."""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from components.model import ConfigError
from components.observability.settings import MonitoringSettings
from tests.conftest import ROOT
from tooling.cluster.prometheus import (
    PROMETHEUS_IMAGE,
    PROMETHEUS_VERSION,
    PrometheusApi,
    prometheus_objects,
    stack_monitoring,
)


def test_the_prometheus_named_is_the_release_the_toolchain_builds() -> None:
    toolchain = (ROOT / ".ci" / "toolchain").read_text()
    (release,) = re.findall(r"^PROMETHEUS_RELEASE=(\S+)$", toolchain, re.MULTILINE)
    (module,) = re.findall(r"^PROMETHEUS_VERSION=(\S+)$", toolchain, re.MULTILINE)
    assert f"v{release}" == PROMETHEUS_VERSION
    # Prometheus' module numbers release 3.M.P as v0.3MM.P.
    major, minor, patch = release.split(".")
    assert module == f"v0.{int(major) * 100 + int(minor)}.{patch}"


def _prometheus(objects: list[dict]) -> dict:
    (found,) = [o for o in objects if o["kind"] == "Prometheus"]
    return found


def test_the_prometheus_selects_what_the_stack_labels_in_every_namespace() -> None:
    monitoring = MonitoringSettings.model_validate(
        {"mode": "existing", "namespace": "observability", "selectorLabels": {"team": "data", "prom": "main"}}
    )
    objects = prometheus_objects(monitoring)
    spec = _prometheus(objects)["spec"]
    assert spec["serviceMonitorSelector"] == {"matchLabels": {"team": "data", "prom": "main"}}
    assert spec["ruleSelector"] == spec["serviceMonitorSelector"]
    assert spec["serviceMonitorNamespaceSelector"] == {}
    assert spec["ruleNamespaceSelector"] == {}
    assert (spec["image"], spec["version"]) == (PROMETHEUS_IMAGE, PROMETHEUS_VERSION)
    # Everything of it lives in the namespace the stack's NetworkPolicies admit for the scrape.
    namespaced = [o for o in objects if o["kind"] not in ("Namespace", "ClusterRoleBinding")]
    assert {o["metadata"]["namespace"] for o in namespaced} == {"observability"}
    assert [o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"] == ["observability"]


def test_the_service_reaches_the_pods_the_operator_labels() -> None:
    objects = prometheus_objects(MonitoringSettings(mode="existing"))
    (service,) = [o for o in objects if o["kind"] == "Service"]
    pod_labels = _prometheus(objects)["spec"]["podMetadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert service["spec"]["selector"]
    # The operator sets these on the pods itself, over podMetadata: a selector on them would select its value.
    assert not service["spec"]["selector"].keys() & {"app.kubernetes.io/name", "app.kubernetes.io/instance"}


def test_the_prometheus_runs_as_restricted_asks() -> None:
    context = _prometheus(prometheus_objects(MonitoringSettings()))["spec"]["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["runAsUser"] != 0
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}


def test_the_stack_files_monitoring_is_read_with_its_defaults(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.trial.yaml").write_text(
        "config:\n  airflow:protectStatefulResources: false\n"
        "  airflow:monitoring:\n    mode: existing\n    selectorLabels: {prometheus: platform}\n"
    )
    monitoring = stack_monitoring(tmp_path, "trial")
    assert monitoring.mode == "existing"
    assert monitoring.selector_labels == {"prometheus": "platform"}
    assert monitoring.namespace == MonitoringSettings().namespace


def test_a_stack_without_monitoring_reads_as_off(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.bare.yaml").write_text(
        "config:\n  airflow:executor: CeleryExecutor\n  airflow:protectStatefulResources: false\n"
    )
    assert stack_monitoring(tmp_path, "bare").mode == "off"


def test_a_bad_monitoring_key_is_the_programs_one_line_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.bad.yaml").write_text(
        "config:\n  airflow:protectStatefulResources: false\n  airflow:monitoring: {mode: sometimes}\n"
    )
    with pytest.raises(ConfigError) as caught:
        stack_monitoring(tmp_path, "bad")
    assert str(caught.value).startswith("airflow:monitoring.mode in Pulumi.bad.yaml: must be one of")
    assert "\n" not in str(caught.value)


@pytest.fixture
def answering() -> Iterator[Callable[[int, bytes], str]]:
    """A loopback HTTP server that answers every GET with the status and body the test gives; its URL."""
    reply: dict[str, Any] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(reply["status"])
            self.end_headers()
            self.wfile.write(reply["body"])

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def answer(status: int, body: bytes) -> str:
        reply.update(status=status, body=body)
        return f"http://127.0.0.1:{server.server_port}"

    try:
        yield answer
    finally:
        server.shutdown()
        server.server_close()


def test_an_answer_that_is_not_the_api_is_one_error(answering: Callable[[int, bytes], str]) -> None:
    """A proxy's HTML error page or an empty 503 says so, instead of a JSON decoding traceback."""
    with pytest.raises(RuntimeError, match="Prometheus query: not an API answer: '<html>bad gateway'"):
        PrometheusApi(answering(502, b"<html>bad gateway")).query("up")
    with pytest.raises(RuntimeError, match="Prometheus query: bad_data: parse error"):
        PrometheusApi(
            answering(400, b'{"status": "error", "errorType": "bad_data", "error": "parse error"}')
        ).query("up{")
