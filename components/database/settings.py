"""Where the metadata database lives (``airflow:database``), PgBouncer in front of it, and what a
connection URL must hold for PgBouncer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field

from components.model import ConfigModel, DnsLabel, MemoryQuantity, Resources, resources_of

__all__ = [
    "CLEANUP_EVERY_SECONDS",
    "CLEANUP_SCHEDULE",
    "CleanupSettings",
    "Connection",
    "DatabaseSettings",
    "PgBouncerSettings",
    "parse_connection",
]

# Weekly, Sunday 03:00 UTC; the alert allows two missed runs before it fires.
CLEANUP_SCHEDULE = "0 3 * * 0"
CLEANUP_EVERY_SECONDS = 7 * 24 * 3600


class PgBouncerSettings(ConfigModel):
    """PgBouncer between every Airflow pod and the metadata database: a few hundred Airflow processes
    share ``metadataPoolSize`` server connections instead of opening one each."""

    enabled: bool = False
    replicas: int = Field(1, ge=1, le=10)
    max_client_conn: int = Field(200, ge=10, le=10000)
    metadata_pool_size: int = Field(20, ge=1, le=500)
    resources: Resources = resources_of("50m", "64Mi", "256Mi")
    exporter_resources: Resources = resources_of("10m", "32Mi", "64Mi")


class CleanupSettings(ConfigModel):
    """``airflow db clean`` as the chart's weekly CronJob: task instances, runs, logs and XComs older than
    ``retentionDays`` go (into archive tables first), so the metadata database does not grow until
    upgrades and queries crawl."""

    enabled: bool = True
    retention_days: int = Field(90, ge=1, le=3650)


class DatabaseSettings(ConfigModel):
    """Where the metadata database lives.

    ``bundled`` runs the chart's PostgreSQL in the namespace (dev). ``external`` points at a managed
    PostgreSQL, whose connection URL comes either from an existing Kubernetes Secret (key
    ``connection``) or from the secret config value ``airflow:metadataConnection``.
    """

    mode: Literal["bundled", "external"] = "bundled"
    existing_secret_name: DnsLabel | None = None
    storage_size: MemoryQuantity = "8Gi"
    resources: Resources = resources_of("100m", "256Mi", "512Mi")
    pgbouncer: PgBouncerSettings = PgBouncerSettings()
    cleanup: CleanupSettings = CleanupSettings()


@dataclass(frozen=True)
class Connection:
    """A PostgreSQL connection URL taken apart, for the PgBouncer config the program writes itself."""

    user: str
    password: str
    host: str
    port: int
    database: str
    sslmode: str


def parse_connection(url: str) -> Connection:
    """The parts of ``postgresql://user:password@host:port/db?sslmode=...``; the message names no value."""
    parts = urlsplit(url)
    query = dict(pair.split("=", 1) for pair in parts.query.split("&") if "=" in pair)
    if not (parts.username and parts.password and parts.hostname and parts.path.strip("/")):
        raise ValueError(
            "the metadata connection needs user, password, host and database for PgBouncer "
            "(postgresql://USER:PASSWORD@HOST:5432/DB); value not shown"
        )
    return Connection(
        user=unquote(parts.username),
        password=unquote(parts.password),
        host=parts.hostname,
        port=parts.port or 5432,
        database=parts.path.strip("/"),
        sslmode=query.get("sslmode", "prefer"),
    )
