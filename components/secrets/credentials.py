"""Generated credentials, stored as Kubernetes Secrets that the chart reads by name.

Names, not values, go to Helm: a value in the release would be copied into the release's state and
into Helm's own release Secret, and the chart re-rolls any key it generates itself (the JWT secret on
every upgrade, which makes running tasks fail their signature checks).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from pydantic import SecretStr

from components.broker.url import verified_broker_url
from components.database.connection import bundled_connection, existing_connection, pgbouncer_login
from components.database.pgbouncer import (
    airflow_url,
    pgbouncer_ini,
    stats_url,
    users_txt,
)
from components.database.settings import DatabaseSettings
from components.kube import RELEASE_NAME
from components.kube_objects import kubernetes_secret
from components.secrets.names import SecretNames
from components.secrets.settings import FernetSettings

__all__ = [
    "AirflowSecrets",
    "AirflowSecretsArgs",
    "SecretNames",
    "kubernetes_secret",
]


@dataclass(frozen=True, kw_only=True)
class AirflowSecretsArgs:
    """The names to write, the secret values the stack gives, and the settings that decide which Secrets
    exist and which are protected."""

    namespace: pulumi.Input[str]
    names: SecretNames  # which Secrets this stack needs, by name (stack.secret_names)
    fernet: FernetSettings
    database: DatabaseSettings
    metadata_connection: SecretStr | None  # airflow:metadataConnection, where the database is external
    broker_url: SecretStr | None  # airflow:brokerUrl, where Redis is external
    broker_ca_file: str | None  # where the CA of an external Redis is mounted, if the stack gives one
    protect: bool  # airflow:protectStatefulResources
    remote_logs_connection: SecretStr | None = None  # airflow:remoteLogsConnection


class AirflowSecrets(pulumi.ComponentResource):
    """Generates every credential Airflow needs and writes each into its own Kubernetes Secret.

    The Fernet key and the database password are protected in stacks that protect stateful
    resources: losing the Fernet key makes every stored connection and variable unreadable, and a new
    database password does not reach a PostgreSQL volume that was initialised with the old one.
    """

    names: SecretNames
    admin_password: pulumi.Output[str]
    secrets: list[k8s.core.v1.Secret]

    def __init__(
        self, name: str, args: AirflowSecretsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("airflow:components:AirflowSecrets", name, None, opts)
        self._name = name
        self._namespace = args.namespace
        self._args = args
        self.names = args.names
        self.secrets = []
        keep = pulumi.ResourceOptions(parent=self, protect=args.protect)

        self._store("fernet", self.names.fernet_key, {"fernet-key": self._fernet_keys()}, keep)
        self._store(
            "api-secret", self.names.api_secret_key, {"api-secret-key": self._password("api-secret", 64)}
        )
        self._store("jwt", self.names.jwt_secret, {"jwt-secret": self._password("jwt", 64)})
        self._store(
            "webserver-secret",
            self.names.webserver_secret_key,
            {"webserver-secret-key": self._password("webserver-secret", 64)},
        )
        self.admin_password = self._password("admin-password", 24)
        self._store("admin", self.names.admin_password, {"password": self.admin_password})

        direct = self._direct_connection(args.namespace, keep)
        if args.database.pgbouncer.enabled and direct is not None:
            self._behind_pgbouncer(direct, args.namespace)
        elif direct is not None:
            self._store("metadata-db", self.names.metadata_connection, {"connection": direct}, keep)

        if self.names.broker_url is not None:
            self._store("broker", self.names.broker_url, {"connection": self._broker_url()})

        if self.names.task_logs_connection is not None:
            assert args.remote_logs_connection is not None  # the name is only set with the value
            connection = pulumi.Output.secret(args.remote_logs_connection.get_secret_value())
            self._store("task-logs", self.names.task_logs_connection, {"connection": connection})

        self.register_outputs({"names": self.names.__dict__, "admin_password": self.admin_password})

    def _broker_url(self) -> pulumi.Output[str]:
        """The chart's Redis with a generated password, or the external one's URL, made to verify TLS."""
        if self.names.redis_password is not None:
            redis_password = self._password("redis-password", 32)
            self._store("redis-auth", self.names.redis_password, {"password": redis_password})
            return pulumi.Output.secret(
                redis_password.apply(lambda pw: f"redis://:{pw}@{RELEASE_NAME}-redis:6379/0")
            )
        assert self._args.broker_url is not None  # settings refuse an external Redis without it
        url = verified_broker_url(self._args.broker_url.get_secret_value(), self._args.broker_ca_file)
        return pulumi.Output.secret(url)

    def _direct_connection(
        self, namespace: pulumi.Input[str], keep: pulumi.ResourceOptions
    ) -> pulumi.Output[str] | None:
        """The real database URL, as a secret; None where only an existing Secret holds it and no
        PgBouncer needs it (Airflow then reads that Secret directly)."""
        database = self._args.database
        if self.names.postgres_auth is not None:
            db_password = self._password("metadata-db-password", 32, opts=keep)
            self._store(
                "postgres-auth",
                self.names.postgres_auth,
                {
                    "password": db_password,
                    "postgres-password": self._password("postgres-admin-password", 32, opts=keep),
                },
                keep,
            )
            return bundled_connection(db_password, namespace)
        if self._args.metadata_connection is not None:
            return pulumi.Output.secret(self._args.metadata_connection.get_secret_value())
        if database.pgbouncer.enabled and database.existing_secret_name is not None:
            existing = k8s.core.v1.Secret.get(
                f"{self._name}-existing-metadata-db",
                pulumi.Output.format("{0}/{1}", namespace, database.existing_secret_name),
                opts=pulumi.ResourceOptions(parent=self),
            )
            return pulumi.Output.secret(existing.data.apply(existing_connection))
        return None

    def _behind_pgbouncer(self, direct: pulumi.Output[str], namespace: pulumi.Input[str]) -> None:
        """PgBouncer's config and stats login from the real URL; Airflow's URL points at PgBouncer."""
        assert self.names.pgbouncer_config is not None  # set whenever PgBouncer is enabled
        assert self.names.pgbouncer_stats is not None
        bouncer = self._args.database.pgbouncer
        db = direct.apply(pgbouncer_login)
        service = pulumi.Output.format("{0}-pgbouncer.{1}", RELEASE_NAME, namespace)
        self._store(
            "pgbouncer-config",
            self.names.pgbouncer_config,
            {
                "pgbouncer.ini": db.apply(lambda c: pgbouncer_ini(c, bouncer)),
                "users.txt": db.apply(users_txt),
            },
        )
        self._store("pgbouncer-stats", self.names.pgbouncer_stats, {"connection": db.apply(stats_url)})
        if self.names.backup_connection is not None:  # the dump goes to the database itself
            self._store("db-backup", self.names.backup_connection, {"connection": direct})
        self._store(
            "metadata-db",
            self.names.metadata_connection,
            {"connection": pulumi.Output.all(db, service).apply(lambda pair: airflow_url(*pair))},
        )

    def _fernet_keys(self) -> pulumi.Output[str]:
        """``new`` or, while rotating, ``new,old``: Airflow encrypts with the first and decrypts with any.

        Generation 0 keeps the resource name and keeper it always had, so turning rotation support on
        changes nothing. Only the current key is protected: the old one is dropped on purpose, one
        ``up`` after the rotation Job has re-encrypted everything.
        """
        fernet = self._args.fernet
        generations = [fernet.generation]
        if fernet.previous_generation is not None:
            generations.append(fernet.previous_generation)
        keys = []
        for generation in generations:
            suffix = "" if generation == 0 else f"-{generation}"
            current = generation == fernet.generation
            key = random.RandomId(
                f"{self._name}-fernet-key{suffix}",
                byte_length=32,
                keepers={"rotation": str(generation)},
                # random_id marks none of its outputs sensitive: without this the key sits in the
                # state in plain text. An option, not an input, so an existing key is kept as it is.
                opts=pulumi.ResourceOptions(
                    parent=self,
                    protect=current and self._args.protect,
                    additional_secret_outputs=["b64Std", "b64Url", "dec", "hex"],
                ),
            )
            keys.append(key.b64_url.apply(_pad_base64))
        return pulumi.Output.secret(pulumi.Output.all(*keys).apply(",".join))

    def _password(
        self, role: str, length: int, opts: pulumi.ResourceOptions | None = None
    ) -> pulumi.Output[str]:
        # Letters and digits only: these values land in URLs and shell arguments unescaped.
        password = random.RandomPassword(
            f"{self._name}-{role}",
            length=length,
            special=False,
            min_lower=1,
            min_upper=1,
            min_numeric=1,
            opts=opts or pulumi.ResourceOptions(parent=self),
        )
        return pulumi.Output.secret(password.result)

    def _store(
        self,
        role: str,
        secret_name: str,
        data: dict[str, pulumi.Input[str]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        self.secrets.append(
            kubernetes_secret(
                f"{self._name}-{role}",
                role=role,
                secret_name=secret_name,
                namespace=self._namespace,
                data=data,
                opts=opts or pulumi.ResourceOptions(parent=self),
            )
        )


def _pad_base64(unpadded: str) -> str:
    """random_id's ``b64_url`` drops the ``=`` padding that Fernet's key decoder requires."""
    return unpadded + "=" * (-len(unpadded) % 4)
