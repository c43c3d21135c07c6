"""Rolling a stack back to one of its deploys: the program and stack file of that deploy's commit,
checked out in a clone of its own, deployed with ``pulumi up`` onto the same state.

What it refuses, each in one line, before anything is deployed:
- a deploy that did not succeed, that recorded no commit, or that ran from uncommitted changes (the
  commit alone does not give it back);
- a commit this clone does not have, or whose ``requirements.txt`` differs from this one's (its
  virtualenv would not be the one this checkout's ``.venv`` holds);
- a deploy that ran an older Airflow than the stack runs now: the metadata database holds the newer
  schema, which the older Airflow cannot run on without a restored backup;
- a rollback whose preview would delete a volume claim (the backups' dumps are on one);
- a rollback whose preview would generate a value anew (a ``random:`` resource created or replaced):
  the Fernet key, a password or a signing secret that the stored data and sessions depend on.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from tooling.history.records import Deploy
from tooling.history.sources import Refused, run_pulumi

__all__ = ["check_target", "deleted_claims", "generated_anew", "roll_back"]

# Steps of a preview that give a resource a new value: what a random resource must never get back.
_NEW_VALUE_OPS = frozenset({"create", "replace", "create-replacement"})


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())


def check_target(history: list[Deploy], version: int, *, after_restore: bool = False) -> Deploy:
    """The deploy to roll back to, or ``Refused`` saying why it cannot be. ``after_restore``: a dump
    from before the newer Airflow migrated has been restored (``restore``), so an older one may run."""
    target = next((d for d in history if d.version == version), None)
    if target is None:
        raise Refused(f"the stack has no update {version}; `python -m tooling.history` lists them")
    if not target.can_be_rolled_back_to:
        raise Refused(f"update {version} is a {target.kind} that {target.result}: only a succeeded update")
    if target.commit is None:
        raise Refused(f"update {version} recorded no commit (it ran outside a git repository)")
    if target.dirty:
        raise Refused(
            f"update {version} ran from uncommitted changes on {target.commit[:12]}: "
            "that commit alone does not give it back"
        )
    current = next((d for d in history if d.can_be_rolled_back_to), None)
    if current is not None and current.version == version:
        raise Refused(f"update {version} is the stack's current deploy")
    if (
        not after_restore
        and current is not None
        and current.helm is not None
        and target.helm is not None
        and _version(target.helm.app_version) < _version(current.helm.app_version)
    ):
        raise Refused(
            f"update {version} ran Airflow {target.helm.app_version} and the stack runs "
            f"{current.helm.app_version}: the metadata database holds the newer schema; restore a "
            "dump taken before the upgrade first (restore), then roll back with --after-restore"
        )
    return target


def deleted_claims(preview_json: str) -> list[str]:
    """The volume claims the preview would delete (the backups' claim among them): what they hold
    goes with them."""
    steps = json.loads(preview_json or "{}").get("steps", [])
    return sorted(
        step["urn"].split("::")[-1]
        for step in steps
        if step.get("op") in ("delete", "replace", "delete-replaced")
        and step.get("urn", "").split("::")[2].endswith("core/v1:PersistentVolumeClaim")
    )


def generated_anew(preview_json: str) -> list[str]:
    """``type name`` of each random resource the preview would create or replace."""
    steps = json.loads(preview_json or "{}").get("steps", [])
    found = set()
    for step in steps:
        urn = step.get("urn", "")
        parts = urn.split("::")
        kind = parts[2].split("$")[-1] if len(parts) >= 4 else ""
        if step.get("op") in _NEW_VALUE_OPS and kind.startswith("random:"):
            found.add(f"{kind} {parts[-1]}")
    return sorted(found)


def _git(repository: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repository, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise Refused(f"git {args[0]} failed in {repository}: {done.stderr.strip()[-300:]}")
    return done.stdout.strip()


def _checkout(project: Path, commit: str, into: Path) -> Path:
    """A clone of the project's repository at ``commit`` in ``into``; the project folder within it."""
    root = Path(_git(project, "rev-parse", "--show-toplevel"))
    inside = project.resolve().relative_to(root.resolve())
    if subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=root, check=False).returncode:
        raise Refused(f"commit {commit[:12]} is not in this clone (git fetch it first)")
    _git(into, "clone", "--quiet", "--no-checkout", str(root), "tree")
    tree = into / "tree"
    _git(tree, "checkout", "--quiet", "--detach", commit)
    # The program's virtualenv, shared: a symlink the deploy's metadata must not count as a change.
    with (tree / ".git" / "info" / "exclude").open("a") as exclude:
        exclude.write("\n/.venv\n" if inside == Path() else f"\n/{inside}/.venv\n")
    checked_out = tree / inside
    ours, theirs = project / "requirements.txt", checked_out / "requirements.txt"
    if ours.is_file() and theirs.is_file() and ours.read_bytes() != theirs.read_bytes():
        raise Refused(
            f"commit {commit[:12]} pins other requirements than this checkout: deploy it from a checkout "
            "of its own with its virtualenv (bash .ci/setup)"
        )
    (checked_out / ".venv").symlink_to((project / ".venv").resolve())
    return checked_out


def roll_back(project: Path, stack: str, target: Deploy, *, deploy: bool) -> list[str]:
    """Previews (and with ``deploy`` runs) the rollback to ``target``; the preview's changes, as
    ``op: count``."""
    assert target.commit is not None  # check_target refuses a deploy without one
    with tempfile.TemporaryDirectory(prefix="airflow-rollback-") as scratch:
        folder = _checkout(project, target.commit, Path(scratch))
        preview = run_pulumi(folder, "preview", "--json", "--stack", stack)
        anew = generated_anew(preview)
        claims = deleted_claims(preview)
        if claims:
            raise Refused(
                f"rolling back to update {target.version} would delete the volume claim(s) "
                f"{', '.join(claims)} and what they hold (the database's dumps)"
            )
        if anew:
            raise Refused(
                f"rolling back to update {target.version} would generate anew {', '.join(anew)}: what was "
                "encrypted or signed with the current value would be lost"
            )
        counts: dict[str, int] = {}
        for step in json.loads(preview or "{}").get("steps", []):
            if step.get("op") not in ("same", "read"):
                counts[step["op"]] = counts.get(step["op"], 0) + 1
        if deploy:
            message = f"rollback to update {target.version} ({target.commit[:12]})"
            run_pulumi(
                folder, "up", "--yes", "--skip-preview", "--stack", stack, "--message", message, capture=False
            )
    return [f"{op}: {count}" for op, count in sorted(counts.items())]
