"""The rehearsal refuses what it cannot rehearse in one line, before any service starts, and leaves
nothing running when it is stopped."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tooling.offline.trial import THROWAWAY_STACK, project_copy
from tooling.rehearsal import __main__ as rehearsal


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        ("test", "error: the rehearsal covers stacks with the CeleryExecutor and an external database"),
        ("nope", "error: Pulumi.nope.yaml not found; stacks here:"),
        ("../x", "error: stack name '../x' is not one Pulumi allows"),
    ],
)
def test_a_stack_it_cannot_rehearse_is_one_line_and_exit_2(
    stack: str,
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A KubernetesExecutor stack with the bundled database: not a shape the rehearsal covers.
    monkeypatch.setattr(rehearsal, "PROJECT", project_copy(tmp_path, THROWAWAY_STACK))
    assert rehearsal.main(["--stack", stack]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(expected)
    assert len(captured.err.splitlines()) == 1
    assert captured.out == ""  # no step started


def _processes_under(folder: Path) -> list[str]:
    """Running processes that name ``folder`` or work in it (redis-server retitles itself to its address,
    so its working directory is what places it): the servers the rehearsal started."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            text = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if str(folder) in text or cwd.startswith(str(folder)):
            found.append(f"{text.strip()} (in {cwd})")
    return found


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the rehearsal's services")
def test_sigterm_stops_every_server_it_started_and_removes_its_folder() -> None:
    """A cancelled CI job sends SIGTERM: the rehearsal must not leave PostgreSQL, PgBouncer or Redis
    running, nor its temporary folder behind."""
    # A temporary folder of its own: another run of the suite beside this one (the fork trial in
    # .ci/run) makes rehearsal folders too.
    tmp = Path(tempfile.mkdtemp(prefix="rehearsal-sigterm-"))
    tmp.chmod(0o1777)  # as /tmp: the servers run as users of their own
    before = set(tmp.glob("airflow-rehearsal-*"))
    process = subprocess.Popen(
        [sys.executable, "-m", "tooling.rehearsal", "--stack", "prod"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "TMPDIR": str(tmp)},
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout or []], daemon=True).start()
    try:
        deadline = time.monotonic() + 180
        while not lines.get(timeout=max(1, deadline - time.monotonic())).startswith("- S3 (moto)"):
            pass  # PostgreSQL, PgBouncer and Redis are up once the S3 step starts
        (root,) = set(tmp.glob("airflow-rehearsal-*")) - before
        assert _processes_under(root)  # the servers run
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    time.sleep(1)
    assert _processes_under(root) == []
    assert not root.exists()
    shutil.rmtree(tmp, ignore_errors=True)
