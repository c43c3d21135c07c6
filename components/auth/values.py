"""The api-server's ``webserver_config.py`` for OIDC sign-in (the chart's ``apiServer.apiServerConfig``)."""

from __future__ import annotations

import json
from typing import Any

from components.auth.settings import OidcSettings

__all__ = ["CLIENT_SECRET_ENV", "PROVIDER", "auth_values", "webserver_config"]

CLIENT_SECRET_ENV = "AIRFLOW_OIDC_CLIENT_SECRET"  # from the stack's environment Secret
PROVIDER = "oidc"  # FAB's generic provider: userinfo() and its "groups" claim give the role keys


def webserver_config(oidc: OidcSettings) -> str:
    """Flask-AppBuilder settings: OAuth sign-in only, users made at their first login, roles synced
    from their groups at every login. Values are JSON literals (valid Python), never ``{{``."""
    provider = {
        "name": PROVIDER,
        "icon": "fa-openid",
        "token_key": "access_token",
        "remote_app": {
            "client_id": oidc.client_id,
            "server_metadata_url": oidc.issuer.rstrip("/") + "/.well-known/openid-configuration",
            "client_kwargs": {"scope": "openid email profile groups"},
        },
    }
    mapping = {group: [role] for group, role in sorted(oidc.roles.items())}
    lines = [
        '"""Made by the program (components/auth/values.py) from airflow:auth.oidc; edit that, not this."""',
        "import os",
        "",
        "from flask_appbuilder.security.manager import AUTH_OAUTH",
        "",
        "AUTH_TYPE = AUTH_OAUTH",
        f"AUTH_USER_REGISTRATION = {oidc.default_role is not None}",
        f"AUTH_USER_REGISTRATION_ROLE = {json.dumps(oidc.default_role or 'Public')}",
        "AUTH_ROLES_SYNC_AT_LOGIN = True",
        f"AUTH_ROLES_MAPPING = {json.dumps(mapping, sort_keys=True)}",
        f"OAUTH_PROVIDERS = [{json.dumps(provider, sort_keys=True)}]",
        f'OAUTH_PROVIDERS[0]["remote_app"]["client_secret"] = os.environ["{CLIENT_SECRET_ENV}"]',
        "",
    ]
    return "\n".join(lines).replace("{{", "{ {").replace("}}", "} }")


def auth_values(oidc: OidcSettings | None) -> dict[str, Any]:
    """The api-server's config where OIDC is on; nothing (the chart's password login) otherwise."""
    return {} if oidc is None else {"apiServer": {"apiServerConfig": webserver_config(oidc)}}
