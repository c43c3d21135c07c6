"""Where the project keeps what it builds and installs outside the clone, keyed by versions: the shared
toolchain cache (``AIRFLOW_STACK_CACHE``, else ``/var/cache/airflow-stack``) where this user may write
to it, else the user's own (a CI runner without root). The one rule: ``.ci/setup`` asks it too
(``python3 tooling/cache_dir.py``), so the gate's packages land beside uv and the toolchain.

Standard library only: ``.ci/setup`` runs it before any virtualenv exists.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["cache_root"]


def cache_root() -> Path:
    """The cache folder, with its ``bin`` made: the shared one if this user can write there."""
    shared = Path(os.environ.get("AIRFLOW_STACK_CACHE") or "/var/cache/airflow-stack")
    try:
        (shared / "bin").mkdir(parents=True, exist_ok=True)
        if os.access(shared / "bin", os.W_OK):
            return shared
    except OSError:
        pass
    own = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "airflow-stack"
    (own / "bin").mkdir(parents=True, exist_ok=True)
    return own


if __name__ == "__main__":
    print(cache_root())
    sys.exit(0)
