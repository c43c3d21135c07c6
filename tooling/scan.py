"""checkov's Kubernetes checks over what a stack deploys, held against docs/checkov.md.

What is scanned is what lands in the cluster: the chart rendered by the pinned ``helm`` with the values a
render wrote (``releases/airflow.yaml``), plus the program's own objects (``manifests/``). ``helm
template`` leaves ``metadata.namespace`` out of the chart's objects, which ``helm install`` puts in the
release's namespace; the scan sets it the same way, or every chart object would be reported as living in
``default`` (CKV_K8S_21) although none does.

Every finding must be justified in docs/checkov.md, under a heading naming its check with an
``Objects:`` line naming the objects (``Kind/name``, or ``all``), and every justification must still be
found in some stack: a fix makes its paragraph go, a new finding fails until it is fixed or explained.

    python -m tooling.scan render/dev render/prod ...
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tooling.cli import guarded
from tooling.helm import helm_template, in_release_namespace

__all__ = ["Finding", "justifications", "main", "unexplained"]

PROJECT = Path(__file__).resolve().parents[1]
DOC = PROJECT / "docs" / "checkov.md"
CHECKOV = PROJECT / ".venv-scan" / "bin" / "checkov"
# Objects that live outside any namespace: Helm leaves them as they are.
_CLUSTER_SCOPED = frozenset(
    {"Namespace", "ClusterRole", "ClusterRoleBinding", "StorageClass", "PriorityClass"}
)
_HEADING = re.compile(r"^## (CKV_K8S_\d+)\b")
_OBJECTS = re.compile(r"^Objects: (.+)$")


@dataclass(frozen=True, order=True)
class Finding:
    """One failed check on one object, named without its namespace: the same in every stack."""

    check: str
    kind: str
    name: str

    @property
    def object(self) -> str:
        return f"{self.kind}/{self.name}"


def deployed_objects(render: Path) -> list[dict[str, Any]]:
    """The chart's objects for a render's values, then the program's own (``manifests/``)."""
    release = yaml.safe_load((render / "releases" / "airflow.yaml").read_text())
    objects = in_release_namespace(
        helm_template(release["values"], release["namespace"]), release["namespace"]
    )
    for manifest in sorted((render / "manifests").glob("*.yaml")):
        objects += [doc for doc in yaml.safe_load_all(manifest.read_text()) if doc]
    return objects


def checkov_findings(objects: list[dict[str, Any]]) -> set[Finding]:
    """checkov's failed Kubernetes checks on ``objects``, offline (no download of its guidelines)."""
    with tempfile.TemporaryDirectory(prefix="scan-") as folder:
        Path(folder, "objects.yaml").write_text(yaml.safe_dump_all(objects, sort_keys=True))
        done = subprocess.run(
            [str(CHECKOV), "-d", folder, "--framework", "kubernetes", "--output", "json", "--quiet",
             "--skip-download", "--compact"],
            capture_output=True, text=True, check=False,
            env=os.environ | {"BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
        )  # fmt: skip
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise RuntimeError(f"checkov failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    reports = json.loads(done.stdout)
    findings = set()
    for report in reports if isinstance(reports, list) else [reports]:
        for failed in report.get("results", {}).get("failed_checks", []):
            kind, _namespace, name = failed["resource"].split(".", 2)
            findings.add(Finding(failed["check_id"], kind, name))
    return findings


def justifications(doc: str) -> dict[str, frozenset[str]]:
    """Each check the document justifies, with the objects it names (``all`` stands for any)."""
    justified: dict[str, frozenset[str]] = {}
    check = None
    for line in doc.splitlines():
        if heading := _HEADING.match(line):
            check = heading.group(1)
        elif check and (objects := _OBJECTS.match(line)):
            justified[check] = frozenset(o.strip().strip("`") for o in objects.group(1).split(","))
            check = None
    return justified


def unexplained(findings: set[Finding], justified: dict[str, frozenset[str]]) -> tuple[list[str], list[str]]:
    """The findings no paragraph justifies, and the justified objects no stack shows any more."""
    new = [
        f"{f.check} {f.object}"
        for f in sorted(findings)
        if not ({f.object, "all"} & justified.get(f.check, frozenset()))
    ]
    found = {(f.check, f.object) for f in findings} | {(f.check, "all") for f in findings}
    stale = [f"{check} {obj}" for check, objects in sorted(justified.items()) for obj in sorted(objects)
             if (check, obj) not in found]  # fmt: skip
    return new, stale


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.scan", description=__doc__.splitlines()[0])
    parser.add_argument("renders", nargs="+", type=Path, help="folders written by tooling.offline.render")
    args = parser.parse_args(argv)
    justified = justifications(DOC.read_text())
    every: set[Finding] = set()
    for render in args.renders:
        findings = checkov_findings(deployed_objects(render))
        counts: dict[str, int] = {}
        for finding in findings:
            counts[finding.check] = counts.get(finding.check, 0) + 1
        listed = ", ".join(f"{check} {n}" for check, n in sorted(counts.items()))
        print(f"scan {render}: {len(findings)} findings ({listed or 'none'})")
        every |= findings
    new, stale = unexplained(every, justified)
    for line in new:
        print(f"scan: not justified in docs/checkov.md (fix it, or explain it there): {line}")
    for line in stale:
        print(f"scan: docs/checkov.md justifies what no stack shows any more (remove it): {line}")
    return 1 if new or stale else 0


if __name__ == "__main__":
    sys.exit(
        guarded(
            lambda: main(sys.argv[1:]),
            command="scan",
            what="scan of " + " ".join(sys.argv[1:]),
            debug="--debug" in sys.argv,
            after_interrupt="nothing was written",
        )
    )
