"""A connection and a variable stored through Airflow's REST API, and the reading back of both: what
an upgrade or a Fernet rotation must never lose.

The connection's extra and the variable's value are random, so only values stored by this probe read
back, and the api-server decrypts them with the Fernet keys its pod holds: a read that answers proves
the keys still decrypt what was stored.
"""

from __future__ import annotations

import json
import secrets
import urllib.error

from tooling.cluster.timeline import CheckFailed
from tooling.rehearsal.api import Api

__all__ = ["StoredValues"]


class StoredValues:
    """Stores a connection and a variable, both named ``probe_id``; ``reads_back`` judges them."""

    def __init__(self, api: Api, probe_id: str) -> None:
        self.api, self.probe_id = api, probe_id
        self.extra, self.value = secrets.token_urlsafe(18), secrets.token_urlsafe(18)
        api.call(
            "POST",
            "/api/v2/connections",
            {
                "connection_id": probe_id,
                "conn_type": "generic",
                "login": "cluster-test",
                "password": secrets.token_urlsafe(18),
                "extra": json.dumps({"probe": self.extra}),
            },
        )
        api.call("POST", "/api/v2/variables", {"key": probe_id, "value": self.value})

    def reads_back(self, after: str) -> None:
        """Both read back as stored, ``after`` naming the step, in the failure's line."""
        try:
            connection = self.api.call("GET", f"/api/v2/connections/{self.probe_id}")
            variable = self.api.call("GET", f"/api/v2/variables/{self.probe_id}")
        except urllib.error.HTTPError as error:
            raise CheckFailed(
                f"after {after}: the stored connection or variable cannot be read ({error})"
            ) from None
        if json.loads(connection.get("extra") or "{}").get("probe") != self.extra:
            raise CheckFailed(f"after {after}: the stored connection's extra does not read back")
        if variable.get("value") != self.value:
            raise CheckFailed(f"after {after}: the stored variable does not read back")
