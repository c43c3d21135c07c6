"""Remote task logs on S3: the Airflow config, the connection, and the IAM role of every service account.

Airflow 3's task supervisor uploads each finished log through the S3 remote log IO and the api-server
reads it back from the bucket; both find the bucket in ``[logging] remote_base_log_folder`` and the
credentials in the connection ``remote_log_conn_id``. The connection comes from the environment
(``AIRFLOW_CONN_...``): with an IAM role it holds only the region (boto3 takes IRSA's web identity from
the pod), with a Secret it is that Secret's value. Nothing secret enters the values.
"""

from __future__ import annotations

import json
from typing import Any

from components.observability.settings import LogPersistenceSettings, RemoteLogSettings

__all__ = ["CONNECTION_ENV", "CONNECTION_ID", "log_persistence_values", "remote_log_values"]

CONNECTION_ID = "aws_task_logs"
CONNECTION_ENV = f"AIRFLOW_CONN_{CONNECTION_ID.upper()}"
_IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
# Every component that writes or reads task logs, as the chart names its service accounts.
_SERVICE_ACCOUNTS = [
    ("scheduler",),
    ("apiServer",),
    ("triggerer",),
    ("dagProcessor",),
    ("workers", "celery"),
    ("workers", "kubernetes"),
]


def remote_log_values(logs: RemoteLogSettings | None) -> dict[str, Any]:
    """Task logs to S3 (``[logging] remote_*``): task pods and Celery workers come and go with deploys,
    so the logs must outlive them; nothing where no bucket is set."""
    if logs is None:
        return {}
    values: dict[str, Any] = {
        "config": {
            "logging": {
                "remote_logging": "True",
                "remote_base_log_folder": f"s3://{logs.bucket}/{logs.prefix}",
                "remote_log_conn_id": CONNECTION_ID,
                # Local copies go once uploaded: the bucket is the record, pods are not.
                "delete_local_logs": "True",
            }
        }
    }
    if logs.role_arn is not None:
        connection = {"conn_type": "aws", "extra": {"region_name": logs.region}}
        values["env"] = [{"name": CONNECTION_ENV, "value": json.dumps(connection, sort_keys=True)}]
        for path in _SERVICE_ACCOUNTS:
            node = values
            for key in path:
                node = node.setdefault(key, {})
            node["serviceAccount"] = {"annotations": {_IRSA_ANNOTATION: logs.role_arn}}
    else:
        values["secret"] = [
            {"envName": CONNECTION_ENV, "secretName": logs.connection_secret_name, "secretKey": "connection"}
        ]
    return values


def log_persistence_values(persistence: LogPersistenceSettings) -> dict[str, Any]:
    """The chart's shared logs volume (``logs.persistence``): one PVC every Airflow pod mounts."""
    if not persistence.enabled:
        return {}
    volume: dict[str, Any] = {"enabled": True, "size": persistence.size}
    if persistence.storage_class_name is not None:
        volume["storageClassName"] = persistence.storage_class_name
    if persistence.existing_claim is not None:
        volume["existingClaim"] = persistence.existing_claim
    return {"logs": {"persistence": volume}}
