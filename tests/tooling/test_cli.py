"""tooling/cli.py: how a command of tooling/ runs as a process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_short_lived_command_runs_without_the_collector_and_skips_its_last_collection() -> None:
    script = textwrap.dedent(
        """
        import atexit, gc
        from tooling.cli import exit_with

        def main():
            print("collector on" if gc.isenabled() else "collector off", flush=True)
            return 3

        atexit.register(lambda: print("frozen" if gc.get_freeze_count() else "not frozen", flush=True))
        exit_with(main)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout.split(), done.stderr) == (3, ["collector", "off", "frozen"], "")
