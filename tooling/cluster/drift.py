"""Drift, judged on the real cluster: the state ``up`` left matches the cluster, and a hand edit of
something the program owns is seen by a refreshing preview and undone by a refreshing ``up``.

The hand edit is what platform teams did to the ``airflow-variables`` Secret: someone changes a value
with kubectl. The Secret chosen holds the webserver's session key, which the running pods read only at
start, so the edit and its undoing disturb nothing. No value is ever printed: the Secret's data is
compared by its hash.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable
from typing import Any

from tooling.cluster.timeline import CheckFailed
from tooling.cluster.workspace import Workspace

__all__ = ["EDITED_SECRET", "check_drift"]

EDITED_SECRET = "airflow-webserver-secret"


def _data_hash(secret: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(secret.get("data") or {}, sort_keys=True).encode()).hexdigest()


def check_drift(
    workspace: Workspace,
    kubectl_json: Callable[..., Any],
    kubectl: Callable[..., str],
    namespace: str,
) -> None:
    """``pulumi refresh`` right after ``up`` changes nothing; a Secret edited by hand is reported by
    ``pulumi preview --refresh`` and put back by ``pulumi up --refresh``."""
    refresh = workspace.run("refresh", "--yes", "--expect-no-changes", "--json")
    if refresh.code != 0:
        names = [f"{kind}::{name}" for kind, name in refresh.changes()]
        raise CheckFailed(
            f"pulumi refresh right after up changes: {', '.join(names) or refresh.output[-600:]}"
        )
    before = kubectl_json("get", "secret", EDITED_SECRET, "-n", namespace)
    key = sorted(before.get("data") or {})[0]
    junk = base64.b64encode(secrets.token_urlsafe(24).encode()).decode()
    kubectl(
        "patch",
        "secret",
        EDITED_SECRET,
        "-n",
        namespace,
        "--type=merge",
        "-p",
        json.dumps({"data": {key: junk}}),
    )
    preview = workspace.run("preview", "--refresh", "--json")
    if preview.code != 0:
        raise CheckFailed(f"preview --refresh after the hand edit failed: {preview.output[-600:]}")
    seen = preview.changes()
    if ("kubernetes:core/v1:Secret", EDITED_SECRET) not in seen:
        raise CheckFailed(
            f"preview --refresh does not report the Secret edited by hand (changes: {seen or 'none'})"
        )
    workspace.run("up", "--refresh", "--yes", "--skip-preview", check=True)
    after = kubectl_json("get", "secret", EDITED_SECRET, "-n", namespace)
    if _data_hash(after) != _data_hash(before):
        raise CheckFailed(
            f"up --refresh left {EDITED_SECRET} as edited by hand (its data differs from before)"
        )
