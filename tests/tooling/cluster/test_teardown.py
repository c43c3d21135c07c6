"""Teardown finds what a killed Pulumi CLI left behind: processes in groups of their own, working in
the run's folder or naming it on their command line."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tooling.cluster.teardown import kill_processes_working_in


def _gone(process: subprocess.Popen[bytes]) -> bool:
    for _ in range(50):
        if process.poll() is not None:
            return True
        time.sleep(0.1)
    return False


def test_orphans_working_in_the_run_folder_are_killed_and_others_kept(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "stack").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    detached = {"start_new_session": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    by_cwd = subprocess.Popen(["sleep", "300"], cwd=run / "stack", **detached)
    by_argument = subprocess.Popen(
        ["sh", "-c", "sleep 300", str(run / "bin" / "x")], cwd=elsewhere, **detached
    )
    unrelated = subprocess.Popen(["sleep", "300"], cwd=elsewhere, **detached)
    try:
        killed = kill_processes_working_in(run)
        assert by_cwd.pid in killed
        assert by_argument.pid in killed
        assert _gone(by_cwd)
        assert _gone(by_argument)
        assert unrelated.poll() is None
    finally:
        for process in (by_cwd, by_argument, unrelated):
            process.kill()
            process.wait()
