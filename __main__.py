"""Airflow 3 on Kubernetes: namespace, generated Secrets, DAG delivery and the Airflow release."""

from pathlib import Path

import pulumi

from components.airflow import AirflowRelease, AirflowReleaseArgs
from components.config import ConfigError, load_settings
from components.dag_folder import dags_for_delivery
from components.dags import DagDelivery, DagDeliveryArgs
from components.exposure import AirflowNetworkPolicies, AirflowNetworkPoliciesArgs
from components.monitoring import Monitoring, MonitoringArgs
from components.namespace import AirflowNamespace, AirflowNamespaceArgs
from components.secrets import AirflowSecrets, AirflowSecretsArgs

try:
    settings = load_settings()
    dag_folder = dags_for_delivery(settings.dags, Path(__file__).resolve().parent)
except ConfigError as err:
    # RunError ends the program with the message alone: a config or DAG mistake is not a crash.
    raise pulumi.RunError(str(err)) from None

namespace = AirflowNamespace(
    "airflow", AirflowNamespaceArgs(name=settings.namespace, protect=settings.protect_stateful_resources)
)
secrets = AirflowSecrets("airflow", AirflowSecretsArgs(settings=settings, namespace=namespace.name))
dags = DagDelivery(
    "airflow",
    DagDeliveryArgs(settings=settings, names=secrets.names, namespace=namespace.name, dags=dag_folder),
)
airflow = AirflowRelease(
    "airflow",
    AirflowReleaseArgs(
        settings=settings,
        namespace=namespace.name,
        secret_names=secrets.names,
        dag_values=dags.values,
        secrets=[*secrets.secrets, *dags.dependencies],
    ),
)
AirflowNetworkPolicies("airflow", AirflowNetworkPoliciesArgs(settings=settings, namespace=namespace.name))
monitoring = Monitoring("airflow", MonitoringArgs(settings=settings, namespace=namespace.name))

pulumi.export("namespace", namespace.name)
pulumi.export("executor", settings.executor)
pulumi.export("dagImage", dags.image_ref)
pulumi.export("apiServerService", airflow.api_server_service)
pulumi.export("apiServerUrl", airflow.api_server_url)
pulumi.export("adminUsername", settings.admin.username)
pulumi.export("adminPassword", secrets.admin_password)
pulumi.export("secretNames", {k: v for k, v in vars(secrets.names).items() if v is not None})
pulumi.export("grafanaAdminPassword", monitoring.grafana_admin_password)
