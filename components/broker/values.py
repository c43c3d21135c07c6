"""The broker's share of the release values: an external Redis's CA certificate in every Airflow pod."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from components.broker.settings import REDIS_CA_FILE, RedisSettings
from components.kube import RELEASE_NAME

__all__ = ["REDIS_CA_CONFIGMAP", "broker_values"]

REDIS_CA_CONFIGMAP = f"{RELEASE_NAME}-redis-ca"


def broker_values(redis: RedisSettings) -> dict[str, Any]:
    """The chart's ``volumes`` and ``volumeMounts`` reach every Airflow container, task pods included:
    whichever process builds Celery's connection finds the CA the URL names. A CA is public; no pod
    gains anything it should not have."""
    if redis.ca_certificate is None:
        return {}
    path = PurePosixPath(REDIS_CA_FILE)
    return {
        "volumes": [
            {
                "name": "redis-ca",
                "configMap": {"name": REDIS_CA_CONFIGMAP, "items": [{"key": path.name, "path": path.name}]},
            }
        ],
        "volumeMounts": [{"name": "redis-ca", "mountPath": str(path.parent), "readOnly": True}],
    }
