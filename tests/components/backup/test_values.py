"""Where the backup runs: in the migration Job of a stack that backs up, before the migration, from the
database's own connection Secret, on the claim the program makes."""

from __future__ import annotations

from typing import Any

import jsonschema

from components.backup.values import BACKUP_CLAIM, BACKUP_SCRIPT, CHART_POSTGRESQL_IMAGE, backup_key
from components.dags.settings import ConfigMapDags
from components.release.values import build_helm_values
from components.settings import StackSettings
from components.stack import secret_names

PIN = "registry.example/postgresql:16.1.0@sha256:" + "a" * 64


def _settings(**raw: Any) -> StackSettings:
    # A protected stack must keep its task logs: on a volume here.
    logs = {"log_persistence": {"enabled": True}} if raw.get("protect_stateful_resources") else {}
    return StackSettings.model_validate({"dags": ConfigMapDags(), **logs, **raw})


def _migration(settings: StackSettings) -> dict[str, Any]:
    values = build_helm_values(settings, secret_names(settings), {})
    return values["migrateDatabaseJob"]


def test_a_protected_stack_backs_up_by_default_and_an_unprotected_one_does_not() -> None:
    assert _settings(protect_stateful_resources=True).backs_up
    assert not _settings(protect_stateful_resources=False).backs_up
    assert _settings(protect_stateful_resources=False, backup={"enabled": True}).backs_up
    assert not _settings(protect_stateful_resources=True, backup={"enabled": False}).backs_up
    assert "extraInitContainers" not in _migration(_settings(protect_stateful_resources=False))


def test_the_migration_job_dumps_first_from_the_metadata_connection() -> None:
    job = _migration(_settings(protect_stateful_resources=True, backup={"generation": 3, "keep": 7}))
    (init,) = job["extraInitContainers"]
    assert init["image"] == CHART_POSTGRESQL_IMAGE
    assert init["command"][-2:] == [backup_key(3), "7"]
    assert backup_key(3).endswith("-g3")
    (env,) = init["env"]
    assert env["valueFrom"]["secretKeyRef"] == {"name": "airflow-metadata-db", "key": "connection"}
    assert init["securityContext"]["readOnlyRootFilesystem"] is True
    assert job["extraVolumes"] == [
        {"name": "db-backups", "persistentVolumeClaim": {"claimName": BACKUP_CLAIM}}
    ]


def test_behind_pgbouncer_the_dump_reads_a_direct_connection_of_its_own() -> None:
    settings = _settings(protect_stateful_resources=True, database={"pgbouncer": {"enabled": True}})
    (init,) = _migration(settings)["extraInitContainers"]
    assert secret_names(settings).backup_connection == "airflow-db-backup"
    assert init["env"][0]["valueFrom"]["secretKeyRef"]["name"] == "airflow-db-backup"
    assert secret_names(_settings(protect_stateful_resources=False)).backup_connection is None


def test_the_dump_image_follows_the_pins() -> None:
    pinned = _settings(protect_stateful_resources=True, images={"postgresql": PIN})
    assert _migration(pinned)["extraInitContainers"][0]["image"] == PIN
    own = _settings(protect_stateful_resources=True, backup={"image": PIN.replace("16.1.0", "17.2")})
    assert _migration(own)["extraInitContainers"][0]["image"] == PIN.replace("16.1.0", "17.2")


def test_the_values_fit_the_charts_schema(chart_schema: dict[str, Any]) -> None:
    values = build_helm_values(
        *(lambda s: (s, secret_names(s)))(_settings(protect_stateful_resources=True)), {}
    )
    errors = list(jsonschema.Draft7Validator(chart_schema).iter_errors(values))
    assert [f"{list(e.path)}: {e.message}" for e in errors] == []


def test_the_charts_migration_job_dumps_first_on_the_claim_as_restricted() -> None:
    from tests.conftest import render_chart

    settings = _settings(protect_stateful_resources=True)
    values = build_helm_values(settings, secret_names(settings), {})
    (job,) = [
        doc
        for doc in render_chart(values, namespace="airflow")
        if doc["kind"] == "Job" and doc["metadata"]["name"] == "airflow-run-airflow-migrations"
    ]
    pod = job["spec"]["template"]["spec"]
    (init,) = pod["initContainers"]
    assert init["name"] == "backup-metadata-database"
    # the chart passes extraInitContainers through `tpl`: the script must come out as written
    assert init["command"][:3] == ["bash", "-c", BACKUP_SCRIPT]
    assert init["securityContext"]["readOnlyRootFilesystem"] is True
    assert init["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert {"name": "db-backups", "persistentVolumeClaim": {"claimName": BACKUP_CLAIM}} in pod["volumes"]
    assert [c["name"] for c in pod["containers"]] == ["run-airflow-migrations"]
    # the secret reaches the pod by reference only
    assert "value" not in init["env"][0]
