"""Airflow 3 on Kubernetes: the stack's namespace, its generated Secrets and the Airflow release."""

import pulumi

from components.airflow import AirflowRelease, AirflowReleaseArgs
from components.config import ConfigError, load_settings
from components.namespace import AirflowNamespace, AirflowNamespaceArgs
from components.secrets import AirflowSecrets, AirflowSecretsArgs

try:
    settings = load_settings()
except ConfigError as err:
    # RunError ends the program with the message alone: a config mistake is not a crash.
    raise pulumi.RunError(str(err)) from None

namespace = AirflowNamespace(
    "airflow", AirflowNamespaceArgs(name=settings.namespace, protect=settings.protect_stateful_resources)
)
secrets = AirflowSecrets("airflow", AirflowSecretsArgs(settings=settings, namespace=namespace.name))
airflow = AirflowRelease(
    "airflow",
    AirflowReleaseArgs(
        settings=settings, namespace=namespace.name, secret_names=secrets.names, secrets=secrets.secrets
    ),
)

pulumi.export("namespace", namespace.name)
pulumi.export("executor", settings.executor)
pulumi.export("apiServerService", airflow.api_server_service)
pulumi.export("apiServerUrl", airflow.api_server_url)
pulumi.export("adminUsername", settings.admin.username)
pulumi.export("adminPassword", secrets.admin_password)
pulumi.export("secretNames", {k: v for k, v in vars(secrets.names).items() if v is not None})
