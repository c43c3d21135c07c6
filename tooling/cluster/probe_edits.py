"""Editing the cluster test's own DAG file in the deployed project copy, and waiting for Airflow to
parse the edit: what the DAG-edit checks change and how they know the new version is live."""

from __future__ import annotations

import ast
import re
import urllib.error
from pathlib import Path

from tooling.cluster.timeline import CheckFailed
from tooling.rehearsal.api import Api
from tooling.rehearsal.services import wait_until

__all__ = ["PROBE_DAG", "probe_marker", "retag_probe", "wait_for_probe_tag"]

PROBE_DAG = "cluster_probe"  # tooling/cluster/dags/cluster_probe.py
_TAGS_LINE = re.compile(r"^TAGS = \[.*\]$", re.MULTILINE)


def retag_probe(dags: Path, marker: str) -> None:
    """Sets the probe DAGs' tags to ``cluster-test`` and ``marker``: a change of the DAG files only."""
    path = dags / f"{PROBE_DAG}.py"
    text = path.read_text()
    edited, count = _TAGS_LINE.subn(f'TAGS = ["cluster-test", "{marker}"]', text, count=1)
    if count != 1:
        raise CheckFailed(f"{path.name} has no TAGS line to edit")
    path.write_text(edited)


def probe_marker(text: str) -> str:
    """The marker ``retag_probe`` set in a version of the probe's file (its tag other than
    ``cluster-test``), or ``cluster-test`` for the file as shipped."""
    found = _TAGS_LINE.search(text)
    if found is None:
        raise CheckFailed(f"{PROBE_DAG}.py has no TAGS line")
    tags = ast.literal_eval(found.group(0).split("=", 1)[1].strip())
    return next((tag for tag in tags if tag != "cluster-test"), "cluster-test")


def wait_for_probe_tag(api: Api, marker: str, timeout: float) -> None:
    """Until the REST API shows the probe DAG with ``marker`` among its tags: the edit is parsed."""

    def parsed() -> bool:
        try:
            tags = [t["name"] for t in api.call("GET", f"/api/v2/dags/{PROBE_DAG}")["tags"]]
        except (urllib.error.URLError, ConnectionError, TimeoutError, KeyError):
            return False
        return marker in tags

    wait_until(parsed, "the edited DAG parsed", timeout, 2)
