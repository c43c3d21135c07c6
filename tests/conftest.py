"""Shared fixtures: the mocked Pulumi runtime, the chart's schema and defaults, stack runners, and the
real chart rendered by ``helm template`` with a stack's release values."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config import raw_from_config
from components.settings import SECRET_KEYS, StackSettings
from components.validation import parse_settings
from tooling.helm import CHART, helm_template, in_release_namespace, run_helm
from tooling.offline.render import fill_missing_secrets, load_stack_config, manifests
from tooling.offline.runtime import Recording, mocked_runtime, plain, run_program
from tooling.offline.trial import project_copy
from tooling.rehearsal import certificates

ROOT = Path(__file__).resolve().parent.parent
CHART_DIR = CHART
# The tests' own stack files: behaviour is judged on these, never on the shipped Pulumi.<stack>.yaml,
# which users edit (tests/test_shipped_stacks.py holds the shipped files to invariants instead).
TEST_STACKS = Path(__file__).resolve().parent / "stacks"


@pytest.fixture(autouse=True)
def pulumi_mocks() -> Iterator[Recording]:
    """Every test starts with fresh mocks and no config, and leaves none behind."""
    with mocked_runtime() as recording:
        yield recording


@pytest.fixture(scope="session")
def chart_schema() -> dict[str, Any]:
    return json.loads((CHART_DIR / "values.schema.json").read_text())


@pytest.fixture(scope="session")
def chart_defaults() -> dict[str, Any]:
    return yaml.safe_load((CHART_DIR / "values.yaml").read_text())


def stack_config(
    stack: str, *, fill_secrets: bool = True, **overrides: Any
) -> tuple[dict[str, str], list[str]]:
    """A test stack's config (``tests/stacks``) with keys (without ``airflow:``) replaced; ``None``
    removes one.

    Secret values an operator sets per stack (the registry token of prod) get the render's placeholders
    unless ``fill_secrets`` is off.
    """
    config, secret_keys = load_stack_config(TEST_STACKS / f"Pulumi.{stack}.yaml")
    for key, value in overrides.items():
        full = f"airflow:{key}"
        if value is None:
            config.pop(full, None)
        else:
            config[full] = value if isinstance(value, str) else json.dumps(value)
    if fill_secrets:
        fill_missing_secrets(stack, config, secret_keys)
    return config, secret_keys


def project_with_test_stack(tmp_path: Path, stack: str) -> Path:
    """A project copy (``tmp_path/project``) holding the test stack ``stack``, for a render."""
    return project_copy(tmp_path, (TEST_STACKS / f"Pulumi.{stack}.yaml").read_text(), stack=stack)


def raw_settings(stack: str, **overrides: Any) -> dict[str, Any]:
    """The stack's config as ``parse_settings`` takes it: no prefix, structured values decoded."""
    config, _ = stack_config(stack, **overrides)
    return raw_from_config(config)


def run_stack(
    stack: str,
    secret_keys: list[str] | None = None,
    recording: Recording | None = None,
    fill_secrets: bool = True,
    **overrides: Any,
) -> Recording:
    config, keys = stack_config(stack, fill_secrets=fill_secrets, **overrides)
    return run_program(
        ROOT / "__main__.py",
        stack=stack,
        config=config,
        secret_keys=keys + (secret_keys or []),
        recording=recording,
    )


def run_project(project: Path, stack: str = "test", recording: Recording | None = None) -> Recording:
    config, secret_keys = load_stack_config(project / f"Pulumi.{stack}.yaml")
    return run_program(
        project / "__main__.py", stack=stack, config=config, secret_keys=secret_keys, recording=recording
    )


@functools.cache
def _render_chart(values_json: str, namespace: str, release: str) -> tuple[dict[str, Any], ...]:
    try:
        return tuple(helm_template(json.loads(values_json), namespace, release))
    except RuntimeError as err:  # helm missing, or the chart refuses the values
        pytest.fail(str(err))


def install_notes(values: dict[str, Any], *, namespace: str, release: str = "airflow") -> str:
    """What ``helm install --dry-run=client`` prints after the objects: the chart's NOTES, where it
    warns of deprecated and risky values."""
    try:
        result = run_helm("install", values, namespace, "--dry-run=client", release=release)
    except RuntimeError as err:
        pytest.fail(str(err))
    if result.returncode != 0:
        pytest.fail(f"helm install --dry-run=client failed: {result.stderr.strip()}")
    return result.stdout[result.stdout.index("NOTES:") :] + result.stderr


def render_chart(values: dict[str, Any], *, namespace: str, release: str = "airflow") -> list[dict[str, Any]]:
    """The objects the pinned chart renders with ``values``, as apache/airflow's helm-tests get them.

    Renders are cached by their input: many tests look at the same stack.
    """
    return [
        json.loads(json.dumps(doc))
        for doc in _render_chart(json.dumps(values, sort_keys=True), namespace, release)
    ]


@dataclasses.dataclass(frozen=True)
class Deployment:
    """What one stack would put into the cluster: the chart's objects and the program's own."""

    name: str
    settings: StackSettings
    recording: Recording
    values: dict[str, Any]
    namespace: str
    chart_objects: list[dict[str, Any]]
    program_objects: list[dict[str, Any]]

    @property
    def objects(self) -> list[dict[str, Any]]:
        return self.chart_objects + self.program_objects

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    @property
    def task_pod(self) -> dict[str, Any] | None:
        """The KubernetesExecutor's pod template, from the ``airflow-config`` ConfigMap (None without
        that executor): every task pod is made from it."""
        for config in self.of_kind("ConfigMap"):
            template = (config.get("data") or {}).get("pod_template_file.yaml")
            if config["metadata"]["name"] == "airflow-config" and template:
                pod = yaml.safe_load(template)
                pod["metadata"] = {"namespace": self.namespace, **pod["metadata"]}
                return pod
        return None


# How each DAG delivery, executor, database and monitoring mode is set in a variant.
_DELIVERIES: dict[str, dict[str, Any]] = {
    "git-sync": {"delivery": "git-sync", "gitSync": {"repo": "https://github.com/acme/dags.git"}},
    "git-bundle": {"delivery": "git-bundle", "gitBundle": {"repo": "https://github.com/acme/dags.git"}},
    "configmap": {"delivery": "configmap"},
    "image": {
        "delivery": "image",
        "image": {"registry": "ghcr.io", "repository": "ghcr.io/acme/dags", "username": "ci"},
    },
}
_EXECUTORS = {
    "k8s": "KubernetesExecutor",
    "celery": "CeleryExecutor",
    "both": "CeleryExecutor,KubernetesExecutor",
}
_DATABASES: dict[str, dict[str, Any]] = {
    "bundled": {"mode": "bundled"},
    "external": {"mode": "external", "existingSecretName": "metadata", "pgbouncer": {"enabled": True}},
}
_MONITORING = ("install", "existing", "off")
# A pin per image role (airflow:images), each with a digest of its own.
PINS = {
    role: f"registry.example/mirror/{role.lower()}:1.0@sha256:{index:064x}"
    for index, role in enumerate(
        ("airflow", "statsd", "pgbouncer", "pgbouncerExporter", "redis", "gitSync", "postgresql"), start=1
    )
}


def _matrix() -> dict[str, tuple[str, dict[str, Any]]]:
    """Every executor with every DAG delivery; the database and monitoring modes (and pods/exec on or
    off) rotate so that each of them meets every executor and every delivery too (a covering array, 12
    stacks instead of 144)."""
    variants = {}
    for a, (short, executor) in enumerate(_EXECUTORS.items()):
        for b, (delivery, dags) in enumerate(_DELIVERIES.items()):
            database = ("bundled", "external")[(a + b) % 2]
            monitoring = _MONITORING[(a + b) % 3]
            overrides = {
                "executor": executor,
                "dags": dags,
                "database": _DATABASES[database],
                "monitoring": {"mode": monitoring},
                "tasks": {"podExec": (a + b) % 2 == 0},
            }
            variants[f"{short}-{delivery}-{database}-{monitoring}"] = ("dev", overrides)
    return variants


# A CA certificate made once for the external-Redis variant (public, not a secret).
_TEST_CA = certificates.pem(certificates.certificate("variant broker CA", certificates.key(), None)).decode()

# Every escape hatch at once, and connections and variables as code; secret values a test looks for.
HATCH_SECRETS = ("smtp-pw-9f2c41", "r3p0rts-pw-77ab10")
HATCHES: dict[str, Any] = {
    "executor": "CeleryExecutor,KubernetesExecutor",
    "config": {
        "core": {"parallelism": 64, "dags_are_paused_at_creation": False},
        "smtp": {"smtp_port": 2525},
    },
    "env": {"TZ": "Europe/Berlin"},
    "secretEnv": {"AIRFLOW__SMTP__SMTP_PASSWORD": HATCH_SECRETS[0]},
    "connections": {"reports_db": f"postgresql://reports:{HATCH_SECRETS[1]}@db.example.com:5432/reports"},
    "variables": {"greeting": "hello", "limits": {"rows": 10}},
    "placement": {
        "tolerations": [{"key": "dedicated", "value": "airflow", "effect": "NoSchedule"}],
        "priorityClassName": "airflow-standard",
    },
    "scheduler": {"placement": {"nodeSelector": {"pool": "control"}}},
    "workers": {"replicas": 2, "placement": {"nodeSelector": {"pool": "workers"}}},
    "tasks": {
        "placement": {
            "nodeSelector": {"pool": "tasks"},
            "topologySpreadConstraints": [
                {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway"}
            ],
        }
    },
    "jobs": {"placement": {"priorityClassName": "airflow-batch"}},
    "extraValues": {"scheduler": {"podAnnotations": {"example.com/team": "data"}}},
}

# The shipped stacks, the matrix above, and single changes to them; the chart is judged with each. A
# user's edits to the stack files change what is rendered, never which invariants hold.
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "dev": ("dev", {}),
    "prod": ("prod", {}),
    **_matrix(),
    "dev-no-network-policies": ("dev", {"networkPolicies": "false"}),
    # An SSH bundle (its deploy key is the render's placeholder): the known-hosts volume in every pod
    # that fetches.
    "both-git-bundle-ssh": (
        "dev",
        {
            "executor": "CeleryExecutor,KubernetesExecutor",
            "dags": {
                "delivery": "git-bundle",
                "gitBundle": {
                    "repo": "git@github.com:acme/dags.git",
                    "knownHosts": "github.com ssh-ed25519 "
                    "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
                },
            },
        },
    ),
    "prod-no-pgbouncer": (
        "prod",
        {
            "database": {
                "mode": "external",
                "existingSecretName": "airflow-metadata-connection",
                "pgbouncer": {"enabled": False},
            }
        },
    ),
    "prod-log-volume": (
        "prod",
        {"remoteLogs": None, "logPersistence": {"enabled": True, "storageClassName": "efs"}},
    ),
    # A managed Redis over TLS with its own CA (the render's placeholder URL): the chart's Redis is off.
    "prod-external-redis": (
        "prod",
        {
            "executor": "CeleryExecutor,KubernetesExecutor",
            "redis": {"mode": "external", "caCertificate": _TEST_CA},
        },
    ),
    "prod-fernet-rotation": ("prod", {"fernet": {"generation": 1, "previousGeneration": 0}}),
    # Every image the stack runs pinned by digest (airflow:images): the chart's Redis, git-sync, the
    # bundled PostgreSQL and PgBouncer beside both executors; and prod with its Airflow as the DAG image
    # (delivery and pins set here, whatever the shipped prod says: every image but Airflow's is pinned).
    "pinned-both-git-sync-bundled": (
        "dev",
        {
            "executor": "CeleryExecutor,KubernetesExecutor",
            "dags": _DELIVERIES["git-sync"],
            "database": {"mode": "bundled", "pgbouncer": {"enabled": True}},
            "images": {role: PINS[role] for role in PINS},
        },
    ),
    "pinned-prod": (
        "prod",
        {
            "dags": _DELIVERIES["image"],
            "images": {role: pin for role, pin in PINS.items() if role != "airflow"},
        },
    ),
    "prod-ingress": (
        "prod",
        {"ingress": {"enabled": True, "host": "airflow.example.com", "clusterIssuer": "letsencrypt"}},
    ),
    # Every escape hatch, and connections and variables as code (tests/components/overrides/).
    "hatches": ("dev", HATCHES),
}


def _deployment(name: str, stack: str, overrides: dict[str, Any], recording: Recording) -> Deployment:
    """What a program run registered, with the chart rendered from the release it registered."""
    release = plain(recording.release().inputs)
    return Deployment(
        name=name,
        settings=parse_settings(raw_settings(stack, **overrides), source=f"Pulumi.{stack}.yaml"),
        recording=recording,
        values=release["values"],
        namespace=release["namespace"],
        chart_objects=in_release_namespace(
            render_chart(release["values"], namespace=release["namespace"]), release["namespace"]
        ),
        program_objects=manifests(recording),
    )


@pytest.fixture(scope="session")
def deployments() -> dict[str, Deployment]:
    """Every variant, rendered once per session.

    The program runs one variant at a time (the Pulumi runtime is global); the renders, a second or two
    of helm each, then run side by side and fill ``render_chart``'s cache.
    """
    recordings = {
        # A variant's secret keys are set as `pulumi config set --secret` sets them.
        name: run_stack(
            stack, secret_keys=[f"airflow:{k}" for k in overrides if k in SECRET_KEYS], **overrides
        )
        for name, (stack, overrides) in VARIANTS.items()
    }
    releases = [plain(r.release().inputs) for r in recordings.values()]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(
            pool.map(
                lambda release: render_chart(release["values"], namespace=release["namespace"]), releases
            )
        )
    return {
        name: _deployment(name, stack, overrides, recordings[name])
        for name, (stack, overrides) in VARIANTS.items()
    }


@pytest.fixture(params=sorted(VARIANTS))
def deployment(request: pytest.FixtureRequest, deployments: dict[str, Deployment]) -> Deployment:
    return deployments[request.param]
