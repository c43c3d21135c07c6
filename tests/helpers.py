"""What many tests share: the secret values the mocks generated and a Secret's data in a recorded
program run, and the DAG gate run as a user runs it. Shared here, so no test module imports another."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tooling.offline.runtime import Recording, is_secret

__all__ = ["NO_BUDGET", "RANDOM_TYPES", "SECRET_TYPE", "generated_values", "run_gate", "secret_string_data"]

ROOT = Path(__file__).resolve().parent.parent
# Tests not about the parse budget give a budget no parse reaches, so their verdict never depends on
# how fast this machine is; the budget's own tests use DAGs that are slow (or idle) by construction.
NO_BUDGET = ("--max-parse-seconds", "600")

SECRET_TYPE = "kubernetes:core/v1:Secret"
RANDOM_TYPES = ("random:index/randomPassword:RandomPassword", "random:index/randomId:RandomId")


def generated_values(recording: Recording) -> list[str]:
    """Every secret value the mocks generated, to search for in places they must not be."""
    found = []
    for r in recording.registrations:
        if r.type in RANDOM_TYPES:
            found += [
                str(r.outputs[key]) for key in ("result", "b64Url", "b64Std", "hex") if key in r.outputs
            ]
    assert found, "the mocks generated no secret values to look for"
    return found


def secret_string_data(recording: Recording, name: str) -> dict[str, str]:
    secret = next(r for r in recording.of_type(SECRET_TYPE) if r.inputs["metadata"]["name"] == name)
    assert is_secret(secret.inputs["stringData"]), f"{name} stringData is not marked secret"
    return secret.inputs["stringData"]["value"]


def run_gate(folder: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m tooling.gate FOLDER ARGS`` from the repository, with no parse budget unless given."""
    budget = () if "--max-parse-seconds" in args else NO_BUDGET
    return subprocess.run(
        [sys.executable, "-m", "tooling.gate", str(folder), *budget, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
