"""Business logic in its own image, run as a pod that outlives an Airflow deploy.

The logic ships on its own release cycle (its image, its dependencies); Airflow only schedules it.
``deferrable=True`` hands the wait to the triggerer, so no worker slot is held while the pod runs and
a worker restarted by a deploy has nothing to lose. If the task is retried while its pod still runs,
``reattach_on_restart`` finds that pod by its labels and follows it instead of starting a second copy.
Failed pods are kept (``delete_succeeded_pod``) so their logs and events can be read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sdk import DAG
from kubernetes.client import models as k8s

# The namespace enforces Pod Security "restricted": a pod without these contexts is rejected.
POD_SECURITY = k8s.V1PodSecurityContext(
    run_as_non_root=True,
    run_as_user=1000,
    run_as_group=1000,
    seccomp_profile=k8s.V1SeccompProfile(type="RuntimeDefault"),
)
CONTAINER_SECURITY = k8s.V1SecurityContext(
    allow_privilege_escalation=False,
    capabilities=k8s.V1Capabilities(drop=["ALL"]),
    run_as_non_root=True,
    seccomp_profile=k8s.V1SeccompProfile(type="RuntimeDefault"),
)

with DAG(
    dag_id="business_logic_pod",
    schedule="0 2 * * *",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "billing", "retries": 2, "retry_delay": timedelta(minutes=5)},
    tags=["example", "kubernetes-pod"],
):
    KubernetesPodOperator(
        task_id="nightly_invoices",
        name="nightly-invoices",
        # Templated: set the Airflow Variable billing_image to roll the logic without touching this DAG.
        image="{{ var.value.get('billing_image', 'python:3.12.8-slim') }}",
        cmds=["python", "-c"],
        arguments=["import datetime; print('invoices for', datetime.date.today())"],
        container_resources=k8s.V1ResourceRequirements(
            requests={"cpu": "250m", "memory": "256Mi"}, limits={"memory": "512Mi"}
        ),
        security_context=POD_SECURITY,
        container_security_context=CONTAINER_SECURITY,
        execution_timeout=timedelta(hours=3),
        deferrable=True,
        reattach_on_restart=True,
        on_finish_action="delete_succeeded_pod",
        get_logs=True,
    )
