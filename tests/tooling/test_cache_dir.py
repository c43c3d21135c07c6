"""One rule for the cache outside the clone: the shared one where this user can write, else their own;
.ci/setup asks the same code the gate does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tooling.cache_dir import cache_root

ROOT = Path(__file__).resolve().parents[2]


def test_the_shared_cache_where_it_can_be_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_STACK_CACHE", str(tmp_path / "shared"))
    assert cache_root() == tmp_path / "shared"
    assert (tmp_path / "shared" / "bin").is_dir()


def test_the_users_own_cache_where_the_shared_one_cannot_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("AIRFLOW_STACK_CACHE", str(tmp_path / "a-file" / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "airflow-stack"


def test_setup_and_the_gate_follow_the_same_rule(tmp_path: Path) -> None:
    printed = subprocess.run(
        [sys.executable, str(ROOT / "tooling" / "cache_dir.py")],
        env={"AIRFLOW_STACK_CACHE": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert printed.stdout.strip() == str(tmp_path)
    assert "cache=$(python3 tooling/cache_dir.py)" in (ROOT / ".ci" / "setup").read_text()
    assert (
        "from tooling.cache_dir import cache_root" in (ROOT / "tooling" / "gate" / "packages.py").read_text()
    )
