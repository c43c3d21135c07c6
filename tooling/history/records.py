"""A stack's deploys, from the two records that hold them: Pulumi's update history (when, from which
commit, with what result) and Helm's release records of the Airflow chart (which chart, Airflow version
and image, and a digest of the values). Pure: the commands that read both live in ``sources.py``.

Helm keeps a record per revision (``maxHistory`` of them) as a Secret of type ``helm.sh/release.v1``;
an update that changed no chart value wrote none and runs the revision in effect before it. Only a
digest of the values is ever shown: they name Secrets, never hold them, but they are the stack's.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["Deploy", "HelmRevision", "deploys", "helm_revision", "release_of", "values_digest"]

# Pulumi's history has whole seconds; Helm writes its record once the upgrade has started.
_SLACK = timedelta(seconds=1)


@dataclass(frozen=True)
class HelmRevision:
    """One Helm release record of the chart."""

    revision: int
    deployed_at: datetime
    status: str  # deployed, superseded, failed
    chart: str  # airflow-1.22.0
    app_version: str  # the Airflow version the chart runs
    image: str  # the Airflow image: repository@digest, or repository:tag
    values_digest: str  # the first 12 hex digits of the values' SHA-256


@dataclass(frozen=True)
class Deploy:
    """One update of the stack, and the Helm revision it left running."""

    version: int
    kind: str  # update, refresh, destroy
    result: str  # succeeded, failed, in-progress
    started: datetime
    ended: datetime | None
    commit: str | None  # git.head, where the CLI ran in a git repository
    dirty: bool  # the repository had uncommitted changes: the commit alone does not give this deploy
    message: str
    helm: HelmRevision | None  # the revision running once the update ended
    wrote_revision: bool  # this update wrote that revision

    @property
    def can_be_rolled_back_to(self) -> bool:
        return self.kind == "update" and self.result == "succeeded"


def values_digest(values: dict[str, Any]) -> str:
    """The same values give the same digest, whatever their keys' order."""
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def _parse_time(text: str) -> datetime:
    """Pulumi's ``2026-12-02T00:41:07Z`` or Helm's ``2026-12-02T00:41:07.123456789Z`` (or ``+00:00``)."""
    text = text.strip().replace("Z", "+00:00")
    whole, _, rest = text.partition(".")
    if rest:  # nanoseconds: Python keeps microseconds
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits) :]
        text = f"{whole}.{digits[:6]}{zone}"
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _image(values: dict[str, Any]) -> str:
    airflow = (values.get("images") or {}).get("airflow") or {}
    repository = airflow.get("repository") or values.get("defaultAirflowRepository") or "apache/airflow"
    if airflow.get("digest"):
        return f"{repository}@{airflow['digest']}"
    return f"{repository}:{airflow.get('tag') or values.get('defaultAirflowTag') or '(chart default)'}"


def release_of(secret: dict[str, Any]) -> dict[str, Any]:
    """The release a ``helm.sh/release.v1`` Secret holds, as ``kubectl get -o json`` gives it:
    Kubernetes' base64 of Helm's base64 of the gzipped release."""
    encoded = base64.b64decode(base64.b64decode(secret["data"]["release"]))
    return json.loads(gzip.decompress(encoded) if encoded[:2] == b"\x1f\x8b" else encoded)


def helm_revision(secret: dict[str, Any]) -> HelmRevision:
    """One Helm release record, as ``release_of`` reads it."""
    release = release_of(secret)
    metadata = release["chart"]["metadata"]
    values = release.get("config") or {}
    return HelmRevision(
        revision=int(release["version"]),
        deployed_at=_parse_time(release["info"]["last_deployed"]),
        status=release["info"]["status"],
        chart=f"{metadata['name']}-{metadata['version']}",
        app_version=metadata.get("appVersion", ""),
        image=_image(values),
        values_digest=values_digest(values),
    )


def _numbers(updates: list[dict[str, Any]]) -> list[int]:
    """Each update's number: the backend's version where it keeps one (Pulumi Cloud), else its place
    in the whole history, oldest 1 (a self-managed backend records 0 for every update)."""
    versions = [int(update.get("version") or 0) for update in updates]
    if all(v > 0 for v in versions) and len(set(versions)) == len(versions):
        return versions
    oldest_first = sorted(range(len(updates)), key=lambda i: (updates[i]["startTime"], -i))
    numbers = [0] * len(updates)
    for number, index in enumerate(oldest_first, start=1):
        numbers[index] = number
    return numbers


def deploys(updates: list[dict[str, Any]], revisions: list[HelmRevision]) -> list[Deploy]:
    """The whole of ``pulumi stack history --json`` (newest first) joined with the Helm records,
    newest first: each update gets the latest revision written while it ran, or else the one in effect
    before it."""
    numbers = _numbers(updates)
    by_time = sorted(revisions, key=lambda r: (r.deployed_at, r.revision))
    found = []
    for position, update in enumerate(updates):
        started = _parse_time(update["startTime"])
        ended = _parse_time(update["endTime"]) if update.get("endTime") else None
        until = (ended or datetime.now(UTC)) + _SLACK
        written = [r for r in by_time if started - _SLACK <= r.deployed_at <= until]
        before = [r for r in by_time if r.deployed_at < started - _SLACK]
        helm = written[-1] if written else (before[-1] if before else None)
        environment = update.get("environment") or {}
        found.append(
            Deploy(
                version=numbers[position],
                kind=update.get("kind", ""),
                result=update.get("result", ""),
                started=started,
                ended=ended,
                commit=environment.get("git.head") or None,
                dirty=environment.get("git.dirty") == "true",
                message=update.get("message", ""),
                helm=helm,
                wrote_revision=bool(written),
            )
        )
    return sorted(found, key=lambda d: d.version, reverse=True)
