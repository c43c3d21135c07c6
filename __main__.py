"""Airflow 3 on Kubernetes: namespace, Secrets, DAG delivery, the release, and what runs beside it."""

from pathlib import Path

import pulumi

from components.config import ConfigError, load_settings
from components.dags.folder import dags_for_delivery
from components.stack import build_stack

try:
    settings = load_settings()
    dag_folder = dags_for_delivery(settings.dags, Path(__file__).resolve().parent)
except ConfigError as err:
    # RunError ends the program with the message alone: a config or DAG mistake is not a crash.
    raise pulumi.RunError(str(err)) from None

for output, value in build_stack(settings, dag_folder).items():
    pulumi.export(output, value)
