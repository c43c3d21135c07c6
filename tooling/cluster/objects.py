"""The objects a kind or minikube cluster has and the test cluster must be given."""

from __future__ import annotations

from pathlib import Path

from tooling.cluster.layout import DNS_SERVICE_IP, NODE_IP

__all__ = ["cluster_objects"]


def cluster_objects(volumes: Path) -> list[dict]:
    """What a kind or minikube cluster has and this one must be given: the DNS Service, a default
    StorageClass with volumes to bind, and the Prometheus Operator's CRDs."""
    objects: list[dict] = [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": "kube-dns",
                "namespace": "kube-system",
                "labels": {"k8s-app": "kube-dns"},
            },
            "spec": {
                "clusterIP": DNS_SERVICE_IP,
                "ports": [
                    {"name": "dns", "port": 53, "protocol": "UDP"},
                    {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
                ],
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": "kube-dns", "namespace": "kube-system"},
            "subsets": [
                {
                    "addresses": [{"ip": NODE_IP}],
                    "ports": [
                        {"name": "dns", "port": 53, "protocol": "UDP"},
                        {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
                    ],
                }
            ],
        },
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": "local",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": "kubernetes.io/no-provisioner",
            "volumeBindingMode": "Immediate",
            "reclaimPolicy": "Delete",
        },
    ]
    # Retained volumes are not bound again: enough for every claim of a deploy, a destroy and a
    # recreate (found on the cluster: with 6, the recreate's Redis claim found none).
    for index in range(12):
        path = volumes / f"pv{index}"
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o1777)
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": f"local-pv{index}"},
                "spec": {
                    "capacity": {"storage": "10Gi"},
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": "local",
                    "persistentVolumeReclaimPolicy": "Retain",
                    "hostPath": {"path": str(path), "type": "Directory"},
                },
            }
        )
    return objects
