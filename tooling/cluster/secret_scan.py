"""The check that no generated secret sits in plain text anywhere Pulumi or Helm keep state: every
value of the stack's Secrets is looked for, as itself, in base64 and JSON-escaped, in the exported
state, the backend's raw files and Helm's release record."""

from __future__ import annotations

import base64
import gzip
import json
from dataclasses import dataclass
from typing import Any

from tooling.cluster.node import Node
from tooling.cluster.timeline import CheckFailed
from tooling.cluster.workspace import Workspace

__all__ = ["SecretScan"]


@dataclass(frozen=True)
class SecretScan:
    """Looks for the stack's secret values in everything Pulumi and Helm store."""

    node: Node
    workspace: Workspace
    namespace: str

    def kubectl_json(self, *args: str) -> Any:
        """``kubectl get ... -o json`` as the admin, parsed."""
        return json.loads(self.node.kubectl(*args, "-o", "json"))

    def check(self) -> int:
        """Every value of the stack's Secrets is absent, in every form, from the state and Helm's record;
        returns how many values were looked for."""
        values: dict[str, str] = {}
        for secret in self.kubectl_json("get", "secrets", "-n", self.namespace)["items"]:
            name = secret["metadata"]["name"]
            if not name.startswith("airflow-") or secret.get("type") == "helm.sh/release.v1":
                continue
            for key, encoded in (secret.get("data") or {}).items():
                value = base64.b64decode(encoded).decode(errors="replace")
                if len(value) >= 12:
                    values[f"{name}/{key}"] = value
        if not values:
            raise CheckFailed("no Secret values found to look for: the check would prove nothing")
        exported = self.workspace.export()
        raw = "\n".join(
            p.read_text(errors="replace") for p in self.workspace.backend.rglob("*") if p.is_file()
        )
        helm = self._helm_release_payloads()
        places = {"the exported state": exported, "the raw state files": raw, "Helm's release record": helm}
        leaks = []
        for where, text in places.items():
            for label, value in values.items():
                for form in _forms(value):
                    if form in text:
                        leaks.append(f"{label} in {where}")
                        break
        if leaks:
            raise CheckFailed(f"secret values in plain text: {sorted(set(leaks))}")
        return len(values)

    def _helm_release_payloads(self) -> str:
        texts = []
        for secret in self.kubectl_json("get", "secrets", "-n", self.namespace)["items"]:
            if secret.get("type") == "helm.sh/release.v1":
                release = base64.b64decode(base64.b64decode(secret["data"]["release"]))
                texts.append(gzip.decompress(release).decode(errors="replace"))
        if not texts:
            raise CheckFailed("no Helm release record found")
        return "\n".join(texts)


def _forms(value: str) -> list[str]:
    """A value as it could sit in a file: itself, base64 (Kubernetes data), JSON-escaped."""
    return [value, base64.b64encode(value.encode()).decode(), json.dumps(value)[1:-1]]
