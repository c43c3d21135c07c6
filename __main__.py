"""Airflow 3 on Kubernetes: namespace, Secrets, DAG delivery, the release, and what runs beside it."""

from pathlib import Path

import pulumi

from components.airflow import AirflowRelease, AirflowReleaseArgs
from components.config import ConfigError, load_settings
from components.dag_folder import dags_for_delivery
from components.dags import DagDelivery, DagDeliveryArgs
from components.exposure import AirflowNetworkPolicies, AirflowNetworkPoliciesArgs
from components.fernet import FernetRotation, FernetRotationArgs
from components.monitoring import Monitoring, MonitoringArgs
from components.namespace import AirflowNamespace, AirflowNamespaceArgs
from components.secrets import AirflowSecrets, AirflowSecretsArgs

try:
    settings = load_settings()
    dag_folder = dags_for_delivery(settings.dags, Path(__file__).resolve().parent)
except ConfigError as err:
    # RunError ends the program with the message alone: a config or DAG mistake is not a crash.
    raise pulumi.RunError(str(err)) from None

ns = AirflowNamespace(
    "airflow", AirflowNamespaceArgs(name=settings.namespace, protect=settings.protect_stateful_resources)
)
secrets = AirflowSecrets("airflow", AirflowSecretsArgs(settings=settings, namespace=ns.name))
dags = DagDelivery(
    "airflow", DagDeliveryArgs(settings=settings, names=secrets.names, namespace=ns.name, dags=dag_folder)
)
airflow = AirflowRelease(
    "airflow",
    AirflowReleaseArgs(
        settings=settings,
        namespace=ns.name,
        secret_names=secrets.names,
        dag_values=dags.values,
        secrets=[*secrets.secrets, *dags.dependencies],
    ),
)
FernetRotation(
    "airflow",
    FernetRotationArgs(settings=settings, namespace=ns.name, names=secrets.names, release=airflow.release),
)
AirflowNetworkPolicies("airflow", AirflowNetworkPoliciesArgs(settings=settings, namespace=ns.name))
monitoring = Monitoring("airflow", MonitoringArgs(settings=settings, namespace=ns.name))

for output, value in {
    "namespace": ns.name,
    "executor": settings.executor,
    "dagImage": dags.image_ref,
    "apiServerService": airflow.api_server_service,
    "apiServerUrl": airflow.api_server_url,
    "adminUsername": settings.admin.username,
    "adminPassword": secrets.admin_password,
    "grafanaAdminPassword": monitoring.grafana_admin_password,
    "secretNames": {k: v for k, v in vars(secrets.names).items() if v is not None},
}.items():
    pulumi.export(output, value)
