"""The api-server's public REST API, as a user or a script reaches it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from tooling.rehearsal.services import wait_until

__all__ = ["Api", "healthy", "run_dag"]


class Api:
    """The api-server's public REST API, as a user reaches it."""

    def __init__(self, base: str) -> None:
        self.base, self.token = base, ""

    def call(self, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
        """One REST API call with the session's token; its JSON."""
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
        """Whether ``GET path`` answers at all (for waits)."""
        try:
            self.call("GET", path, timeout=5)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False
        return True


def healthy(api: Api) -> bool:
    """Whether ``/api/v2/monitor/health`` reports every component healthy."""
    try:
        health = api.call("GET", "/api/v2/monitor/health", timeout=5)
    except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
        return False
    return all(
        (health.get(component) or {}).get("status") == "healthy"
        for component in ("metadatabase", "scheduler", "triggerer", "dag_processor")
    )


def run_dag(
    api: Api,
    dag_id: str,
    *,
    timeout: float,
    parse_timeout: float = 120,
    every: float = 2,
    alive: Callable[[], object] = lambda: None,
) -> tuple[str, str]:
    """Unpauses ``dag_id`` once it is parsed, triggers a run and waits for it to end: (run id, state).
    ``alive`` is called on every poll, to stop early when what runs the DAG has died."""
    wait_until(lambda: api.ok(f"/api/v2/dags/{dag_id}"), f"{dag_id} parsed", parse_timeout, every)
    api.call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
    run = api.call("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None})["dag_run_id"]
    state = ""

    def finished() -> bool:
        nonlocal state
        alive()
        state = api.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run}")["state"]
        return state in ("success", "failed")

    wait_until(finished, f"{dag_id} run {run}", timeout, every)
    return run, state
