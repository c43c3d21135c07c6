"""tooling/helm.py: the chart's objects placed as ``helm install`` places them (``helm template`` leaves
their namespace out)."""

from __future__ import annotations

from tooling.helm import in_release_namespace


def test_chart_objects_go_to_the_release_namespace_unless_cluster_scoped_or_placed() -> None:
    objects = [
        {"kind": "Deployment", "metadata": {"name": "airflow-scheduler"}},
        {"kind": "ClusterRole", "metadata": {"name": "airflow-pod-launcher"}},
        {"kind": "ConfigMap", "metadata": {"name": "x", "namespace": "elsewhere"}},
    ]
    placed = in_release_namespace(objects, "airflow")
    assert [o["metadata"].get("namespace") for o in placed] == ["airflow", None, "elsewhere"]
    assert "namespace" not in objects[0]["metadata"]
