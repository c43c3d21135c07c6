"""The database's share of the release values: the chart's bundled PostgreSQL, and PgBouncer with the
config and stats Secrets the program writes (``pgbouncer.py``), so the chart renders neither from
plain values."""

from __future__ import annotations

from typing import Any

from components.database.settings import DatabaseSettings, PgBouncerSettings
from components.kube import READ_ONLY_CONTAINER, RESTRICTED_CONTAINER, restricted_contexts, restricted_pod

__all__ = ["pgbouncer_values", "postgresql_values"]

POSTGRES_UID = 1001  # the bitnami PostgreSQL image's user
PGBOUNCER_UID = 65534  # "nobody", the chart's pgbouncer.uid


def postgresql_values(db: DatabaseSettings, auth_secret: str | None) -> dict[str, Any]:
    """The bundled bitnami PostgreSQL, reading both passwords from our Secret (``auth.existingSecret``)."""
    if auth_secret is None:
        return {"enabled": False}
    return {
        "enabled": True,
        "auth": {
            "enablePostgresUser": True,
            "username": "airflow",
            "database": "airflow",
            "existingSecret": auth_secret,
            "secretKeys": {"adminPasswordKey": "postgres-password", "userPasswordKey": "password"},
        },
        "primary": {
            "resources": db.resources.to_kubernetes(),
            "persistence": {"size": db.storage_size},
            "podSecurityContext": {
                "enabled": True,
                "fsGroup": POSTGRES_UID,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containerSecurityContext": {
                "enabled": True,
                "runAsUser": POSTGRES_UID,
                "runAsGroup": POSTGRES_UID,
                **RESTRICTED_CONTAINER,
            },
        },
    }


def pgbouncer_values(
    bouncer: PgBouncerSettings,
    *,
    config_secret: str | None,
    stats_secret: str | None,
    disruption_budget: dict[str, Any],
) -> dict[str, Any]:
    """PgBouncer with our config and stats Secrets, so the chart renders neither from plain values."""
    if not bouncer.enabled:
        return {"enabled": False}
    return {
        "enabled": True,
        "replicas": bouncer.replicas,
        "configSecretName": config_secret,
        # The chart's default `-u nobody` switches user, which only root may; the pod runs as nobody.
        "command": ["pgbouncer", "/etc/pgbouncer/pgbouncer.ini"],
        "maxClientConn": bouncer.max_client_conn,
        "metadataPoolSize": bouncer.metadata_pool_size,
        "resources": bouncer.resources.to_kubernetes(),
        "securityContexts": restricted_contexts(restricted_pod(PGBOUNCER_UID, PGBOUNCER_UID, PGBOUNCER_UID)),
        "podDisruptionBudget": disruption_budget,
        "metricsExporterSidecar": {
            "statsSecretName": stats_secret,
            "statsSecretKey": "connection",
            "resources": bouncer.exporter_resources.to_kubernetes(),
            "securityContexts": {"container": READ_ONLY_CONTAINER},
            # The chart's 1 s is too short for an exec probe on a busy node: a timed-out readiness probe
            # takes PgBouncer out of its Service and every Airflow pod loses its database.
            "livenessProbe": {"initialDelaySeconds": 10, "periodSeconds": 10, "timeoutSeconds": 10},
            "readinessProbe": {"initialDelaySeconds": 10, "periodSeconds": 10, "timeoutSeconds": 10},
        },
    }
