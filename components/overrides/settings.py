"""The escape hatches: what the program does not model, given in the stack file and passed on as written.

- ``airflow:config``: sections and options of ``airflow.cfg`` (the chart's ``config``), e.g.
  ``{core: {parallelism: 64}, smtp: {smtp_host: smtp.example.com}}``.
- ``airflow:env``: environment variables of every Airflow container (the chart's ``env``).
- ``airflow:extraValues``: chart values merged over the program's, last.
- ``placement`` of each component (``components/placement.py``).

What the program owns (its Secrets, the executor, the DAG delivery, the security contexts, the
settings it derives from a key of its own) is refused through a hatch with one line naming the key
that sets it: two places for one setting means one of them silently loses. Credentials are refused
too: a hatch's values are plain text in the Helm values and the state.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, SecretStr
from pydantic_core import PydanticCustomError

from components.model import matching

__all__ = [
    "AirflowConfig",
    "EnvName",
    "EnvVars",
    "ExtraValues",
    "SecretEnvVars",
    "config_problem",
    "extra_values_problem",
]

# [section] option -> the stack key that sets it (or what makes it).
OWNED_CONFIG: dict[tuple[str, str], str] = {
    ("core", "executor"): "set airflow:executor instead",
    ("core", "fernet_key"): "it is the generated Fernet key, which airflow:fernet rotates",
    ("core", "dags_folder"): "airflow:dags delivers the DAGs",
    ("core", "default_task_execution_timeout"): "set airflow:tasks.maxTaskMinutes instead",
    ("dag_processor", "dag_bundle_config_list"): "airflow:dags delivers the DAGs",
    ("database", "sql_alchemy_conn"): "set airflow:database (or airflow:metadataConnection) instead",
    ("database", "sql_alchemy_conn_async"): "set airflow:database (or airflow:metadataConnection) instead",
    ("database", "sql_alchemy_connect_args_async"): "airflow:database.pgbouncer sets it",
    ("api", "secret_key"): "it is a generated secret",
    ("api_auth", "jwt_secret"): "it is a generated secret",
    ("webserver", "secret_key"): "it is a generated secret",
    ("celery", "broker_url"): "set airflow:redis (or airflow:brokerUrl) instead",
    ("celery", "result_backend"): "it is the metadata database (airflow:database)",
    ("celery", "worker_concurrency"): "set airflow:tasks.celeryConcurrency instead",
    ("metrics", "statsd_on"): "airflow:monitoring sets it",
    ("metrics", "statsd_host"): "airflow:monitoring sets it",
    ("metrics", "statsd_port"): "airflow:monitoring sets it",
    ("metrics", "statsd_prefix"): "set airflow:monitoring.statsdPrefix instead",
    ("logging", "remote_logging"): "set airflow:remoteLogs instead",
    ("logging", "remote_base_log_folder"): "set airflow:remoteLogs instead",
    ("logging", "remote_log_conn_id"): "set airflow:remoteLogs instead",
    ("kubernetes_executor", "namespace"): "task pods run in airflow:namespace",
    ("kubernetes_executor", "pod_template_file"): "the chart's template carries airflow:tasks",
    (
        "kubernetes_executor",
        "worker_container_repository",
    ): "set airflow:dags.image (or airflow:images) instead",
    ("kubernetes_executor", "worker_container_tag"): "set airflow:dags.image (or airflow:images) instead",
}
# Chart key paths the program owns -> what sets them.
OWNED_VALUES: dict[str, str] = {
    "executor": "set airflow:executor instead",
    "fernetKey": "it is the generated Fernet key, which airflow:fernet rotates",
    "fernetKeySecretName": "it is the generated Fernet key, which airflow:fernet rotates",
    "apiSecretKey": "it is a generated secret",
    "apiSecretKeySecretName": "it is a generated secret",
    "jwtSecret": "it is a generated secret",
    "jwtSecretName": "it is a generated secret",
    "webserverSecretKey": "it is a generated secret",
    "webserverSecretKeySecretName": "it is a generated secret",
    "data": "set airflow:database and airflow:redis instead",
    "dags": "airflow:dags delivers the DAGs",
    "images.airflow": "set airflow:dags.image (or airflow:images) instead",
    "config": "set airflow:config instead",
    "env": "set airflow:env instead",
    "extraEnv": "set airflow:env instead",
    "secret": "set airflow:secretEnv instead",
    "extraSecrets": "set airflow:secretEnv instead",
    "airflowPodAnnotations": "airflow:fernet restarts pods through it",
    "apiServer.apiServerConfig": "set airflow:auth.oidc instead (it writes the api-server's config)",
    "createUserJob.defaultUser": "set airflow:admin instead",
    "createUserJob.args": "set airflow:admin instead",
    "createUserJob.env": "set airflow:admin instead",
    "migrateDatabaseJob.extraInitContainers": "set airflow:backup instead",
    "allowPodLaunching": "set airflow:tasks.podExec instead",
    "multiNamespaceMode": "each stack is one namespace (airflow:namespace)",
}
# Anywhere in extraValues: every pod stays restricted (README, "Hardening").
_OWNED_ANYWHERE = {
    "securityContext": "every pod keeps the restricted security contexts",
    "securityContexts": "every pod keeps the restricted security contexts",
    "automountServiceAccountToken": "a pod that calls no Kubernetes API gets no token",
}
_SECRET_NAME = re.compile(r"(?i)(password|passwd|secret|token|private_key|credential|_key$)")
_ENV_OWNED = re.compile(
    r"AIRFLOW__(CORE__FERNET_KEY|DATABASE__SQL_ALCHEMY_CONN|CELERY__BROKER_URL)(_CMD|_SECRET)?"
)
_MAX_DEPTH = 16

SectionName = matching(r"[a-z][a-z0-9_]{0,63}", "an airflow.cfg section: lowercase letters, digits and '_'")
OptionName = matching(r"[a-z][a-z0-9_]{0,127}", "an airflow.cfg option: lowercase letters, digits and '_'")
EnvName = matching(
    r"[A-Za-z_][A-Za-z0-9_]{0,127}",
    "an environment variable name: letters, digits and '_', not starting with a digit",
)
# A value of airflow.cfg or of an environment variable: text as Airflow reads it. Braces are refused:
# the chart passes some values through Helm's tpl, which would run {{ ... }} as a template.
_PLAIN_TEXT = re.compile(r"[^{}\x00-\x08\x0b-\x1f\x7f]{0,4096}")
PlainText = matching(_PLAIN_TEXT.pattern, "at most 4096 characters of text without braces")


def _config_scalar(value: Any) -> Any:
    """An option's value keeps its own type (false stays a boolean: airflow.cfg reads False, never 0);
    text is checked as ``PlainText`` is; one message whatever is wrong."""
    if isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str) and _PLAIN_TEXT.fullmatch(value):
        return value
    raise PydanticCustomError(
        "config_value", "must be a number, a boolean or at most 4096 characters of text without braces"
    )


ConfigScalar = Annotated[Any, BeforeValidator(_config_scalar)]


def config_problem(section: str, option: str) -> str | None:
    """Why ``[section] option`` cannot be set through ``airflow:config``, or ``None``."""
    owner = OWNED_CONFIG.get((section, option))
    if owner is not None:
        return f"{section}.{option} is the program's: {owner}"
    if _SECRET_NAME.search(option):
        return (
            f"{section}.{option} looks like a credential, and airflow:config is plain text in the Helm "
            f"values; set AIRFLOW__{section.upper()}__{option.upper()} with airflow:secretEnv (a Pulumi "
            "secret) instead"
        )
    return None


def _check_config(config: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    problems = [
        problem
        for section, options in sorted(config.items())
        for option in sorted(options)
        if (problem := config_problem(section, option)) is not None
    ]
    if problems:
        raise ValueError("; ".join(problems))
    return config


def _env_problem(name: str) -> str | None:
    """Why the variable ``name`` cannot be set through ``airflow:env`` or ``airflow:secretEnv``."""
    if name.startswith("AIRFLOW_CONN_"):
        return f"{name} is the program's: set airflow:connections instead"
    if name.startswith("AIRFLOW_VAR_"):
        return f"{name} is the program's: set airflow:variables instead"
    if name.startswith("AIRFLOW__"):
        section, _, option = name.removeprefix("AIRFLOW__").lower().partition("__")
        owner = OWNED_CONFIG.get((section, option.removesuffix("_cmd").removesuffix("_secret")))
        if owner is not None:
            return f"{name} is the program's: {owner}"
    return None


def _env_checker(*, plain: bool) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The check of ``airflow:env`` (``plain``: its values are plain text in the Helm values, so a
    credential-looking name is refused) or of ``airflow:secretEnv``."""

    def check(env: dict[str, Any]) -> dict[str, Any]:
        for name in sorted(env):
            if (problem := _env_problem(name)) is not None:
                raise ValueError(problem)
            if plain and _SECRET_NAME.search(name):
                raise ValueError(
                    f"{name} looks like a credential, and airflow:env is plain text in the Helm values; "
                    "set it with airflow:secretEnv (a Pulumi secret) instead"
                )
        return env

    return check


def extra_values_problem(values: Any, path: str = "") -> str | None:
    """Why ``values`` (under chart key ``path``) cannot be merged over the program's, or ``None``."""
    if path.count(".") >= _MAX_DEPTH:
        return f"{path} nests deeper than {_MAX_DEPTH} levels"
    if isinstance(values, str):
        return (
            f"{path} holds '{{{{', which the chart's tpl would run as a template" if "{{" in values else None
        )
    if isinstance(values, list):
        for index, item in enumerate(values):
            if (problem := extra_values_problem(item, f"{path}[{index}]")) is not None:
                return problem
        return None
    if not isinstance(values, dict):
        return None
    for key, value in values.items():
        here = f"{path}.{key}" if path else str(key)
        owner = OWNED_VALUES.get(here) or _OWNED_ANYWHERE.get(str(key))
        if owner is not None:
            return f"{here} is the program's: {owner}"
        if (problem := extra_values_problem(value, here)) is not None:
            return problem
    return None


def _check_extra_values(values: dict[str, Any]) -> dict[str, Any]:
    if (problem := extra_values_problem(values)) is not None:
        raise ValueError(problem)
    return values


AirflowConfig = Annotated[dict[SectionName, dict[OptionName, ConfigScalar]], AfterValidator(_check_config)]
EnvVars = Annotated[dict[EnvName, PlainText], AfterValidator(_env_checker(plain=True))]
SecretEnvVars = Annotated[dict[EnvName, SecretStr], AfterValidator(_env_checker(plain=False))]
ExtraValues = Annotated[dict[str, Any], AfterValidator(_check_extra_values)]
