"""PgBouncer: its config from the real URL, Airflow pointed at it, and no credential outside Secrets."""

from __future__ import annotations

import configparser
import json
from typing import Any

import pulumi
import pytest

from components.database.connection import existing_connection, pgbouncer_login
from components.database.pgbouncer import (
    AIRFLOW_LOCAL_SETTINGS,
    ASYNC_CONNECT_ARGS,
    airflow_url,
    pgbouncer_ini,
    stats_url,
    users_txt,
)
from components.database.settings import PgBouncerSettings, parse_connection
from tests.conftest import Deployment, run_stack
from tests.helpers import secret_string_data
from tooling.offline.runtime import Recording, is_secret, plain

URL = "postgresql://air%40flow:p%2Fss%3Aw0rd@db.internal:5433/airflow_meta?sslmode=require"


def test_the_connection_url_is_parsed_with_its_escapes() -> None:
    db = parse_connection(URL)
    assert (db.user, db.password, db.host, db.port, db.database, db.sslmode) == (
        "air@flow",
        "p/ss:w0rd",
        "db.internal",
        5433,
        "airflow_meta",
        "require",
    )


def test_the_ini_pools_the_real_database_with_tls_as_asked() -> None:
    ini = configparser.ConfigParser()
    ini.read_string(
        pgbouncer_ini(parse_connection(URL), PgBouncerSettings(max_client_conn=300, metadata_pool_size=7))
    )
    assert (
        ini["databases"]["airflow-metadata"] == "host=db.internal dbname=airflow_meta port=5433 pool_size=7"
    )
    assert ini["pgbouncer"]["pool_mode"] == "transaction"
    assert ini["pgbouncer"]["listen_port"] == "6543"
    assert ini["pgbouncer"]["max_client_conn"] == "300"
    assert ini["pgbouncer"]["server_tls_sslmode"] == "require"
    assert ini["pgbouncer"]["auth_file"] == "/etc/pgbouncer/users.txt"


def test_pgbouncer_writes_nothing_to_its_read_only_root() -> None:
    """PgBouncer's default Unix socket lands in /tmp, which its read-only root refuses: every client
    (Airflow, the exporter) comes over TCP, so the socket is off."""
    ini = configparser.ConfigParser()
    ini.read_string(pgbouncer_ini(parse_connection(URL), PgBouncerSettings()))
    assert ini["pgbouncer"]["unix_socket_dir"] == ""
    assert not {"logfile", "pidfile"} & set(ini["pgbouncer"])


def test_airflow_connects_to_pgbouncer_with_the_same_login() -> None:
    db = parse_connection(URL)
    assert users_txt(db) == '"air@flow" "p/ss:w0rd"\n'
    via = parse_connection(airflow_url(db, "airflow-pgbouncer.airflow"))
    assert (via.user, via.password, via.host, via.port, via.database) == (
        "air@flow",
        "p/ss:w0rd",
        "airflow-pgbouncer.airflow",
        6543,
        "airflow-metadata",
    )
    assert parse_connection(stats_url(db)).database == "pgbouncer"


def test_a_url_without_password_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValueError, match="needs user, password, host and database") as caught:
        parse_connection("postgresql://airflow@db.internal/airflow")
    assert "db.internal" not in str(caught.value)


def test_prod_builds_pgbouncer_from_the_existing_secret_it_reads() -> None:
    recording = run_stack("prod")
    config = secret_string_data(recording, "airflow-pgbouncer-config")
    assert "host=db.offline.invalid dbname=airflow port=5432" in config["pgbouncer.ini"]
    airflow = secret_string_data(recording, "airflow-metadata-db")["connection"]
    assert parse_connection(airflow).host == "airflow-pgbouncer.airflow"
    assert is_secret(recording.named("airflow-pgbouncer-stats").inputs["stringData"])
    release = recording.release()
    assert recording.named("airflow-pgbouncer-config").urn in release.dependencies
    password = parse_connection(airflow).password
    assert password not in json.dumps(plain(release.inputs))


def test_pgbouncer_with_a_secret_connection_url() -> None:
    url = "postgresql://airflow:s3cr3t-pw@db.internal:5432/airflow?sslmode=require"
    recording = run_stack(
        "prod",
        secret_keys=["airflow:metadataConnection"],
        database={"mode": "external", "pgbouncer": {"enabled": True}},
        metadataConnection=url,
    )
    assert "host=db.internal" in secret_string_data(recording, "airflow-pgbouncer-config")["pgbouncer.ini"]
    assert "s3cr3t-pw" not in json.dumps(plain(recording.release().inputs))


def test_a_secret_url_pgbouncer_cannot_log_in_with_is_refused() -> None:
    recording = Recording()
    with pytest.raises(pulumi.RunError) as caught:
        run_stack(
            "prod",
            recording=recording,
            secret_keys=["airflow:metadataConnection"],
            database={"mode": "external", "pgbouncer": {"enabled": True}},
            metadataConnection="postgresql://airflow@db.internal/airflow",
        )
    assert (
        "airflow:metadataConnection: the metadata connection needs user, password, host and database"
        in str(caught.value)
    )
    assert "db.internal" not in str(caught.value)
    assert recording.registrations == []


@pytest.mark.parametrize(
    ("pgbouncer", "message"),
    [
        (
            {"enabled": True, "maxClientConn": 1},
            "airflow:database.pgbouncer.maxClientConn in Pulumi.test.yaml",
        ),
        ({"enabled": True, "replicas": 0}, "airflow:database.pgbouncer.replicas in Pulumi.test.yaml"),
        ({"enabled": "sometimes"}, "airflow:database.pgbouncer.enabled in Pulumi.test.yaml"),
        ({"poolSize": 5}, "airflow:database.pgbouncer.poolSize in Pulumi.test.yaml is not a known key"),
    ],
)
def test_bad_pgbouncer_settings_are_named(pgbouncer: dict[str, object], message: str) -> None:
    from components.model import ConfigError
    from components.validation import parse_settings

    with pytest.raises(ConfigError, match=message):
        parse_settings({"database": {"pgbouncer": pgbouncer}}, source="Pulumi.test.yaml")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "has no key 'connection'"),
        (
            {"connection": "cG9zdGdyZXNxbDovL2FpcmZsb3dAZGIuaW50ZXJuYWwvYWlyZmxvdw=="},  # no password
            "airflow:database.existingSecretName: the metadata connection needs user, password",
        ),
    ],
)
def test_an_unusable_existing_secret_ends_up_with_a_message_not_a_traceback(
    data: dict[str, str], message: str
) -> None:
    with pytest.raises(pulumi.RunError, match=message) as caught:
        pgbouncer_login(existing_connection(data))
    assert "db.internal" not in str(caught.value)


def test_behind_pgbouncer_no_client_leaves_a_prepared_statement_on_a_shared_server_connection() -> None:
    """Transaction pooling hands one server connection to many clients: psycopg2 (named, since SQLAlchemy
    2.1 would pick psycopg 3, which prepares) for the sync engine, and asyncpg told to cache nothing and
    name each statement uniquely for the async one. The rehearsal found the failure this prevents."""
    db = parse_connection(URL)
    assert airflow_url(db, "airflow-pgbouncer.airflow").startswith("postgresql+psycopg2://")
    namespace: dict[str, Any] = {}
    exec(compile(AIRFLOW_LOCAL_SETTINGS, "airflow_local_settings.py", "exec"), namespace)
    args = namespace[ASYNC_CONNECT_ARGS.removeprefix("airflow_local_settings.")]
    assert (args["statement_cache_size"], args["prepared_statement_cache_size"]) == (0, 0)
    assert args["prepared_statement_name_func"]() != args["prepared_statement_name_func"]()


def test_the_chart_gets_the_async_connect_args_only_behind_pgbouncer(
    deployments: dict[str, Deployment],
) -> None:
    for name in ("prod", "prod-no-pgbouncer"):
        values = deployments[name].values
        (config_map,) = [
            o
            for o in deployments[name].chart_objects
            if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "airflow-config"
        ]
        behind = name == "prod"
        assert (
            "sql_alchemy_connect_args_async = " + ASYNC_CONNECT_ARGS in config_map["data"]["airflow.cfg"]
        ) is behind
        assert (config_map["data"]["airflow_local_settings.py"] == AIRFLOW_LOCAL_SETTINGS.strip()) is behind
        assert ("airflowLocalSettings" in values) is behind
