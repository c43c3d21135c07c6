"""The stack as it would be deployed, with its real generated values: the program under mocks, then the
real chart rendered by ``helm template`` with the release's values.

Unlike the offline render, nothing here is hidden: the Secrets' values are what the pods would read. They
live only in memory and in the rehearsal's temporary folder.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.kube import RELEASE_NAME
from components.stack_file import stack_file_path
from tooling.helm import helm_template
from tooling.offline.render import fill_missing_secrets, load_stack_config
from tooling.offline.runtime import Recording, reveal, run_program

__all__ = ["RenderedStack", "render_stack"]

_PROJECT = Path(__file__).resolve().parents[2]
RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"


@dataclass(frozen=True)
class RenderedStack:
    """A stack rendered with real values: the release's values, the chart's objects and the Secrets."""

    namespace: str
    values: dict[str, Any]  # the Airflow release's values, as the program passes them
    secrets: dict[str, dict[str, str]]  # every Secret the program writes: name -> key -> value
    program_objects: list[dict[str, Any]]  # the program's own Kubernetes objects, values revealed
    chart_objects: list[dict[str, Any]]  # what the chart renders with those values

    def secret(self, name: str, key: str) -> str:
        """One value of one Secret the program wrote."""
        return self.secrets[name][key]

    def chart_object(self, kind: str, name: str) -> dict[str, Any]:
        """The one object of the chart's render with that kind and name."""
        (found,) = [o for o in self.chart_objects if o["kind"] == kind and o["metadata"]["name"] == name]
        return found


def render_stack(
    stack: str,
    existing_secrets: dict[str, dict[str, str]],
    overrides: dict[str, str] | None = None,
    project: Path = _PROJECT,
    secret_overrides: dict[str, str] | None = None,
) -> RenderedStack:
    """Runs the program for ``stack``; ``existing_secrets`` are the operator's own Secrets by name (the
    metadata connection of an external database), as a read of them returns; ``overrides`` replace
    config entries (``airflow:fernet``: the next key generation), ``secret_overrides`` set secret ones
    as ``pulumi config set --secret`` would (``airflow:brokerUrl``)."""
    config, secret_keys = load_stack_config(stack_file_path(project, stack))
    config.update(overrides or {})
    config.update(secret_overrides or {})
    secret_keys = [*secret_keys, *(secret_overrides or {})]
    fill_missing_secrets(stack, config, secret_keys)
    recording = run_program(
        project / "__main__.py",
        stack=stack,
        config=config,
        secret_keys=secret_keys,
        existing_secrets=existing_secrets,
    )
    (release,) = [r for r in recording.of_type(RELEASE_TYPE) if r.inputs["name"] == RELEASE_NAME]
    inputs = reveal(release.inputs)
    return RenderedStack(
        namespace=inputs["namespace"],
        values=inputs["values"],
        secrets=_secrets(recording),
        program_objects=[
            reveal(r.inputs)
            for r in recording.registrations
            if r.custom and r.type.startswith("kubernetes:") and r.type != RELEASE_TYPE
        ],
        chart_objects=helm_template(inputs["values"], inputs["namespace"]),
    )


def _secrets(recording: Recording) -> dict[str, dict[str, str]]:
    found = {}
    for registration in recording.of_type("kubernetes:core/v1:Secret"):
        inputs = reveal(registration.inputs)
        data = {key: base64.b64decode(value).decode() for key, value in (inputs.get("data") or {}).items()}
        found[inputs["metadata"]["name"]] = {**data, **(inputs.get("stringData") or {})}
    return found
