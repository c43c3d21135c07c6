"""Upgrading the program itself, judged on the real cluster: a stack deployed from an earlier commit of
this repository, then ``pulumi up`` from the working tree on the same state.

The earlier deploy stores a connection and a variable and starts the probe's waiting tasks; the
snapshot taken then holds, for every Secret the program or the chart made (Helm's release records
aside) and for the namespace and every volume claim, its uid (a replaced object gets a new one) and,
for the Secrets, the hash of their data (a re-rolled password changes it). After the upgrade's ``up``
the same objects must be there with the same uids and hashes, the connection and variable read back,
and the waiting tasks, released, succeed at their first try. Values are never shown, only hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from components.kube import RELEASE_NAME
from tooling.cluster.mid_run import POD_TASK, WaitingRun
from tooling.cluster.stored import StoredValues
from tooling.cluster.timeline import CheckFailed
from tooling.rehearsal.api import Api
from tooling.rehearsal.services import wait_until

__all__ = ["DERIVED_KEYS", "EARLIER_COMMIT", "Snapshot", "UpgradeProbe", "differences", "snapshot"]

# The commit a stack is first deployed from, proven on this cluster at the time: "Stack file: a
# top-level .inf or .nan is named in one line", from before read-only roots (every Airflow container,
# StatsD, PgBouncer, Redis), service-account tokens only for API callers and images by digest, so the
# upgrade changes every pod. Move it forward to each release, so a release is proven to upgrade from
# the one before.
EARLIER_COMMIT = "53c14cedcd4a27e3183ea80514dea2707d39ccb7"
PROBE_ID = "cluster_probe_upgrade"  # the stored connection's and the variable's id


# Secret keys that hold configuration built from other values, not a generated value: an upgrade may
# change them, and since pulumi-kubernetes replaces a Secret whose data changes, replace their Secret.
# Found on the cluster: 53c14ce -> HEAD turns PgBouncer's Unix socket off in pgbouncer.ini.
DERIVED_KEYS = frozenset({(f"{RELEASE_NAME}-pgbouncer-config", "pgbouncer.ini")})


@dataclass(frozen=True)
class Snapshot:
    """What must survive an upgrade: uid per object, and the hash of each Secret's every key."""

    uids: dict[str, str]  # "Kind/name" -> uid
    key_hashes: dict[tuple[str, str], str]  # (Secret name, key) -> sha256 of its value


def snapshot(kubectl_json: Callable[..., Any], namespace: str) -> Snapshot:
    """The namespace, its volume claims and its Secrets (Helm's release records aside: each upgrade
    writes a new one)."""
    uids = {f"Namespace/{namespace}": kubectl_json("get", "namespace", namespace)["metadata"]["uid"]}
    hashes = {}
    for claim in kubectl_json("get", "pvc", "-n", namespace)["items"]:
        uids[f"PersistentVolumeClaim/{claim['metadata']['name']}"] = claim["metadata"]["uid"]
    for secret in kubectl_json("get", "secrets", "-n", namespace)["items"]:
        if secret.get("type") == "helm.sh/release.v1":
            continue
        name = secret["metadata"]["name"]
        uids[f"Secret/{name}"] = secret["metadata"]["uid"]
        for key, value in (secret.get("data") or {}).items():
            hashes[(name, key)] = hashlib.sha256(value.encode()).hexdigest()
    return Snapshot(uids, hashes)


def differences(before: Snapshot, after: Snapshot) -> tuple[list[str], list[str]]:
    """What the upgrade lost, replaced or re-rolled (names only), and the derived configuration it
    changed: (problems, notes)."""
    problems, notes = [], []
    changed = {
        (name, key)
        for (name, key), digest in before.key_hashes.items()
        if after.key_hashes.get((name, key), digest) != digest
    }
    for kind_name in sorted(before.uids):
        kind, name = kind_name.split("/", 1)
        if kind_name not in after.uids:
            problems.append(f"{kind_name} is gone")
            continue
        own = sorted(key for secret, key in changed if secret == name and kind == "Secret")
        rerolled = [key for key in own if (name, key) not in DERIVED_KEYS]
        problems += [f"{kind_name} changed its {key}" for key in rerolled]
        replaced = after.uids[kind_name] != before.uids[kind_name]
        if replaced and (rerolled or not own):
            problems.append(f"{kind_name} was replaced")
        notes += [
            f"{name}'s {key} changed" + (" (the Secret replaced)" if replaced else "")
            for key in own
            if (name, key) in DERIVED_KEYS
        ]
    return sorted(problems), notes


@dataclass
class UpgradeProbe:
    """Set up on the earlier deploy; judged after the upgrade."""

    before: Snapshot
    stored: StoredValues
    waiting: WaitingRun
    notes: list[str] = field(default_factory=list)  # the derived configuration the upgrade changed

    @classmethod
    def start(cls, api: Api, kubectl_json: Callable[..., Any], namespace: str) -> UpgradeProbe:
        """A connection and a variable stored, the waiting tasks running, then the snapshot."""
        stored = StoredValues(api, PROBE_ID)
        waiting = WaitingRun.start(api)
        return cls(snapshot(kubectl_json, namespace), stored, waiting)

    def judge(self, kubectl_json: Callable[..., Any], namespace: str) -> int:
        """After the upgrade's ``up``: nothing lost, replaced or re-rolled, the stored values read back,
        and the tasks that ran across it succeed at their first try. The objects compared."""
        with self.waiting:
            lost, self.notes = differences(self.before, snapshot(kubectl_json, namespace))
            if lost:
                raise CheckFailed("the upgrade: " + "; ".join(lost))
            self.stored.reads_back("the upgrade")
            self.waiting.still_running("the upgrade")
            self.waiting.release_and_finish()
        # The task pod the earlier program started has finished (found on the cluster: still running by
        # tag, it failed images-by-digest); the scheduler deletes it in its own time.
        pod = self.waiting.host(POD_TASK)

        def finished() -> bool:
            pods = {p["metadata"]["name"]: p for p in kubectl_json("get", "pods", "-n", namespace)["items"]}
            return pod not in pods or pods[pod]["status"].get("phase") in ("Succeeded", "Failed")

        wait_until(finished, f"the earlier program's task pod {pod} finished", 300, 3)
        return len(self.before.uids)
