"""The broker's share of the release values: the chart's Redis, or an external Redis's CA certificate in
every Airflow pod."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from components.broker.settings import REDIS_CA_FILE, RedisSettings
from components.kube import RELEASE_NAME, restricted_contexts, restricted_pod

__all__ = ["REDIS_CA_CONFIGMAP", "broker_values", "redis_values"]

REDIS_CA_CONFIGMAP = f"{RELEASE_NAME}-redis-ca"
REDIS_UID = 999  # the "redis" user of the redis:7.2-bookworm image the chart pins


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


def redis_values(redis: RedisSettings, password_secret: str | None) -> dict[str, Any]:
    """The chart's ``redis``: on with the generated password only where Celery uses the chart's Redis."""
    if password_secret is None:
        # The chart writes a redis password Secret whenever redis is enabled, even unused.
        return {"enabled": False}
    return {
        "enabled": True,
        "passwordSecretName": password_secret,
        "uid": REDIS_UID,
        "resources": redis.resources.to_kubernetes(),
        "securityContexts": restricted_contexts(restricted_pod(REDIS_UID, REDIS_UID, REDIS_UID)),
    }
