"""Sign-in through the organization's identity provider (``airflow:auth.oidc``), with roles mapped from
its groups.

The chart's FAB auth manager signs users in with OpenID Connect (Flask-AppBuilder's ``AUTH_OAUTH``):
the provider's discovery document gives every endpoint, the ``groups`` claim of its userinfo gives each
user's groups, and ``roles`` maps them to Airflow's roles at every login. The client secret is a Pulumi
secret (``airflow:oidcClientSecret``) that reaches the api-server from the stack's environment Secret.
While OIDC is on, the UI offers no password login: the generated admin stays in the database for
break-glass (turn ``airflow:auth.oidc`` off, ``pulumi up``, sign in with ``adminPassword``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from components.model import ConfigModel, matching

__all__ = ["AIRFLOW_ROLES", "AuthSettings", "OidcSettings"]

AIRFLOW_ROLES = ("Admin", "Op", "User", "Viewer", "Public")
AirflowRole = Literal["Admin", "Op", "User", "Viewer", "Public"]
IssuerUrl = matching(
    r"https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%/-]*)?",
    "an https:// URL of the issuer, without query, fragment or trailing '/.well-known/...'",
)
# Group names as identity providers write them; braces refused (the chart's tpl reads the config).
GroupName = matching(r"[^{}\s\"'\\]{1,256}", "a group name without spaces, quotes, braces or backslashes")
ClientId = matching(r"[A-Za-z0-9._:@/-]{1,256}", "a client id of letters, digits and . _ : @ / -")


class OidcSettings(ConfigModel):
    """The identity provider: its issuer, Airflow's client id there, and which group gives which role."""

    issuer: IssuerUrl
    client_id: ClientId
    roles: Annotated[dict[GroupName, AirflowRole], Field(min_length=1)]
    # The role of a user in none of the mapped groups: Public sees nothing; None refuses the sign-in.
    default_role: AirflowRole | None = "Public"


class AuthSettings(ConfigModel):
    """How users sign in: the database's users (the generated admin), or the organization's OIDC."""

    oidc: OidcSettings | None = None
