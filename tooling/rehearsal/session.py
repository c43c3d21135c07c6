"""One rehearsal's state: the work folder, the services, the processes started, and how each pod's
rendered command becomes a process here (its rewrites, its AIRFLOW_HOME, its Kubernetes API client)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.rbac import account_rights
from components.stack_file import stack_file_path
from tooling.offline.render import load_stack_config
from tooling.rehearsal.certificates import ServerTls, server_tls
from tooling.rehearsal.fake_kube import FakeKubernetes
from tooling.rehearsal.pods import (
    Process,
    Rewrites,
    container_process,
    local_airflow_cfg,
    program_config_map_files,
    s3_connection,
)
from tooling.rehearsal.services import Database, Services, StatsdListener, free_port
from tooling.rehearsal.stack import RenderedStack, render_stack
from tooling.rehearsal.timeline import StepFailed, Timeline

__all__ = ["PROJECT", "SLEEP_DAG", "SLEEP_DAG_SOURCE", "Rehearsal"]


PROJECT = Path(__file__).resolve().parents[2]
SLEEP_DAG = "rehearsal_sleep"
SLEEP_DAG_SOURCE = '''"""Rehearsal only: one task that sleeps, so a worker can be stopped while it runs."""
import time
from datetime import UTC, datetime

from airflow.sdk import dag, task


@dag(dag_id="rehearsal_sleep", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=UTC), tags=["rehearsal"],
     default_args={"owner": "rehearsal"})
def rehearsal_sleep():
    @task
    def sleep_then_succeed():
        time.sleep(20)
        return "slept"

    sleep_then_succeed()


rehearsal_sleep()
'''


@dataclass
class Rehearsal:
    """One rehearsal's folders, services, ports and running processes."""

    stack_name: str
    root: Path
    timeline: Timeline
    services: Services = field(init=False)
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.services = Services(self.root)
        self.home = self.root / "airflow-home"
        self.dags = self.root / "dags"
        self.ports = {
            name: free_port()
            for name in ("postgres", "pgbouncer", "redis", "s3", "api", "worker_log", "trigger_log")
        }
        self.database = Database("airflow", secrets.token_urlsafe(18), "airflow", self.ports["postgres"])
        self.statsd = StatsdListener()
        self.kubernetes = FakeKubernetes()
        self.kubeconfig = self.root / "kubeconfig.json"  # the scheduler's
        self.scheduler_account = ""
        config, _ = load_stack_config(stack_file_path(PROJECT, self.stack_name))
        self.redis_config: dict[str, Any] = json.loads(config.get("airflow:redis", "{}"))
        # An external broker is played by a Redis that speaks TLS only, with a CA of its own: the stack
        # gets its URL and CA the way an operator sets them (airflow:brokerUrl, airflow:redis.caCertificate).
        self.broker: tuple[str, ServerTls] | None = None
        if self.redis_config.get("mode") == "external":
            (self.root / "broker-tls").mkdir()
            self.broker = (secrets.token_urlsafe(18), server_tls(self.root / "broker-tls", "localhost"))

    # -- the stack --------------------------------------------------------------------------------------

    def render(self, overrides: dict[str, Any] | None = None) -> RenderedStack:
        """The stack rendered with real values, the operator's secrets pointing at the local services."""
        operator = {"airflow-metadata-connection": {"connection": self.database.url("require")}}
        secret_overrides = {}
        if self.broker is not None:
            password, tls = self.broker
            ca = tls.ca.read_text()
            overrides = {
                **(overrides or {}),
                "airflow:redis": json.dumps({**self.redis_config, "caCertificate": ca}),
            }
            secret_overrides["airflow:brokerUrl"] = f"rediss://:{password}@localhost:{self.ports['redis']}/0"
        return render_stack(self.stack_name, operator, overrides=overrides, secret_overrides=secret_overrides)

    def api_client(self, stack: RenderedStack, pod_spec: dict[str, Any], kubeconfig: Path) -> str:
        """Writes ``kubeconfig`` for the pod's service account and grants that account, at the stand-in,
        what the stack's rendered Roles give it (nothing if the pod mounts no token); its name."""
        account = pod_spec.get("serviceAccountName", "default")
        objects = stack.chart_objects + stack.program_objects
        token = pod_spec.get("automountServiceAccountToken", True)
        rights = account_rights(objects, stack.namespace, account) if token is not False else set()
        self.kubernetes.grant(account, stack.namespace, rights)
        self.kubernetes.kubeconfig(kubeconfig, stack.namespace, account)
        return account

    def api_calls_allowed(self, account: str) -> str:
        """What the account called at the stand-in, one line; raises if any call was forbidden."""
        denied = Counter(self.kubernetes.denied)
        if denied:
            calls = [f"{call} ({count} times)" if count > 1 else call for call, count in denied.items()]
            raise RuntimeError("forbidden by the stack's Roles: " + "; ".join(calls))
        calls = sorted(self.kubernetes.calls.get(account, set()))
        return f"{account} called {', '.join(f'{verb} {resource}' for resource, verb in calls)}: all allowed"

    def rewrites(self, stack: RenderedStack) -> Rewrites:
        """The Service addresses and paths of the cluster mapped to the local ones."""
        p = self.ports
        rewrites = Rewrites(
            namespace=stack.namespace,
            home=self.home,
            dags=self.dags,
            services={
                ("airflow-pgbouncer", 6543): p["pgbouncer"],
                ("airflow-redis", 6379): p["redis"],
                ("airflow-api-server", 8080): p["api"],
                ("airflow-statsd", 9125): self.statsd.port,
                ("airflow-worker", 8793): p["worker_log"],
                ("airflow-triggerer", 8794): p["trigger_log"],
            },
            listen={
                "api.host": "127.0.0.1",
                "api.port": str(p["api"]),
                "logging.worker_log_server_port": str(p["worker_log"]),
                "logging.trigger_log_server_port": str(p["trigger_log"]),
                "metrics.statsd_host": "127.0.0.1",
                "metrics.statsd_port": str(self.statsd.port),
                # The cluster's API: a local stand-in that records the pods the KubernetesExecutor creates.
                "kubernetes_executor.in_cluster": "False",
                "kubernetes_executor.config_file": str(self.kubeconfig),
            },
            extra_env={
                "AWS_EC2_METADATA_DISABLED": "true",
                "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
            },
        )
        return rewrites

    def write_home(self, stack: RenderedStack, rewrites: Rewrites) -> None:
        """AIRFLOW_HOME as the chart's ConfigMaps would mount it: airflow.cfg, pod templates, local
        settings."""
        (self.home / "config").mkdir(parents=True, exist_ok=True)
        (self.home / "pod_templates").mkdir(exist_ok=True)
        config = stack.chart_object("ConfigMap", "airflow-config")["data"]
        (self.home / "airflow.cfg").write_text(local_airflow_cfg(stack, rewrites))
        (self.home / "config" / "airflow_local_settings.py").write_text(config["airflow_local_settings.py"])
        # As rendered: the pods it makes go to the cluster (here, the stand-in), not to this machine.
        (self.home / "pod_templates" / "pod_template_file.yaml").write_text(config["pod_template_file.yaml"])
        # The program's ConfigMaps the Airflow pods mount (an external broker's CA), where they would be.
        scheduler = stack.chart_object("Deployment", "airflow-scheduler")
        for path, content in program_config_map_files(stack, scheduler, rewrites).items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)

    def process(
        self, stack: RenderedStack, rewrites: Rewrites, kind: str, workload: str, container: str
    ) -> Process:
        """One container of a rendered workload as a process here."""
        process = container_process(stack, kind, workload, container, rewrites)
        for key, value in list(process.env.items()):
            if (
                key.startswith("AIRFLOW_CONN_")
                and value.startswith("{")
                and json.loads(value).get("conn_type") == "aws"
            ):
                process.env[key] = s3_connection(value, f"http://127.0.0.1:{self.ports['s3']}")
                rewrites.made.add(
                    f"{key}: + endpoint_url http://127.0.0.1:{self.ports['s3']} and throwaway keys (moto)"
                )
        return process

    def run_job(self, name: str, process: Process, timeout: float = 300) -> None:
        """Runs a Job's container to its end; a failure stops the rehearsal with its log."""
        self.services.run(
            name, process.args, timeout=timeout, as_service_user=False, env=process.env, cwd=self.home
        )

    def start(self, name: str, process: Process) -> None:
        """Starts a long-running container."""
        self.running[name] = self.services.start(
            name, process.args, as_service_user=False, env=process.env, cwd=self.home
        )

    def check_running(self) -> None:
        """Fails the step if any long-running process has exited."""
        for name, process in self.running.items():
            if process.poll() is not None:
                raise StepFailed(
                    name, f"{name} exited with code {process.returncode}", self.services.logs / f"{name}.log"
                )

    def close(self) -> None:
        """Stops every process and service."""
        self.statsd.stop()
        self.services.close()
        self.kubernetes.stop()
