"""``airflow:pools`` applied by a Job once the database is migrated, at every ``up`` that changes them.

The Job's script makes the pools the stack file lists exactly as listed, and removes the pools it made
earlier that the file no longer lists. It knows its own by a mark at the end of their description, so a
pool made in the UI or by another tool is never touched. ``default_pool`` is Airflow's: its slots may be
set, it is never removed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.connections.settings import DEFAULT_POOL, Pool
from components.kube import AIRFLOW_POD, MANAGED_LABELS, RELEASE_NAME, RESTRICTED_CONTAINER
from components.model import Resources

__all__ = ["MANAGED_MARK", "SYNC_POOLS", "PoolsJob", "PoolsJobArgs", "desired_pools"]

POOLS_IMAGE = "apache/airflow:3.2.2"  # the CLI and the database, not the DAGs
MANAGED_MARK = "[airflow:pools]"  # ends the description of every pool the Job made
MIGRATION_WAIT_SECONDS = 900

# Waits for the migrations the release's Job runs, then makes the database's pools what POOLS says.
SYNC_POOLS = """
import json, os, subprocess, sys
def airflow(*args):
    return subprocess.run(["airflow", *args], check=True, capture_output=True, text=True).stdout
airflow("db", "check-migrations", "--migration-wait-timeout", os.environ["MIGRATION_WAIT_SECONDS"])
wanted, mark = json.loads(os.environ["POOLS"]), os.environ["MANAGED_MARK"]
listed = [line for line in airflow("pools", "list", "--output", "json").splitlines() if line.startswith("[")]
existing = {p["pool"]: p for p in json.loads(listed[-1] if listed else "[]")}
for name, pool in sorted(wanted.items()):
    deferred = ["--include-deferred"] if pool["include_deferred"] else []
    airflow("pools", "set", name, str(pool["slots"]), pool["description"], *deferred)
    print("pool " + name + ": " + str(pool["slots"]) + " slots", flush=True)
for name, pool in sorted(existing.items()):
    if name not in wanted and (pool.get("description") or "").endswith(mark) and name != "default_pool":
        airflow("pools", "delete", name)
        print("pool " + name + ": removed (no longer in airflow:pools)", flush=True)
"""


def desired_pools(pools: dict[str, Pool]) -> dict[str, dict[str, Any]]:
    """What the Job makes, by name: slots, description (marked as the Job's, except default_pool's,
    which is Airflow's own and never removed) and whether deferred tasks count."""
    return {
        name: {
            "slots": pool.slots,
            "description": pool.description
            if name == DEFAULT_POOL
            else f"{pool.description} {MANAGED_MARK}".lstrip(),
            "include_deferred": pool.include_deferred,
        }
        for name, pool in sorted(pools.items())
    }


@dataclass(frozen=True, kw_only=True)
class PoolsJobArgs:
    namespace: pulumi.Input[str]
    pools: dict[str, Pool]
    metadata_secret: str  # the Secret of Airflow's metadata connection, key "connection"
    release: pulumi.Resource  # whose migration Job the script waits for
    resources: Resources
    placement: dict[str, Any] = field(default_factory=dict)  # overrides/values.own_pod_placement


class PoolsJob(pulumi.ComponentResource):
    """A Job named by a hash of the pools it applies: a change makes a new Job (and removes the old), no
    change leaves the finished one as it is. Nothing where the stack lists no pool; listing none after
    some leaves them (remove them from the file one by one first, or in the UI)."""

    def __init__(self, name: str, args: PoolsJobArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow:components:PoolsJob", name, None, opts)
        if not args.pools:
            self.register_outputs({})
            return
        wanted = json.dumps(desired_pools(args.pools), sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(wanted.encode()).hexdigest()[:10]
        labels = MANAGED_LABELS | {"app.kubernetes.io/component": "pools"}
        env = [
            {
                "name": "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
                "valueFrom": {"secretKeyRef": {"name": args.metadata_secret, "key": "connection"}},
            },
            {"name": "POOLS", "value": wanted},
            {"name": "MANAGED_MARK", "value": MANAGED_MARK},
            {"name": "MIGRATION_WAIT_SECONDS", "value": str(MIGRATION_WAIT_SECONDS)},
        ]
        k8s.batch.v1.Job(
            f"{name}-pools",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"{RELEASE_NAME}-pools-{digest}", namespace=args.namespace, labels=labels
            ),
            spec={
                "backoffLimit": 3,
                "activeDeadlineSeconds": MIGRATION_WAIT_SECONDS + 600,
                "template": {
                    # tier/release as the chart labels its pods: PgBouncer's and the bundled PostgreSQL's
                    # NetworkPolicies admit the release's pods by these two labels.
                    "metadata": {"labels": labels | {"tier": "airflow", "release": RELEASE_NAME}},
                    "spec": {
                        "restartPolicy": "OnFailure",
                        "automountServiceAccountToken": False,  # it calls no Kubernetes API
                        "securityContext": AIRFLOW_POD,
                        **args.placement,
                        "containers": [
                            {
                                "name": "apply-pools",
                                "image": POOLS_IMAGE,
                                "command": ["python", "-c", SYNC_POOLS],
                                "env": env,
                                "resources": args.resources.to_kubernetes(),
                                "securityContext": RESTRICTED_CONTAINER,
                            }
                        ],
                    },
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.release]),
        )
        self.register_outputs({"pools": sorted(args.pools)})
