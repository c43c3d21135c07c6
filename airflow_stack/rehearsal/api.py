"""The api-server's public REST API, as a user or a script reaches it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

__all__ = ["Api", "healthy"]


class Api:
    """The api-server's public REST API, as a user reaches it."""

    def __init__(self, base: str) -> None:
        self.base, self.token = base, ""

    def call(self, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
        request = urllib.request.Request(
            self.base + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                **({"Authorization": f"Bearer {self.token}"} if self.token else {}),
            },
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read().decode()
        return json.loads(text) if text else None

    def ok(self, path: str) -> bool:
        try:
            self.call("GET", path, timeout=5)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False
        return True


def healthy(api: Api) -> bool:
    try:
        health = api.call("GET", "/api/v2/monitor/health", timeout=5)
    except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
        return False
    return all(
        (health.get(component) or {}).get("status") == "healthy"
        for component in ("metadatabase", "scheduler", "triggerer", "dag_processor")
    )
