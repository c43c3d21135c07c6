"""The rehearsal's steps, in the order Kubernetes would run the pods: the Jobs, the long-running
processes, a DAG on Celery, task pods, a worker stopped mid-task, and a Fernet rotation."""

from __future__ import annotations

import json
import secrets
import shutil
import signal
import subprocess
import time
from typing import Any

from tooling.rehearsal.api import Api, healthy, run_dag
from tooling.rehearsal.pods import (
    Process,
    object_process,
)
from tooling.rehearsal.services import wait_until
from tooling.rehearsal.session import PROJECT, SLEEP_DAG, SLEEP_DAG_SOURCE, Rehearsal
from tooling.rehearsal.stack import RenderedStack
from tooling.rehearsal.task_pods import dag_image, pod_problems

__all__ = ["steps"]


def steps(r: Rehearsal) -> list[str]:
    """Runs every step; the facts measured on the way."""
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
        (r.dags / f"{SLEEP_DAG}.py").write_text(SLEEP_DAG_SOURCE)
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
    expected_image = dag_image(stack.values)
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
