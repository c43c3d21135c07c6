"""The names the Secrets of a stack go by, and the annotation that marks a Fernet key generation.

Lower than every component: the chart values, the DAG delivery and the Fernet rotation point at
Secrets by these names, while only ``credentials`` writes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.kube import RELEASE_NAME

__all__ = ["FERNET_GENERATION_ANNOTATION", "GIT_CONNECTION_SECRET", "REGISTRY_SECRET", "SecretNames"]

# On every Airflow pod: a new Fernet key generation changes it, so each pod restarts with new,old.
FERNET_GENERATION_ANNOTATION = "airflow-on-kubernetes/fernet-generation"
# The Secrets of one DAG delivery mode each: fixed, so the mode's code names them without asking.
REGISTRY_SECRET = f"{RELEASE_NAME}-registry"  # image: the pull Secret
GIT_CONNECTION_SECRET = f"{RELEASE_NAME}-git-connection"  # git-bundle: the dags_git connection


@dataclass(frozen=True, kw_only=True)
class SecretNames:
    """The Secret each chart key points at; ``None`` where the stack does not need one."""

    fernet_key: str
    api_secret_key: str
    jwt_secret: str
    webserver_secret_key: str
    admin_password: str
    metadata_connection: str
    postgres_auth: str | None
    redis_password: str | None
    broker_url: str | None
    pgbouncer_config: str | None  # pgbouncer.ini and users.txt
    pgbouncer_stats: str | None  # the metrics exporter's connection
    registry: str | None  # image pull credentials (type kubernetes.io/dockerconfigjson)
    git_ssh_key: str | None  # git-sync's deploy key, key "gitSshKey"
    git_connection: str | None  # the git-bundle's Airflow connection (deploy key inside), key "connection"
    # The task-log bucket's AWS connection, key "connection", where the stack holds it
    # (airflow:remoteLogsConnection); named by airflow:remoteLogs.connectionSecretName.
    task_logs_connection: str | None = None
    # The database backup's direct connection, key "connection", where PgBouncer stands in front of the
    # database (the dump must not go through its transaction pooling); else the metadata connection's.
    backup_connection: str | None = None
    # airflow:connections, airflow:variables and airflow:secretEnv as environment variables, where the
    # stack gives any (connections/environment.py).
    environment: str | None = None
