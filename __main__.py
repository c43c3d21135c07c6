"""Airflow 3 on Kubernetes: namespace, Secrets, DAG delivery, the release, and what runs beside it."""

from pathlib import Path

import pulumi

from components.config import ConfigError, load_settings
from components.dags.delivery import DagDelivery, DagDeliveryArgs
from components.dags.folder import dags_for_delivery
from components.network.namespace import AirflowNamespace, AirflowNamespaceArgs
from components.network.policies import AirflowNetworkPolicies, AirflowNetworkPoliciesArgs
from components.observability.monitoring import Monitoring, MonitoringArgs
from components.release.chart import AirflowRelease, AirflowReleaseArgs
from components.secrets.credentials import AirflowSecrets, AirflowSecretsArgs
from components.secrets.fernet import FernetRotation, FernetRotationArgs

try:
    settings = load_settings()
    dag_folder = dags_for_delivery(settings.dags, Path(__file__).resolve().parent)
except ConfigError as err:
    # RunError ends the program with the message alone: a config or DAG mistake is not a crash.
    raise pulumi.RunError(str(err)) from None

ns = AirflowNamespace(
    "airflow", AirflowNamespaceArgs(name=settings.namespace, protect=settings.protect_stateful_resources)
)
secrets = AirflowSecrets("airflow", AirflowSecretsArgs.of(settings, ns.name))
dags = DagDelivery("airflow", DagDeliveryArgs.of(settings, secrets.names, ns.name, dag_folder))
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
FernetRotation("airflow", FernetRotationArgs.of(settings, ns.name, secrets.names, airflow.release))
AirflowNetworkPolicies("airflow", AirflowNetworkPoliciesArgs.of(settings, ns.name))
monitoring = Monitoring(
    "airflow",
    MonitoringArgs(
        monitoring=settings.monitoring, namespace=ns.name, database_cleanup=settings.database.cleanup.enabled
    ),
)

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
