"""The DAG folder's own packages (``requirements.txt``) for the gate's parse: a DAG that imports a
package it lists must parse here as it will in the cluster, where the stack's Airflow image has them.

They are installed once per set of requirements (with the project's ``constraints.txt``, so a package
Airflow shares keeps Airflow's version) into a folder of the toolchain's cache keyed by their hash, and
put on the parse's ``PYTHONPATH``. The folder is made beside its final name and renamed into place, so
two gates never share a half-made one.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tooling.cache_dir import cache_root

__all__ = ["PackagesError", "dag_packages", "installed_dag_packages", "pinned_requirements"]

ROOT = Path(__file__).resolve().parents[2]
CONSTRAINTS = ROOT / "constraints.txt"
REQUIREMENTS = "requirements.txt"
INSTALL_TIMEOUT_SECONDS = 900


class PackagesError(RuntimeError):
    """The folder's requirements could not be installed: one line, the gate exits 2."""


def pinned_requirements(folder: Path) -> list[str]:
    """The requirement lines of ``folder/requirements.txt`` (comments and blank lines dropped); the
    folder check has refused any that is not ``name==version``."""
    path = folder / REQUIREMENTS
    if not path.is_file():
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(errors="replace").splitlines())
    return [line for line in lines if line]


def _target(requirements: list[str]) -> Path:
    """Where one set of requirements is installed: keyed by them, the constraints and the Python."""
    key = hashlib.sha256(
        "\n".join([sys.version, CONSTRAINTS.read_text(), *sorted(requirements)]).encode()
    ).hexdigest()[:16]
    return cache_root() / "dag-packages" / key


def installed_dag_packages(folder: Path) -> Path | None:
    """The folder holding ``folder``'s requirements if the gate has installed them already; None when
    it lists none or they are not installed yet (nothing is installed here)."""
    requirements = pinned_requirements(folder)
    target = _target(requirements) if requirements else None
    return target if target is not None and (target / ".complete").is_file() else None


def dag_packages(folder: Path) -> Path | None:
    """The folder holding ``folder``'s requirements installed, or None when it lists none."""
    requirements = pinned_requirements(folder)
    if not requirements:
        return None
    target = _target(requirements)
    if (target / ".complete").is_file():
        return target
    key = target.name
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f"{key}.partial-", dir=target.parent))
    listed = partial / REQUIREMENTS
    listed.write_text("\n".join(requirements) + "\n")
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-compile",
                "--target",
                str(partial / "site"),
                "-r",
                str(listed),
                "-c",
                str(CONSTRAINTS),
            ],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_SECONDS,
            check=False,
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise PackagesError(f"{folder.name}/{REQUIREMENTS} cannot be installed for the gate: {last}")
        (partial / "site" / ".complete").write_text("\n".join(requirements) + "\n")
        try:
            (partial / "site").rename(target)
        except OSError:
            if not (target / ".complete").is_file():  # not another gate's finished copy
                raise
        return target
    except subprocess.TimeoutExpired:
        raise PackagesError(
            f"{folder.name}/{REQUIREMENTS} was not installed within {INSTALL_TIMEOUT_SECONDS} s"
        ) from None
    finally:
        shutil.rmtree(partial, ignore_errors=True)
