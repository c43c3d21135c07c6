"""The whole program under mocks: what it registers, what is secret, protected and ordered."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pytest
from cryptography.fernet import Fernet

from components.secrets.credentials import AirflowSecrets, AirflowSecretsArgs
from components.stack import secret_names
from components.validation import parse_settings
from tests.conftest import Deployment, run_stack
from tests.helpers import RANDOM_TYPES, SECRET_TYPE, generated_values, secret_string_data
from tooling.offline.runtime import Recording, is_secret, plain, run_program
from tooling.offline.trial import THROWAWAY_STACK, project_copy

RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"executor": "SequentialExecutor"}, "airflow:executor in Pulumi.dev.yaml: must be one of"),
        ({"schedulr": {"replicas": 1}}, "airflow:schedulr in Pulumi.dev.yaml is not a known key"),
        ({"database": {"mode": "external"}}, "airflow:database.mode 'external' needs exactly one of"),
    ],
)
def test_bad_config_stops_before_any_resource(overrides: dict, message: str) -> None:
    recording = Recording()
    with pytest.raises(pulumi.RunError) as caught:
        run_stack("dev", recording=recording, **overrides)
    assert message in str(caught.value)
    assert recording.registrations == []


def test_under_pulumi_up_a_key_written_twice_in_the_stack_file_stops_the_program(tmp_path: Path) -> None:
    """The engine passes only the last value on; the program reads the file it runs beside."""
    project = project_copy(
        tmp_path,
        THROWAWAY_STACK + "  airflow:executor: CeleryExecutor\n  airflow:executor: KubernetesExecutor\n",
    )
    recording = Recording()
    with pytest.raises(pulumi.RunError) as caught:
        run_program(
            project / "__main__.py",
            stack="test",
            config={"airflow:protectStatefulResources": "false", "airflow:executor": "KubernetesExecutor"},
            secret_keys=[],
            recording=recording,
        )
    assert "Pulumi.test.yaml:4: key 'airflow:executor' under config is also set on line 3" in str(
        caught.value
    )
    assert recording.registrations == []


def test_plaintext_connection_string_is_refused_without_echoing_it() -> None:
    with pytest.raises(pulumi.RunError) as caught:
        run_stack(
            "prod", database={"mode": "external"}, metadataConnection="postgresql://u:topsecret@db/airflow"
        )
    assert "airflow:metadataConnection in Pulumi.prod.yaml is stored in plain text" in str(caught.value)
    assert "topsecret" not in str(caught.value)


def test_secret_connection_string_goes_only_into_a_secret() -> None:
    url = "postgresql://airflow:s3cr3t-pw@db.internal:5432/airflow"
    recording = run_stack(
        "prod",
        secret_keys=["airflow:metadataConnection"],
        database={"mode": "external"},
        metadataConnection=url,
    )
    assert secret_string_data(recording, "airflow-metadata-db") == {"connection": url}
    release = recording.release()
    assert "s3cr3t-pw" not in json.dumps(plain(release.inputs))
    assert plain(release.inputs)["values"]["data"]["metadataSecretName"] == "airflow-metadata-db"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_secret_values_never_reach_release_or_plain_outputs(stack: str) -> None:
    recording = run_stack(stack)
    release = recording.release()
    release_text = json.dumps(release.inputs)
    plain_outputs = json.dumps({k: v for k, (v, secret) in recording.stack_outputs.items() if not secret})
    for value in generated_values(recording):
        assert value not in release_text
        assert value not in plain_outputs


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_kubernetes_secret_is_marked_secret(stack: str) -> None:
    recording = run_stack(stack)
    secrets = recording.of_type(SECRET_TYPE)
    assert len(secrets) >= 7
    for secret in secrets:
        assert is_secret(secret.inputs["stringData"]), secret.name
        assert "stringData" in secret.secret_outputs


def test_stack_outputs_mark_only_the_passwords_secret() -> None:
    outputs = run_stack("dev", namespace="team-a", monitoring={"mode": "install"}).stack_outputs
    assert outputs["adminPassword"][1] is True
    assert {name for name, (_, secret) in outputs.items() if secret} == {
        "adminPassword",
        "grafanaAdminPassword",
    }
    assert outputs["apiServerUrl"][0] == "http://airflow-api-server.team-a.svc.cluster.local:8080"
    assert outputs["adminUsername"] == ("admin", False)


def test_fernet_key_is_a_valid_fernet_key() -> None:
    recording = run_stack("dev")
    key = secret_string_data(recording, "airflow-fernet")["fernet-key"]
    token = Fernet(key.encode()).encrypt(b"connection password")
    assert Fernet(key.encode()).decrypt(token) == b"connection password"


@pytest.mark.parametrize(
    ("stack", "protected"),
    [
        ("prod", {"airflow-namespace", "airflow-fernet-key", "airflow-fernet", "airflow-db-backups"}),
        ("dev", set()),
    ],
)
def test_protection_follows_the_stack(stack: str, protected: set[str]) -> None:
    recording = run_stack(stack)
    assert {r.name for r in recording.registrations if r.protect} == protected


def test_bundled_database_password_is_protected_when_state_is() -> None:
    recording = run_stack("dev", protectStatefulResources="true", logPersistence={"enabled": True})
    protected = {r.name for r in recording.registrations if r.protect}
    assert {
        "airflow-metadata-db-password",
        "airflow-postgres-admin-password",
        "airflow-postgres-auth",
        "airflow-metadata-db",
        "airflow-fernet-key",
        "airflow-fernet",
    } <= protected


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_release_waits_for_every_secret_and_the_namespace(stack: str) -> None:
    recording = run_stack(stack)
    release = recording.release()
    airflow_secrets = {r.urn for r in recording.of_type(SECRET_TYPE) if "Monitoring" not in r.parent}
    needed = airflow_secrets | {recording.named("airflow-namespace").urn}
    assert needed <= set(release.dependencies)


def test_release_is_pinned_and_not_awaited() -> None:
    release = plain(run_stack("prod").release().inputs)
    assert (release["chart"], release["version"], release["repositoryOpts"]["repo"]) == (
        "airflow",
        "1.22.0",
        "https://airflow.apache.org",
    )
    assert release["name"] == "airflow"
    assert release["namespace"] == "airflow"
    assert release["skipAwait"] is True


def test_namespace_enforces_restricted_pod_security() -> None:
    labels = plain(run_stack("dev").named("airflow-namespace").inputs)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"


def test_every_resource_is_parented_to_a_component() -> None:
    recording = run_stack("prod")
    components = {r.urn for r in recording.registrations if not r.custom}
    for r in recording.registrations:
        if r.custom:
            assert r.parent in components, r.name


@pytest.mark.parametrize(("executor", "redis"), [("KubernetesExecutor", False), ("CeleryExecutor", True)])
def test_celery_gets_redis_and_broker_secrets(executor: str, redis: bool) -> None:
    names = {r.inputs["metadata"]["name"] for r in run_stack("dev", executor=executor).of_type(SECRET_TYPE)}
    assert ({"airflow-redis-auth", "airflow-broker"} <= names) is redis


def test_broker_url_carries_the_generated_redis_password() -> None:
    recording = run_stack("prod", executor="CeleryExecutor", redis={"mode": "bundled"})
    password = secret_string_data(recording, "airflow-redis-auth")["password"]
    assert secret_string_data(recording, "airflow-broker") == {
        "connection": f"redis://:{password}@airflow-redis:6379/0"
    }


def _inputs_by_name(recording: Recording) -> dict[str, object]:
    return {f"{r.type}::{r.name}": plain(r.inputs) for r in recording.registrations}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_second_run_registers_identical_inputs(stack: str) -> None:
    """A second ``up`` of unchanged config has nothing to change: no Helm upgrade, no migration."""
    assert _inputs_by_name(run_stack(stack)) == _inputs_by_name(run_stack(stack))


def test_unrelated_config_changes_never_touch_generated_secrets() -> None:
    before = _inputs_by_name(run_stack("prod", redis={"mode": "bundled"}))
    after = _inputs_by_name(
        run_stack(
            "prod",
            redis={"mode": "bundled"},
            executor="KubernetesExecutor",
            scheduler={"replicas": 3, "resources": {"cpu": "2", "memory": "4Gi", "memoryLimit": "4Gi"}},
            podDisruptionBudgets="false",
        )
    )
    randoms = [key for key in before if key.split("::")[0] in RANDOM_TYPES and key in after]
    assert "random:index/randomId:RandomId::airflow-fernet-key" in randoms
    for key in randoms:
        assert before[key] == after[key], key
    assert before["random:index/randomId:RandomId::airflow-fernet-key"] == {
        "byteLength": 32,
        "keepers": {"rotation": "0"},
    }


@pulumi.runtime.test
def test_secrets_component_exposes_names_not_values(pulumi_mocks: Recording):
    settings = parse_settings(
        {"executor": "CeleryExecutor", "protectStatefulResources": "false"}, source="Pulumi.test.yaml"
    )
    args = AirflowSecretsArgs(
        namespace="ns",
        names=secret_names(settings),
        fernet=settings.fernet,
        database=settings.database,
        metadata_connection=None,
        broker_url=None,
        broker_ca_file=None,
        protect=False,
    )
    secrets = AirflowSecrets("t", args)
    assert secrets.names.broker_url == "airflow-broker"
    assert len(secrets.secrets) == 9

    async def check() -> None:
        assert await secrets.admin_password.is_secret() is True
        assert len(await secrets.admin_password.future()) == 24

    return check()


# Outputs of each random resource that carry the generated value, whatever their encoding.
KEY_MATERIAL = {
    "random:index/randomPassword:RandomPassword": {"result", "bcryptHash"},
    "random:index/randomId:RandomId": {"b64Std", "b64Url", "dec", "hex"},
    "random:index/randomString:RandomString": {"result"},
    "random:index/randomBytes:RandomBytes": {"base64", "hex"},
}


def test_every_random_value_is_secret_in_state(deployment: Deployment) -> None:
    """The engine stores an output encrypted only when the resource registers it as secret: the SDK
    does so for RandomPassword, not for RandomId, whose Fernet key would sit in state in plain text."""
    randoms = [r for r in deployment.recording.registrations if r.type.startswith("random:")]
    assert randoms
    plain_text = [
        f"{r.name}: {sorted(KEY_MATERIAL[r.type] - set(r.secret_outputs))}"
        for r in randoms
        if r.type not in KEY_MATERIAL or KEY_MATERIAL[r.type] - set(r.secret_outputs)
    ]
    assert plain_text == []


def test_making_the_fernet_key_secret_leaves_its_inputs_alone() -> None:
    """The inputs decide replacement: unchanged inputs keep the existing key on upgrade."""
    key = run_stack("prod").named("airflow-fernet-key")
    assert plain(key.inputs) == {"byteLength": 32, "keepers": {"rotation": "0"}}


def test_release_starts_no_pod_before_its_roles_exist() -> None:
    """The scheduler and workers would be refused their first pod calls without their Roles."""
    recording = run_stack("dev", executor="CeleryExecutor,KubernetesExecutor")
    bindings = recording.of_type("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")
    ours = [r.urn for r in bindings if "PodRoles" in r.parent]
    assert len(ours) == 3
    assert set(ours) <= set(recording.release().dependencies)
