"""The test cluster's images carry exactly the names the pinned chart pulls, as the registry mirror
serves them, so the stack's values stay what a user deploys."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.conftest import CHART_DIR, ROOT
from tooling.cluster import node


def _mirror_path(image: str) -> str:
    """What containerd asks the mirror for: the registry host dropped, Docker Hub's library/ added."""
    for host in ("docker.io/", "quay.io/", "registry.k8s.io/"):
        if image.startswith(host):
            image = image.removeprefix(host)
            return image if "/" in image or host != "docker.io/" else f"library/{image}"
    return image if "/" in image.split(":")[0] else f"library/{image}"


def _pushed() -> dict[str, str]:
    script = (ROOT / ".ci" / "cluster-images").read_text()
    return {name: folder for folder, name in re.findall(r"^image (\S+) (\S+)$", script, re.MULTILINE)}


def _chart_images() -> dict[str, str]:
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    images = values["images"]

    def named(key: str) -> str:
        return f"{images[key]['repository']}:{images[key]['tag']}"

    wanted = {
        "airflow": f"{values['defaultAirflowRepository']}:{values['defaultAirflowTag']}",
        "statsd-exporter": named("statsd"),
        "redis": named("redis"),
        "pgbouncer": named("pgbouncer"),
        "pgbouncer-exporter": named("pgbouncerExporter"),
    }
    postgresql = values["postgresql"]["image"]
    wanted["postgresql"] = f"docker.io/{postgresql['repository']}:{postgresql['tag']}"
    return wanted


@pytest.mark.parametrize("folder", sorted(_chart_images()))
def test_each_chart_image_is_pushed_under_its_mirror_path(folder: str) -> None:
    pushed = _pushed()
    expected = _mirror_path(_chart_images()[folder])
    assert pushed.get(expected) == folder, f"{expected} is not pushed from {folder}/: {pushed}"


def test_the_pause_image_is_the_one_containerd_runs() -> None:
    source = (ROOT / "tooling" / "cluster" / "node.py").read_text()
    sandbox = re.search(r'sandbox_image = "([^"]+)"', source)
    assert sandbox is not None
    assert _pushed().get(_mirror_path(sandbox.group(1))) == "pause"


def test_every_image_folder_is_built_and_has_a_dockerfile() -> None:
    folders = {p.name for p in (ROOT / "tooling" / "cluster" / "images").iterdir() if p.is_dir()}
    assert set(_pushed().values()) == folders
    assert all((ROOT / "tooling" / "cluster" / "images" / f / "Dockerfile").is_file() for f in folders)


def test_the_mirror_serves_every_registry_the_names_use() -> None:
    hosts = {"docker.io", "quay.io", "registry.k8s.io"}
    source = (ROOT / "tooling" / "cluster" / "node.py").read_text()
    assert all(f'"{host}"' in source for host in hosts)
    assert node.REGISTRY.startswith("127.0.0.1:")


def test_the_pins_name_the_images_the_chart_pulls_and_the_test_pushes() -> None:
    from tooling.cluster.pins import CHART_IMAGES

    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    chart = {
        role: f"{values['images'][role]['repository']}:{values['images'][role]['tag']}"
        for role in ("statsd", "pgbouncer", "pgbouncerExporter", "redis")
    }
    postgresql = values["postgresql"]["image"]
    chart["postgresql"] = f"docker.io/{postgresql['repository']}:{postgresql['tag']}"
    pushed = _pushed()
    assert {role: f"{name}:{tag}" for role, (name, tag, _) in CHART_IMAGES.items()} == chart
    assert all(f"{mirrored}:{tag}" in pushed for _, tag, mirrored in CHART_IMAGES.values())


def test_the_monitoring_images_are_pushed_under_the_names_the_operator_and_prometheus_pull() -> None:
    from tooling.cluster.prometheus import PROMETHEUS_IMAGE

    toolchain = (ROOT / ".ci" / "toolchain").read_text()
    (operator_version,) = re.findall(r"^PROMETHEUS_OPERATOR_VERSION=(\S+)$", toolchain, re.MULTILINE)
    pushed = _pushed()
    assert pushed.get(_mirror_path(PROMETHEUS_IMAGE)) == "prometheus"
    for name in ("prometheus-operator", "prometheus-config-reloader"):
        image = f"quay.io/prometheus-operator/{name}:{operator_version}"
        assert pushed.get(_mirror_path(image)) == name, image
