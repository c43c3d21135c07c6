"""Rehearse a stack: boot its rendered pods' own processes here, against real services, and run a DAG.

    python -m tooling.rehearsal --stack prod      (bash .ci/rehearse prod installs what it needs)

Renders the stack with its real generated values, renders the real chart with the release's values,
starts PostgreSQL (the operator's database, TLS), PgBouncer (the program's pgbouncer.ini and users.txt),
Redis (the generated password; or, for an external broker, over TLS with a CA of its own, as a managed
Redis), an S3 (moto) and a StatsD socket, then runs, in the order Kubernetes
would: the migrations Job, the create-user Job (twice), the api-server, scheduler, dag-processor,
triggerer and a Celery worker, each with its rendered args and env. It checks the health endpoint, logs
in as the admin through the REST API, runs a DAG on Celery to success and reads its log, sees StatsD
packets, stops a worker with SIGTERM mid-task, and rotates the Fernet key on the real database.
Prints a timeline; on failure, the step, its command and the last lines of its log; exit code 1.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.config import raw_from_config
from components.model import ConfigError
from components.rbac import account_rights
from components.redact import redact
from components.stack_file import stack_file_path
from components.validation import parse_settings
from tooling.offline.render import load_stack_config
from tooling.rehearsal.api import Api, healthy, run_dag
from tooling.rehearsal.certificates import ServerTls, server_tls
from tooling.rehearsal.fake_kube import FakeKubernetes
from tooling.rehearsal.pods import (
    Process,
    Rewrites,
    container_process,
    local_airflow_cfg,
    object_process,
    program_config_map_files,
    s3_connection,
)
from tooling.rehearsal.services import Database, Services, StatsdListener, free_port, wait_until
from tooling.rehearsal.stack import RenderedStack, render_stack
from tooling.rehearsal.task_pods import pod_problems
from tooling.rehearsal.timeline import MemorySampler, StepFailed, Timeline

PROJECT = Path(__file__).resolve().parents[2]
SLEEP_DAG = "rehearsal_sleep"
_SLEEP_DAG_SOURCE = '''"""Rehearsal only: one task that sleeps, so a worker can be stopped while it runs."""
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
        self.services.run(
            name, process.args, timeout=timeout, as_service_user=False, env=process.env, cwd=self.home
        )

    def start(self, name: str, process: Process) -> None:
        self.running[name] = self.services.start(
            name, process.args, as_service_user=False, env=process.env, cwd=self.home
        )

    def check_running(self) -> None:
        for name, process in self.running.items():
            if process.poll() is not None:
                raise StepFailed(
                    name, f"{name} exited with code {process.returncode}", self.services.logs / f"{name}.log"
                )

    def close(self) -> None:
        self.statsd.stop()
        self.services.close()
        self.kubernetes.stop()


def rehearse(stack_name: str, root: Path, timeline: Timeline) -> list[str]:
    """Runs every step; the rewrites made, for the report. Raises StepFailed."""
    r = Rehearsal(stack_name, root, timeline)
    r.statsd.start()
    r.kubernetes.start()
    try:
        return _steps(r)
    finally:
        with timeline.step("stop everything"):
            r.close()


def _steps(r: Rehearsal) -> list[str]:
    t, p = r.timeline, r.ports
    with t.step("render the stack and the chart with real values"):
        stack = r.render()
        rewrites = r.rewrites(stack)
        scheduler = stack.chart_object("Deployment", "airflow-scheduler")["spec"]["template"]["spec"]
        r.scheduler_account = r.api_client(stack, scheduler, r.kubeconfig)
        if r.broker is not None:
            rewrites.made.add(
                f"airflow:brokerUrl set to rediss://localhost:{p['redis']}/0 and airflow:redis.caCertificate "
                "to the local Redis's CA, as an operator sets them"
            )
        shutil.copytree(PROJECT / "dags", r.dags, ignore=shutil.ignore_patterns("__pycache__"))
        (r.dags / f"{SLEEP_DAG}.py").write_text(_SLEEP_DAG_SOURCE)
        r.write_home(stack, rewrites)
    with t.step("PostgreSQL (TLS), the operator's database", r.services.logs / "postgres.log"):
        r.services.postgres(r.database, tls=True)
    with t.step(
        "PgBouncer with the program's pgbouncer.ini and users.txt", r.services.logs / "pgbouncer.log"
    ):
        config = stack.secrets["airflow-pgbouncer-config"]
        ini = rewrites.text(config["pgbouncer.ini"])
        ini = ini.replace("listen_port = 6543", f"listen_port = {p['pgbouncer']}").replace(
            "listen_addr = *", "listen_addr = 127.0.0.1"
        )
        ini = ini.replace(
            "auth_file = /etc/pgbouncer/users.txt", f"auth_file = {r.root / 'pgbouncer' / 'users.txt'}"
        )
        ini += f"unix_socket_dir = {r.root / 'pgbouncer'}\n"
        rewrites.made.add(
            "pgbouncer.ini: listen 127.0.0.1 on a free port, auth_file and socket in the temporary folder"
        )
        r.services.pgbouncer(ini, config["users.txt"], p["pgbouncer"])
    if r.broker is None:
        with t.step("Redis with the generated password", r.services.logs / "redis.log"):
            r.services.redis(stack.secret("airflow-redis-auth", "password"), p["redis"])
    else:
        with t.step(
            "Redis over TLS only, as the external broker (airflow:brokerUrl)", r.services.logs / "redis.log"
        ):
            r.services.redis(r.broker[0], p["redis"], r.broker[1])
    with t.step("S3 (moto) and the task-log bucket"):
        r.services.s3(p["s3"])
        _create_bucket(stack, f"http://127.0.0.1:{p['s3']}")
    with t.step("migrations Job", r.services.logs / "migrate.log"):
        r.run_job(
            "migrate",
            r.process(stack, rewrites, "Job", "airflow-run-airflow-migrations", "run-airflow-migrations"),
        )
    create_user = r.process(stack, rewrites, "Job", "airflow-create-user", "create-user")
    with t.step("create-user Job", r.services.logs / "create-user.log"):
        r.run_job("create-user", create_user)
    with t.step("create-user Job again (idempotent)", r.services.logs / "create-user.log"):
        r.run_job("create-user", create_user)
    workers = {
        "api-server": ("airflow-api-server", "api-server"),
        "scheduler": ("airflow-scheduler", "scheduler"),
        "dag-processor": ("airflow-dag-processor", "dag-processor"),
        "triggerer": ("airflow-triggerer", "triggerer"),
        "worker": ("airflow-worker", "worker"),
    }
    processes = {
        name: r.process(stack, rewrites, "Deployment", workload, container)
        for name, (workload, container) in workers.items()
    }
    with t.step("start api-server, scheduler, dag-processor, triggerer, Celery worker"):
        for name, process in processes.items():
            r.start(name, process)
    api = Api(f"http://127.0.0.1:{p['api']}")
    with t.step("every component healthy (/api/v2/monitor/health)", r.services.logs / "api-server.log"):
        wait_until(lambda: (r.check_running() or True) and healthy(api), "all components healthy", 180, 2)
    with t.step(
        "log in as the admin with the generated password (/auth/token)", r.services.logs / "api-server.log"
    ):
        admin = _admin_username(create_user)
        token = api.call(
            "POST", "/auth/token", {"username": admin, "password": stack.secret("airflow-admin", "password")}
        )
        api.token = token["access_token"]
    with t.step("etl_taskflow on Celery to success", r.services.logs / "worker.log"):
        run = _run_dag(r, api, "etl_taskflow", 240)
    with t.step("read a task's log through the API (from S3)", r.services.logs / "api-server.log"):
        log = api.call(
            "GET", f"/api/v2/dags/etl_taskflow/dagRuns/{run}/taskInstances/load/logs/1?full_content=true"
        )
        text = json.dumps(log)
        if "Task instance is in running state" in text or "load" not in text:
            raise RuntimeError(f"the task log does not read back: {text[:300]}")
    with t.step("StatsD packets from the components"):
        wait_until(
            lambda: r.statsd.packets > 0 and any("scheduler_heartbeat" in n for n in r.statsd.names),
            "StatsD packets",
            60,
        )
    with t.step("KubernetesExecutor task pods from the rendered template", r.services.logs / "scheduler.log"):
        _kubernetes_pods(r, api, stack)
    with t.step("SIGTERM to the worker mid-task: the task still succeeds", r.services.logs / "worker.log"):
        killed = _graceful_shutdown(r, api, processes["worker"])
        t.facts.append(f"tasks killed by the worker's SIGTERM: {killed}")
        if killed:
            raise RuntimeError("the task running on the stopped worker did not succeed")
    with t.step("Fernet rotation on the real database", r.services.logs / "fernet.log"):
        _fernet_rotation(r, stack)
    return rewrites.describe()


def _admin_username(process: Process) -> str:
    # The create-user args: ... -- <role> <username> <email> <first> <last>
    return process.args[process.args.index("--") + 2]


def _run_dag(r: Rehearsal, api: Api, dag_id: str, timeout: float) -> str:
    run, state = run_dag(api, dag_id, timeout=timeout, alive=r.check_running)
    if state != "success":
        raise RuntimeError(f"{dag_id} run {run} ended {state}")
    return run


def _kubernetes_pods(r: Rehearsal, api: Api, stack: RenderedStack) -> None:
    """Tasks routed to the KubernetesExecutor, with a pod_override (kubernetes_task_resources) and without
    (mixed_executors' isolated task): the real provider builds their pods from the rendered template and
    sends them to the cluster's API (the stand-in, which keeps them). Each must be one Kubernetes admits
    under Pod Security "restricted", with requests and a memory limit, running the DAG image."""
    for dag_id in ("kubernetes_task_resources", "mixed_executors"):
        wait_until(lambda dag_id=dag_id: api.ok(f"/api/v2/dags/{dag_id}"), f"{dag_id} parsed", 120, 2)
        api.call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
        api.call("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None})

    def dag_of(pod: dict[str, Any]) -> str:
        return (pod.get("metadata", {}).get("labels") or {}).get("dag_id", "")

    wait_until(
        lambda: {"kubernetes_task_resources", "mixed_executors"} <= {dag_of(p) for p in r.kubernetes.created},
        "task pods created by the KubernetesExecutor",
        180,
        2,
    )
    image = stack.values["images"]["airflow"]
    expected_image = f"{image['repository']}:{image['tag']}"
    problems = []
    pods_folder = r.root / "task-pods"
    pods_folder.mkdir(exist_ok=True)
    for pod in r.kubernetes.created:
        name = pod["metadata"]["name"]
        (pods_folder / f"{name}.json").write_text(json.dumps(pod, indent=1))
        problems += [f"{name}: {problem}" for problem in pod_problems(pod, expected_image)]
    print(f"  {len(r.kubernetes.created)} task pods built, checked in {pods_folder.name}/")
    print(f"  {r.api_calls_allowed(r.scheduler_account)}")
    if problems:
        raise RuntimeError("; ".join(problems))


def _graceful_shutdown(r: Rehearsal, api: Api, worker: Process) -> int:
    """SIGTERM to the worker (as Kubernetes sends it to the container's main process) while a task runs;
    the number of tasks killed (0 is the goal), and the worker must exit within its grace period."""
    dag_id = SLEEP_DAG
    wait_until(lambda: api.ok(f"/api/v2/dags/{dag_id}"), f"{dag_id} parsed", 120, 2)
    api.call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
    run = api.call("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None})["dag_run_id"]
    task_path = f"/api/v2/dags/{dag_id}/dagRuns/{run}/taskInstances/sleep_then_succeed"
    wait_until(lambda: api.call("GET", task_path)["state"] == "running", "the sleeping task running", 120, 1)
    process = r.running.pop("worker")
    stopped = time.monotonic()
    process.send_signal(signal.SIGTERM)
    grace = worker.grace_seconds or 30
    process.wait(timeout=grace)
    took = time.monotonic() - stopped
    state = api.call("GET", task_path)["state"]
    print(f"  worker exited {took:.1f} s after SIGTERM (grace {grace} s); the task is {state}")
    return 0 if state == "success" else 1


def _fernet_rotation(r: Rehearsal, first: RenderedStack) -> None:
    """Store a connection and a variable under the current key; apply the next generation as the program
    does (new,old key and the rotation Job), then the new key alone; both read back intact."""
    rewrites = r.rewrites(first)
    cli = r.process(first, rewrites, "Deployment", "airflow-scheduler", "scheduler")

    def airflow(stack_env: dict[str, str], *args: str) -> str:
        result = subprocess.run(
            ["airflow", *args],
            env=stack_env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=r.home,
            check=False,
        )
        with (r.services.logs / "fernet.log").open("a") as log:
            log.write(f"$ airflow {' '.join(args[:2])}\n{result.stdout}{result.stderr}\n")
        if result.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args[:2])} failed")
        return result.stdout

    secret_uri = f"postgres://rehearsal:{secrets.token_urlsafe(12)}@db.example.com:5432/x"
    airflow(cli.env, "connections", "add", "rehearsal_db", "--conn-uri", secret_uri)
    airflow(cli.env, "variables", "set", "rehearsal_var", "kept across rotations")
    generation = 0  # the rendered stack's: no airflow:fernet, so generation 0
    rotating = r.render(
        {"airflow:fernet": json.dumps({"generation": generation + 1, "previousGeneration": generation})}
    )
    keys = rotating.secret("airflow-fernet", "fernet-key")
    if "," not in keys:
        raise RuntimeError("the rotating generation's Fernet Secret does not hold new,old")
    job = next(o for o in rotating.program_objects if o["kind"] == "Job")
    rotation = object_process(
        rotating, job, job["spec"]["template"]["spec"]["containers"][0]["name"], rewrites
    )
    # The Job asks the cluster's API (in-cluster service account) which pods still run the old generation:
    # here it asks the local stand-in, through a kubeconfig, instead.
    job_kubeconfig = r.root / "kubeconfig-fernet-rotation.json"
    account = r.api_client(rotating, job["spec"]["template"]["spec"], job_kubeconfig)
    shim = r.root / "in-cluster-shim"
    shim.mkdir(exist_ok=True)
    (shim / "sitecustomize.py").write_text(
        "import kubernetes.config as c\n"
        f"c.load_incluster_config = lambda *a, **k: c.load_kube_config(config_file={str(job_kubeconfig)!r})\n"
    )
    job_env = {**rotation.env, "PYTHONPATH": str(shim)}
    if job_env.get("AIRFLOW__CORE__FERNET_KEY") != keys:
        raise RuntimeError("the rotation Job does not run with the new,old keys")
    result = subprocess.run(
        rotation.args, env=job_env, capture_output=True, text=True, timeout=300, cwd=r.home, check=False
    )
    with (r.services.logs / "fernet.log").open("a") as log:
        log.write(f"$ rotation Job\n{result.stdout}{result.stderr}\n")
    if result.returncode != 0:
        raise RuntimeError("the rotation Job's command failed")
    print(f"  {r.api_calls_allowed(account)}")
    settled = r.render({"airflow:fernet": json.dumps({"generation": generation + 1})})
    new_env = {**cli.env, "AIRFLOW__CORE__FERNET_KEY": settled.secret("airflow-fernet", "fernet-key")}
    if new_env["AIRFLOW__CORE__FERNET_KEY"] != keys.split(",")[0]:
        raise RuntimeError("the settled generation's key is not the rotating generation's new key")
    if secret_uri.split("@")[0].split(":")[-1] not in airflow(
        new_env, "connections", "get", "rehearsal_db", "--output", "json"
    ):
        raise RuntimeError("the connection's password does not read back under the new key alone")
    if "kept across rotations" not in airflow(new_env, "variables", "get", "rehearsal_var"):
        raise RuntimeError("the variable does not read back under the new key alone")


def _create_bucket(stack: RenderedStack, endpoint: str) -> None:
    import boto3

    remote = stack.values.get("config", {}).get("logging", {}).get("remote_base_log_folder", "")
    bucket = remote.removeprefix("s3://").split("/", 1)[0]
    if bucket:
        keys = {"aws_access_key_id": "rehearsal", "aws_secret_access_key": "rehearsal"}
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **keys)
        s3.create_bucket(Bucket=bucket)


def _not_rehearsable(stack: str) -> str | None:
    """Why ``stack`` cannot be rehearsed (a stack file the program refuses, or a shape the rehearsal does
    not cover yet), in one line, before any service starts; or None."""
    try:
        config, _ = load_stack_config(stack_file_path(PROJECT, stack))
        settings = parse_settings(raw_from_config(config), source=f"Pulumi.{stack}.yaml", offline=True)
    except ConfigError as err:
        return str(err).replace("\n", "; ")
    database = settings.database
    if not (settings.uses_celery and database.mode == "external" and database.pgbouncer.enabled):
        return (
            "the rehearsal covers stacks with the CeleryExecutor and an external database behind PgBouncer "
            f"(like prod); Pulumi.{stack}.yaml has executor {settings.executor!r}, database "
            f"{database.mode!r}, PgBouncer {'on' if database.pgbouncer.enabled else 'off'}"
        )
    return None


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.rehearsal", description=__doc__.split("\n")[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs) afterwards")
    args = parser.parse_args(argv)
    problem = _not_rehearsable(args.stack)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    timeline = Timeline()
    sampler = MemorySampler(timeline)
    sampler.start()
    root = Path(tempfile.mkdtemp(prefix="airflow-rehearsal-"))
    os.chmod(root, 0o755)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    # A cancelled CI job sends SIGTERM: leave as after Ctrl-C, through every `finally` (servers stopped,
    # folder removed), instead of dying with PostgreSQL, PgBouncer and Redis still running.
    previous_term = signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        rewrites = rehearse(args.stack, root, timeline)
    except StepFailed as failed:
        sampler.stop()
        print(timeline.report())
        print(f"FAILED at step: {failed.step}: {redact(str(failed))}", file=sys.stderr)
        if failed.log and failed.log.exists():
            # Airflow's own CLI prints some values it stores (a connection's URI): masked here.
            tail = redact(failed.log.read_text(errors="replace")).splitlines()[-30:]
            print(f"last lines of {failed.log.name}:", *tail, sep="\n  ", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    sampler.stop()
    print(f"rehearsal of {args.stack}: every step passed\n{timeline.report()}")
    print("rewritten for this machine:", *rewrites, sep="\n  ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
