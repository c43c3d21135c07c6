"""Fernet key rotation: one Job per new key generation runs ``airflow rotate-fernet-key`` once.

Order matters, or a stored connection becomes unreadable: every Airflow pod must hold ``new,old``
before anything is re-encrypted under ``new`` (a pod with only ``old`` cannot read a re-encrypted
value). The release restarts every pod when the keys it holds change (``airflowPodAnnotations``), and the
Job first waits until no Airflow pod of an older generation is left (Celery workers finish their tasks
first), then rotates. The Job is named by generation, so each rotation runs exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.kube import AIRFLOW_POD, MANAGED_LABELS, RELEASE_NAME, RESTRICTED_CONTAINER
from components.model import Resources
from components.rbac import Rule, bound_role
from components.secrets.names import FERNET_GENERATION_ANNOTATION, SecretNames
from components.secrets.settings import FernetSettings

__all__ = ["WAIT_THEN_ROTATE", "FernetRotation", "FernetRotationArgs"]

ROTATION_IMAGE = "apache/airflow:3.2.2"  # rotate-fernet-key needs Airflow and the database, not the DAGs

# Waits until every long-running Airflow pod and task pod carries the new generation, then rotates.
WAIT_THEN_ROTATE = """
import os, subprocess, sys, time
from kubernetes import client, config
config.load_incluster_config()
api = client.CoreV1Api()
namespace, generation = os.environ["NAMESPACE"], os.environ["GENERATION"]
annotation = os.environ["ANNOTATION"]
components = ("scheduler", "api-server", "triggerer", "dag-processor", "worker")
while True:
    pods = api.list_namespaced_pod(namespace, label_selector="tier=airflow,release=" + os.environ["RELEASE"])
    old = [
        p.metadata.name for p in pods.items
        if p.metadata.labels.get("component") in components
        and p.status.phase in ("Pending", "Running")
        and (p.metadata.annotations or {}).get(annotation) != generation
    ]
    if not old:
        break
    print("waiting for pods without generation " + generation + ": " + ", ".join(sorted(old)), flush=True)
    time.sleep(15)
sys.exit(subprocess.call(["airflow", "rotate-fernet-key"]))
"""


@dataclass(frozen=True, kw_only=True)
class FernetRotationArgs:
    """The generations to rotate between, the release that gives every pod new,old, and how long a Celery
    worker may still run old tasks."""

    namespace: pulumi.Input[str]
    fernet: FernetSettings
    names: SecretNames
    release: pulumi.Resource  # the release that gives every pod new,old
    # The Job pod's nodeSelector, tolerations, affinity... (overrides/values.own_pod_placement).
    placement: dict[str, Any] = field(default_factory=dict)
    job_resources: Resources
    # How long a Celery worker may take to finish its tasks before the last old pod is gone.
    grace_period_seconds: int


class FernetRotation(pulumi.ComponentResource):
    """With a previous generation set, a Job that waits until no pod of the old generation runs, then
    re-encrypts every stored connection and variable with the new key (``airflow rotate-fernet-key``).
    Nothing without a previous generation."""

    def __init__(
        self, name: str, args: FernetRotationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("airflow:components:FernetRotation", name, None, opts)
        fernet = args.fernet
        if fernet.previous_generation is None:
            self.register_outputs({})
            return
        child = pulumi.ResourceOptions(parent=self)
        role_name = f"{RELEASE_NAME}-fernet-rotation"
        account = k8s.core.v1.ServiceAccount(
            f"{name}-fernet-rotation",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=role_name, namespace=args.namespace, labels=MANAGED_LABELS
            ),
            automount_service_account_token=True,
            opts=child,
        )
        role, binding = bound_role(
            f"{name}-fernet-rotation",
            role_name=role_name,
            namespace=args.namespace,
            service_account=role_name,
            rules=(Rule("pods", ("get", "list")),),
            opts=child,
        )
        generation = str(fernet.generation)
        env = [
            _from_secret("AIRFLOW__CORE__FERNET_KEY", args.names.fernet_key, "fernet-key"),
            _from_secret("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", args.names.metadata_connection, "connection"),
            {"name": "NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            # Waits for pods holding new,old (the release's annotation while rotating).
            {"name": "GENERATION", "value": fernet.held_generations},
            {"name": "ANNOTATION", "value": FERNET_GENERATION_ANNOTATION},
            {"name": "RELEASE", "value": RELEASE_NAME},
        ]
        resources = args.job_resources.to_kubernetes()
        k8s.batch.v1.Job(
            f"{name}-rotate-fernet-key-{generation}",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"{RELEASE_NAME}-rotate-fernet-key-{generation}",
                namespace=args.namespace,
                labels=MANAGED_LABELS | {"app.kubernetes.io/component": "fernet-rotation"},
            ),
            spec={
                "backoffLimit": 3,
                # Celery workers may take their grace period to finish before the last old pod goes.
                "activeDeadlineSeconds": args.grace_period_seconds + 3600,
                "template": {
                    # tier/release as the chart labels its pods: the NetworkPolicies of PgBouncer and
                    # the bundled PostgreSQL admit the release's pods by exactly these two labels.
                    "metadata": {
                        "labels": MANAGED_LABELS
                        | {
                            "app.kubernetes.io/component": "fernet-rotation",
                            "tier": "airflow",
                            "release": RELEASE_NAME,
                        }
                    },
                    "spec": {
                        "serviceAccountName": role_name,
                        "restartPolicy": "OnFailure",
                        "securityContext": AIRFLOW_POD,
                        **args.placement,
                        "containers": [
                            {
                                "name": "rotate-fernet-key",
                                "image": ROTATION_IMAGE,
                                "command": ["python", "-c", WAIT_THEN_ROTATE],
                                "env": env,
                                "resources": resources,
                                "securityContext": RESTRICTED_CONTAINER,
                            }
                        ],
                    },
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.release, account, role, binding]),
        )
        self.register_outputs({})


def _from_secret(name: str, secret: str, key: str) -> dict[str, object]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}
