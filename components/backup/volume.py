"""The volume claim the backups are written to: made before the release, whose migration Job mounts
it, and protected with the stack's stateful resources, since its dumps are the way back from a
migration."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.backup.values import BACKUP_CLAIM
from components.kube import MANAGED_LABELS

__all__ = ["BackupVolume", "BackupVolumeArgs"]


@dataclass(frozen=True)
class BackupVolumeArgs:
    namespace: pulumi.Input[str]
    storage_size: str
    protect: bool


class BackupVolume(pulumi.ComponentResource):
    """One ReadWriteOnce claim of the cluster's default storage class."""

    claim: k8s.core.v1.PersistentVolumeClaim

    def __init__(self, name: str, args: BackupVolumeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow:components:BackupVolume", name, None, opts)
        self.claim = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-db-backups",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=BACKUP_CLAIM,
                namespace=args.namespace,
                labels=MANAGED_LABELS | {"app.kubernetes.io/component": "database-backup"},
            ),
            spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                access_modes=["ReadWriteOnce"],
                resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": args.storage_size}),
            ),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.register_outputs({})
