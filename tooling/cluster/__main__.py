"""``python -m tooling.cluster STACK [--keep]`` / ``--down``: the real deploy, judged from outside.

Starts the single-node cluster (``node.py``), builds and pushes the images, runs the real ``pulumi
preview`` and ``pulumi up`` of the stack, then the checks (``checks.py``), one line each. Without
``--keep`` it destroys the stack and stops the cluster, also on failure, Ctrl-C and SIGTERM; with
``--keep`` it prints how to reach both as shell assignments. ``bash .ci/cluster-test`` is the entry.
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
import time
from datetime import UTC, datetime
from pathlib import Path

from components.redact import redact
from tooling.cluster import teardown
from tooling.cluster.alerts_check import check_scraped
from tooling.cluster.checks import BUCKET, Deployed, s3_call
from tooling.cluster.day_two import DayTwo
from tooling.cluster.external import prod_overrides, start_external_services
from tooling.cluster.hardening import (
    check_images_by_digest,
    check_read_only_roots,
    check_service_account_tokens,
)
from tooling.cluster.layout import NETNS, REGISTRY, S3_ENDPOINT, NodeLayout
from tooling.cluster.node import Node
from tooling.cluster.pins import registry_pins
from tooling.cluster.prometheus import ClusterPrometheus, stack_monitoring
from tooling.cluster.stack_settings import set_stack_settings
from tooling.cluster.timeline import MemoryWatch, Timeline
from tooling.cluster.upgrade import EARLIER_COMMIT
from tooling.cluster.workspace import PROJECT, Workspace
from tooling.helm import chart_path

RUN = Path("/run/airflow-stack")
AIRFLOW_API_PORT = 18080
# What this test can deploy: local as shipped, prod with the overrides of external.py (dev's git bundle
# would fetch from GitHub, which the cluster cannot reach).
SUPPORTED = {"local", "prod"}
# Every check's name, in the order a run of local prints them (a test holds this list to the code).
CHECKS = (
    "up-from-earlier-commit",
    "preview",
    "up",
    "pods-ready-restricted",
    "login",
    "upgrade",
    "dags-on-both-executors-logs-from-bucket",
    "stack-settings-reach-tasks",
    "read-only-roots",
    "service-account-tokens",
    "images-by-digest",
    "network-policies-enforced",
    "no-secret-in-plain-text",
    "monitoring-scraped",
    "second-preview-no-changes",
    "drift",
    "dag-edit-changes-only-the-image",
    "deploy-mid-run",
    "backup",
    "restore",
    "history",
    "rollback",
    "scheduler-loss",
    "fernet-rotation",
    "alerts",
    "dashboards",
    "git-bundle-packages",
    "protected-stack-refuses-destroy",
    "destroy-leaves-nothing",
    "recreate-after-destroy",
    "copied-stack-through-the-deploy-job",
)


class Stopped(BaseException):
    """SIGTERM or SIGINT: stop the cluster and leave. A BaseException, as KeyboardInterrupt is, so no
    check's own error handling can take it for a failed check and go on."""


def _stop_on_signal(signum: int, frame: object) -> None:
    raise Stopped(signal.Signals(signum).name)


def _layout() -> NodeLayout:
    return NodeLayout(RUN, Path(os.environ.get("AIRFLOW_STACK_CACHE", "/var/cache/airflow-stack")))


def down(layout: NodeLayout) -> int:
    """Stops whatever a run left up (``--down``, or before a new run); 1 if something could not be cleaned."""
    problems = teardown.down(layout)
    shutil.rmtree(layout.run, ignore_errors=True)
    for problem in problems:
        print(f"cluster-test: {problem}", file=sys.stderr)
    if not problems:
        print("cluster-test: the cluster is stopped; nothing of it runs or is mounted")
    return 1 if problems else 0


def _create_bucket(node: Node, python: str) -> None:
    s3_call(node, python, f"s3.create_bucket(Bucket={BUCKET!r})")


def _pin_images(workspace: Workspace) -> None:
    """Every chart image pinned by the digest the test registry gave it (``airflow:images``)."""
    for role, pin in registry_pins(workspace.layout.docker_host, REGISTRY).items():
        workspace.set_value(f"airflow:images.{role}", pin, path=True)


def _adopt(workspace: Workspace) -> None:
    """What an operator sets once the program knows it: the image pins, and the connection, variable,
    options and placement of ``stack-settings-reach-tasks``."""
    _pin_images(workspace)
    set_stack_settings(workspace)


def _configure(workspace: Workspace, stack: str, node: Node, *, pin: bool) -> None:
    """What a user sets with ``pulumi config set`` before the first ``up``, made for this machine; the
    image pins only where the program knows ``airflow:images``."""
    if stack == "prod":
        external = start_external_services(node, workspace.layout.run / "external")
        for key in ("airflow:remoteLogs.roleArn", "airflow:database.existingSecretName"):
            workspace.run("config", "rm", "--path", key, check=True)
        for key, value in prod_overrides():
            workspace.set_value(key, value, path=True)
        workspace.set_secret("airflow:metadataConnection", external.metadata_connection)
        workspace.set_secret("airflow:brokerUrl", external.broker_url)
        workspace.set_value("airflow:redis.caCertificate", external.redis_ca, path=True)
    if pin:
        _pin_images(workspace)
    workspace.set_secret("airflow:registryPassword", secrets.token_urlsafe(16))  # the registry has no auth
    # A copy at a fixed path: a clone under mktemp's random folder name reads to the credential check
    # as a token (seen from a fresh clone: "airflow:chart.tarball ... looks like it holds a credential").
    tarball = workspace.layout.run / "chart" / "airflow-1.22.0.tgz"
    tarball.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(chart_path(), tarball)
    workspace.set_value("airflow:chart.tarball", str(tarball), path=True)
    connection = {
        "conn_type": "aws",
        "login": "cluster-test",
        "password": secrets.token_urlsafe(24),
        "extra": {"endpoint_url": S3_ENDPOINT, "region_name": "us-east-1"},
    }
    workspace.set_secret("airflow:remoteLogsConnection", json.dumps(connection))


def run(stack: str, keep: bool, only: frozenset[str] = frozenset()) -> int:
    """The whole test of one stack: cluster, images, preview, up, the checks, destroy and stop; 1 if any
    check failed."""
    layout = _layout()
    if layout.state.exists() or Path(f"/run/netns/{NETNS}").exists():
        print("cluster-test: stopping a cluster left from an earlier run", flush=True)
        down(layout)
    node = Node(layout)
    workspace = Workspace(layout, stack)
    tools_python = str(PROJECT / ".venv-dev" / "bin" / "python")
    os.environ["AIRFLOW_STACK_TOOLS_BIN"] = str(PROJECT / ".venv-dev" / "bin")
    timeline = Timeline(only=only)
    kept = False
    started = time.monotonic()
    with MemoryWatch() as memory:
        try:
            with timeline.phase("cluster: network, certificates, etcd, control plane, registry, docker"):
                node.up()
            with timeline.phase("images: build (cached) and push"):
                subprocess.run(
                    ["bash", str(PROJECT / ".ci" / "cluster-images"), REGISTRY],
                    env=os.environ | {"DOCKER_HOST": layout.docker_host},
                    check=True,
                )
            with timeline.phase("cluster: containerd, kubelet, kube-proxy, DNS, policies, S3; node Ready"):
                node.start_workers()
                _create_bucket(node, tools_python)
            # The monitoring a cluster runs already, started before the deploy so it scrapes all of it.
            monitoring = stack_monitoring(PROJECT, stack)
            prometheus = None if monitoring.mode == "off" else ClusterPrometheus(node, monitoring)
            if prometheus is not None:
                with timeline.phase("monitoring: the Prometheus Operator and the Prometheus it runs"):
                    prometheus.start()
            # prod's shape is deployed once, from the working tree; local first from an earlier commit.
            earlier = None if stack == "prod" else EARLIER_COMMIT
            with timeline.phase("pulumi: project copy, plugins, backend, stack config"):
                workspace.prepare(earlier)
                # The earlier commit predates airflow:images: the upgrade adopts the pins.
                _configure(workspace, stack, node, pin=earlier is None)
            deployed = Deployed(node, workspace, namespace="", tools_python=tools_python)
            api_urls: list[str] = []

            def reach_api() -> str:
                """Airflow's REST API on a loopback port, forwarded once."""
                if not api_urls:
                    api_urls.append(
                        node.forward_service(
                            "airflow-api-forward",
                            AIRFLOW_API_PORT,
                            deployed.namespace,
                            "airflow-api-server",
                            8080,
                        )
                    )
                return api_urls[0]

            day_two = DayTwo(timeline, node, workspace, deployed, prometheus)
            if earlier is not None:
                timeline.check(
                    "up-from-earlier-commit",
                    lambda: day_two.up_from(earlier, reach_api, lambda: _adopt(workspace)),
                    stop_on_failure=True,
                )

            def preview() -> None:
                workspace.run("preview", check=True)

            def up() -> None:
                workspace.run("up", "--yes", "--skip-preview", check=True)
                deployed.namespace = workspace.outputs()["namespace"]

            timeline.check("preview", preview, stop_on_failure=True)
            up_started = time.monotonic()
            # The API server stamps objects in whole seconds, on this machine's clock.
            up_wall_started = datetime.now(UTC).replace(microsecond=0)
            timeline.check("up", up, stop_on_failure=True)
            timeline.check("pods-ready-restricted", deployed.pods_ready)
            api_url = reach_api()
            timeline.check("login", lambda: deployed.login(api_url), stop_on_failure=True)
            if day_two.upgrade is not None:
                # It releases the task the earlier commit's up left waiting: the restore waits for every
                # task pod to finish (found with --only backup,restore: 300 s, then a failed check).
                timeline.check("upgrade", day_two.upgraded, needed=True)
            timeline.check(
                "dags-on-both-executors-logs-from-bucket", lambda: deployed.both_executors(up_started)
            )

            def stack_settings() -> None:
                placed = deployed.stack_settings(up_wall_started)
                timeline.facts.append(
                    f"a task on each executor saw the stack file's connection, variable, option and "
                    f"environment; {placed} running pods carry its placement"
                )

            if earlier is not None:  # set with the upgrade (_adopt)
                timeline.check("stack-settings-reach-tasks", stack_settings)
            timeline.check(
                "read-only-roots", lambda: check_read_only_roots(deployed.kubectl_json, deployed.namespace)
            )

            def tokens() -> None:
                carrying = check_service_account_tokens(deployed.kubectl_json, deployed.namespace)
                timeline.facts.append(f"pods carrying a service-account token: {carrying}, all API callers")

            timeline.check("service-account-tokens", tokens)

            def by_digest() -> None:
                count = check_images_by_digest(deployed.kubectl_json, deployed.namespace)
                timeline.facts.append(f"containers running an image by its digest: {count}, all of them")

            timeline.check("images-by-digest", by_digest)
            if deployed.first_success_seconds is not None:
                timeline.facts.append(
                    f"from {'the upgrade' if earlier else 'the first deploy'}'s `up` to the probe DAG's "
                    f"success: {deployed.first_success_seconds:.0f} s"
                )
            timeline.check("network-policies-enforced", deployed.network_policies)
            timeline.check("no-secret-in-plain-text", deployed.secrets_secret)
            if prometheus is not None:
                timeline.check(
                    "monitoring-scraped",
                    lambda: timeline.facts.append(
                        check_scraped(prometheus.api(), deployed.kubectl_json, deployed.namespace)
                    ),
                )
            # prod is checked by the above; it protects its state, so it is never destroyed here: the
            # cluster goes, and its state with it.
            if stack != "prod":
                day_two.after_deploy()
            if keep:
                kept = True
                print("\n".join(workspace.shell_assignments(api_url)))
            elif stack != "prod":
                day_two.teardown()
        except Stopped as stop:
            print(f"cluster-test: {stop}: stopping", flush=True)
            kept = False
            # An interrupted run proved nothing: it must never read as green.
            timeline.failures.append(f"stopped by {stop}")
        except (RuntimeError, subprocess.CalledProcessError) as err:
            # Masked: a failing command's output may quote what it was given.
            print(f"cluster-test: FAILED: {redact(' '.join(str(err).split()))[:2000]}", flush=True)
            timeline.failures.append("setup")
        finally:
            if not kept:
                with timeline.phase("cluster: stop"):
                    down(layout)
    timeline.phases.append(("total", time.monotonic() - started))
    print(timeline.summary(memory.peak_mib))
    return 1 if timeline.failures else 0


def main(argv: list[str]) -> int:
    """``bash .ci/cluster-test STACK [--keep] | --down``."""
    parser = argparse.ArgumentParser(prog="bash .ci/cluster-test", description=__doc__.splitlines()[0])
    parser.add_argument("stack", nargs="?", help="the stack to deploy (Pulumi.<stack>.yaml)")
    parser.add_argument("--keep", action="store_true", help="leave the cluster and the stack up")
    parser.add_argument("--down", action="store_true", help="stop a cluster left up by --keep")
    parser.add_argument(
        "--only",
        metavar="CHECK,...",
        help="run only these checks besides the ones the deploy needs (to work on one check; never in CI)",
    )
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("cluster-test: must run as root (network namespaces, containerd, the kubelet)", file=sys.stderr)
        return 2
    if args.down:
        return down(_layout())
    if args.stack is None:
        print(
            "cluster-test: name the stack to deploy (bash .ci/cluster-test local) or --down", file=sys.stderr
        )
        return 2
    if not (PROJECT / f"Pulumi.{args.stack}.yaml").is_file():
        print(f"cluster-test: Pulumi.{args.stack}.yaml: no such stack file", file=sys.stderr)
        return 2
    if args.stack not in SUPPORTED:
        print(
            f"cluster-test: stack {args.stack!r} cannot be deployed here yet; supported: {sorted(SUPPORTED)}",
            file=sys.stderr,
        )
        return 2
    signal.signal(signal.SIGTERM, _stop_on_signal)
    signal.signal(signal.SIGINT, _stop_on_signal)
    only = frozenset(name for name in (args.only or "").split(",") if name)
    unknown = sorted(only - set(CHECKS))
    if unknown:
        print(
            f"cluster-test: --only: no check named {', '.join(unknown)}; the checks: {', '.join(CHECKS)}",
            file=sys.stderr,
        )
        return 2
    return run(args.stack, args.keep, only)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
