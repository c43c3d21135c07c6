"""Sign-in through the organization's identity provider: the api-server's webserver_config.py runs as
Flask-AppBuilder reads it, FAB's generic provider gives the groups it maps, the client secret reaches
only the environment Secret, and the real chart mounts the config."""

from __future__ import annotations

import json
import types
from typing import Any

import pulumi
import pytest
from airflow.providers.fab.auth_manager.security_manager.override import FabAirflowSecurityManagerOverride
from flask_appbuilder.security.manager import AUTH_OAUTH

from components.auth.settings import OidcSettings
from components.auth.values import CLIENT_SECRET_ENV, PROVIDER, webserver_config
from tests.conftest import render_chart, run_stack
from tests.helpers import secret_string_data
from tooling.offline.runtime import plain

SECRET = "oidc-client-s3cret-4f1c"
OIDC = {
    "issuer": "https://login.example.com/realms/acme",
    "clientId": "airflow",
    "roles": {"airflow-admins": "Admin", "data-engineers": "User", "analysts": "Viewer"},
}


def _config(monkeypatch: pytest.MonkeyPatch, oidc: dict[str, Any] = OIDC) -> dict[str, Any]:
    """The generated webserver_config.py executed as the api-server executes it."""
    monkeypatch.setenv(CLIENT_SECRET_ENV, SECRET)
    namespace: dict[str, Any] = {}
    exec(
        compile(webserver_config(OidcSettings.model_validate(oidc)), "webserver_config.py", "exec"), namespace
    )
    return namespace


def test_the_config_signs_in_through_the_provider_only(monkeypatch: pytest.MonkeyPatch) -> None:
    config = _config(monkeypatch)
    assert config["AUTH_TYPE"] == AUTH_OAUTH
    (provider,) = config["OAUTH_PROVIDERS"]
    assert provider["name"] == PROVIDER
    app = provider["remote_app"]
    assert app["client_id"] == "airflow"
    assert app["client_secret"] == SECRET
    assert (
        app["server_metadata_url"] == "https://login.example.com/realms/acme/.well-known/openid-configuration"
    )
    assert "groups" in app["client_kwargs"]["scope"].split()
    assert config["AUTH_ROLES_MAPPING"] == {
        "airflow-admins": ["Admin"],
        "analysts": ["Viewer"],
        "data-engineers": ["User"],
    }
    assert config["AUTH_ROLES_SYNC_AT_LOGIN"] is True
    assert (config["AUTH_USER_REGISTRATION"], config["AUTH_USER_REGISTRATION_ROLE"]) == (True, "Public")


def test_without_a_default_role_a_user_outside_the_groups_is_not_registered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _config(monkeypatch, OIDC | {"defaultRole": None})["AUTH_USER_REGISTRATION"] is False


def test_fabs_generic_provider_reads_the_groups_the_config_maps(monkeypatch: pytest.MonkeyPatch) -> None:
    """FAB's own get_oauth_user_info for a provider it has no branch for (ours, "oidc"): the userinfo's
    groups become the role keys AUTH_ROLES_MAPPING maps."""
    userinfo = {
        "preferred_username": "ada",
        "email": "ada@example.com",
        "groups": ["data-engineers", "other"],
    }
    remote = types.SimpleNamespace(userinfo=lambda: userinfo)
    fake = types.SimpleNamespace(oauth_remotes={PROVIDER: remote})
    info = FabAirflowSecurityManagerOverride.get_oauth_user_info(fake, PROVIDER, {})  # type: ignore[arg-type]
    mapping = _config(monkeypatch)["AUTH_ROLES_MAPPING"]
    assert info["username"] == "ada"
    assert sorted(role for key in info["role_keys"] for role in mapping.get(key, [])) == ["User"]


def _oidc_stack() -> Any:
    return run_stack(
        "dev", secret_keys=["airflow:oidcClientSecret"], auth={"oidc": OIDC}, oidcClientSecret=SECRET
    )


def test_the_secret_reaches_the_environment_secret_only_and_the_chart_mounts_the_config() -> None:
    recording = _oidc_stack()
    assert secret_string_data(recording, "airflow-environment")[CLIENT_SECRET_ENV] == SECRET
    release = plain(recording.release().inputs)
    values = release["values"]
    assert SECRET not in json.dumps(values)
    assert "AUTH_OAUTH" in values["apiServer"]["apiServerConfig"]
    objects = render_chart(values, namespace=release["namespace"])
    mounted = [
        o for o in objects if o["kind"] == "ConfigMap" and "webserver_config.py" in (o.get("data") or {})
    ]
    # As written, but for the final newline the chart's template trims.
    assert [o["data"]["webserver_config.py"].strip() for o in mounted] == [
        values["apiServer"]["apiServerConfig"].strip()
    ]
    (api_server,) = [
        o
        for o in objects
        if o["kind"] == "Deployment" and o["metadata"]["labels"].get("component") == "api-server"
    ]
    container = api_server["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env[CLIENT_SECRET_ENV]["valueFrom"]["secretKeyRef"] == {
        "name": "airflow-environment",
        "key": CLIENT_SECRET_ENV,
    }
    assert SECRET not in json.dumps(objects)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"auth": {"oidc": OIDC}},
            "airflow:auth.oidc needs the secret config value airflow:oidcClientSecret",
        ),
        (
            {"oidcClientSecret": SECRET},
            "airflow:oidcClientSecret is only used with airflow:auth.oidc",
        ),
        (
            {"auth": {"oidc": OIDC | {"issuer": "http://login.example.com"}}, "oidcClientSecret": SECRET},
            "airflow:auth.oidc.issuer in Pulumi.dev.yaml: must be an https:// URL of the issuer",
        ),
        (
            {"auth": {"oidc": OIDC | {"roles": {"airflow-admins": "Superuser"}}}, "oidcClientSecret": SECRET},
            "airflow:auth.oidc.roles.airflow-admins in Pulumi.dev.yaml: must be one of",
        ),
    ],
)
def test_an_incomplete_or_wrong_oidc_is_refused_in_one_line(overrides: dict[str, Any], expected: str) -> None:
    secret_keys = ["airflow:oidcClientSecret"] if "oidcClientSecret" in overrides else []
    with pytest.raises(pulumi.RunError) as caught:
        run_stack("dev", fill_secrets=False, secret_keys=secret_keys, **overrides)
    assert expected in str(caught.value)
    assert SECRET not in str(caught.value)
