"""The image of the DAG folder's packages, for the deliveries whose DAG files come from git or a
ConfigMap (``airflow:dags.packagesImage``): ``apache/airflow`` plus ``requirements.txt`` and nothing
else, so a DAG change rebuilds nothing and restarts no pod; a change of the packages does both.

Its build context is made by the program in the project's ``build/airflow-packages/`` (git-ignored):
the Dockerfile below and the requirements, written only when they differ, so the same requirements are
the same context, the same tag and no build.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from components.release.settings import AIRFLOW_VERSION

__all__ = ["PACKAGES_CONTEXT", "packages_dockerfile", "packages_tag", "write_packages_context"]

PACKAGES_CONTEXT = "build/airflow-packages"  # relative to the project, as pulumi up runs there


def packages_dockerfile() -> str:
    """Installs the pinned requirements beside the Airflow they run with; apache-airflow pinned too,
    so pip can never up- or downgrade Airflow itself to satisfy one of them."""
    return (
        "# Made by the program (components/dags/packages.py): Airflow and the DAG folder's packages.\n"
        f"FROM apache/airflow:{AIRFLOW_VERSION}\n"
        "COPY --chown=airflow:0 requirements.txt /opt/airflow/dag-requirements.txt\n"
        f'RUN pip install --no-cache-dir "apache-airflow=={AIRFLOW_VERSION}" \\\n'
        "    -r /opt/airflow/dag-requirements.txt\n"
    )


def _requirements_text(requirements: tuple[str, ...]) -> str:
    return "".join(f"{line}\n" for line in requirements)


def packages_tag(requirements: tuple[str, ...]) -> str:
    """The image tag: a hash of the Dockerfile and the requirements, so only they rebuild it."""
    digest = hashlib.sha256((packages_dockerfile() + "\0" + _requirements_text(requirements)).encode())
    return f"packages-{digest.hexdigest()[:20]}"


def write_packages_context(project: Path, requirements: tuple[str, ...]) -> None:
    """Writes the build context under ``project`` (only files whose content differs), at
    ``PACKAGES_CONTEXT``, the path the build is given."""
    context = project / PACKAGES_CONTEXT
    context.mkdir(parents=True, exist_ok=True)
    for name, text in (
        ("Dockerfile", packages_dockerfile()),
        ("requirements.txt", _requirements_text(requirements)),
    ):
        path = context / name
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
