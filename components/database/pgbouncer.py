"""PgBouncer in front of the metadata database: its config, its login, and where Airflow connects.

The chart can build PgBouncer's config only from plain connection values, which this program never
gives it; so the program writes the config Secret itself (``pgbouncer.configSecretName``) from the real
connection URL, a Pulumi secret, and points Airflow's metadata Secret at PgBouncer instead. The URL
comes from the bundled database, from ``airflow:metadataConnection``, or from the existing Secret named
by ``database.existingSecretName`` (read at deploy time; its value never leaves Pulumi's secrets).
"""

from __future__ import annotations

from urllib.parse import quote

from components.database.settings import Connection, PgBouncerSettings

__all__ = [
    "AIRFLOW_LOCAL_SETTINGS",
    "ASYNC_CONNECT_ARGS",
    "DATABASE_ALIAS",
    "PORT",
    "airflow_url",
    "pgbouncer_ini",
    "stats_url",
    "users_txt",
]

PORT = 6543  # the chart's ports.pgbouncer
# Behind transaction pooling one server connection serves many clients in turn, so no client may leave a
# named prepared statement on it (found by the rehearsal: "prepared statement _pg3_0 already exists").
# The sync engine uses psycopg2, named in the URL, which never prepares (SQLAlchemy 2.1 would otherwise
# pick psycopg 3, which prepares a statement run five times); Airflow derives the async engine's asyncpg
# from it, which caches none and names each statement uniquely with these connect args.
AIRFLOW_LOCAL_SETTINGS = '''"""From the Pulumi program: the async engine's connect args behind PgBouncer."""
import uuid

ASYNCPG_BEHIND_PGBOUNCER = {
    "statement_cache_size": 0,
    "prepared_statement_cache_size": 0,
    "prepared_statement_name_func": lambda: f"__asyncpg_{uuid.uuid4()}__",
}
'''
ASYNC_CONNECT_ARGS = "airflow_local_settings.ASYNCPG_BEHIND_PGBOUNCER"
DATABASE_ALIAS = "airflow-metadata"  # the name Airflow asks PgBouncer for


def pgbouncer_ini(db: Connection, settings: PgBouncerSettings) -> str:
    """Transaction pooling, as the chart configures it; TLS to the database as the URL asks."""
    return "\n".join(
        [
            "[databases]",
            f"{DATABASE_ALIAS} = host={db.host} dbname={db.database} port={db.port} "
            f"pool_size={settings.metadata_pool_size}",
            "",
            "[pgbouncer]",
            "pool_mode = transaction",
            f"listen_port = {PORT}",
            "listen_addr = *",
            # Clients come over TCP; the default socket in /tmp would need a writable root.
            "unix_socket_dir =",
            "auth_type = scram-sha-256",
            "auth_file = /etc/pgbouncer/users.txt",
            f"stats_users = {db.user}",
            "ignore_startup_parameters = extra_float_digits",
            f"max_client_conn = {settings.max_client_conn}",
            "verbose = 0",
            "log_disconnections = 0",
            "log_connections = 0",
            f"server_tls_sslmode = {db.sslmode}",
            "server_tls_ciphers = normal",
            "",
        ]
    )


def users_txt(db: Connection) -> str:
    """PgBouncer's ``auth_file``: the one login it accepts, the database's own (scram-sha-256 against it)."""
    return f'"{db.user}" "{db.password}"\n'


def airflow_url(db: Connection, service_host: str) -> str:
    """What every Airflow pod connects to: PgBouncer's Service (in-cluster, plain), the same login."""
    userinfo = f"{quote(db.user, safe='')}:{quote(db.password, safe='')}"
    return f"postgresql+psycopg2://{userinfo}@{service_host}:{PORT}/{DATABASE_ALIAS}?sslmode=disable"


def stats_url(db: Connection) -> str:
    """The metrics exporter sidecar reads PgBouncer's own stats database, on the pod's loopback."""
    userinfo = f"{quote(db.user, safe='')}:{quote(db.password, safe='')}"
    return f"postgresql://{userinfo}@127.0.0.1:{PORT}/pgbouncer?sslmode=disable"
