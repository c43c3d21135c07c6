"""What the cluster test prints: one line per check (``check NAME: ok in N s`` or ``check NAME: FAILED:
reason``), one per phase, and at the end the timeline and the machine's peak memory."""

from __future__ import annotations

import contextlib
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from components.redact import redact

__all__ = ["CheckFailed", "MemoryWatch", "Timeline"]


class CheckFailed(Exception):
    """A check's verdict: the one line that says what is wrong."""


@dataclass
class Timeline:
    """What a cluster test prints as it goes and at the end: phases with their times, one line per check,
    and the facts measured."""

    phases: list[tuple[str, float]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    # ``--only``: the checks to run besides those the deploy needs (stop_on_failure); empty: every one.
    only: frozenset[str] = frozenset()
    skipped: list[str] = field(default_factory=list)

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Times a phase and prints its start and end, so a slow step shows while it runs."""
        started = time.monotonic()
        print(f"phase {name}: started", flush=True)
        yield
        seconds = time.monotonic() - started
        self.phases.append((name, seconds))
        print(f"phase {name}: done in {seconds:.0f} s", flush=True)

    def check(self, name: str, run, *, stop_on_failure: bool = False, needed: bool = False) -> bool:
        """Runs one check and prints ``check NAME: ok`` or its failure, masked; whether it passed (a check
        ``--only`` leaves out is skipped, and reads as passed). ``needed``: later checks rely on what it
        does, so ``--only`` runs it too, though its failure does not stop the run."""
        if self.only and name not in self.only and not (stop_on_failure or needed):
            print(f"check {name}: skipped (--only)", flush=True)
            self.skipped.append(name)
            return True
        started = time.monotonic()
        try:
            run()
        except (CheckFailed, RuntimeError, TimeoutError) as err:
            reason = " ".join(str(err).split())[:1200]
            print(f"check {name}: FAILED: {redact(reason)}", flush=True)
            self.failures.append(name)
            if stop_on_failure:
                raise
            return False
        except Exception as err:  # a defect of the test itself: say where, and go on
            where = traceback.extract_tb(err.__traceback__)[-1]
            print(
                f"check {name}: FAILED: {type(err).__name__} at {Path(where.filename).name}:{where.lineno}: "
                f"{redact(str(err))[:600]}",
                flush=True,
            )
            self.failures.append(name)
            if stop_on_failure:
                raise
            return False
        seconds = time.monotonic() - started
        self.phases.append((f"check {name}", seconds))
        print(f"check {name}: ok in {seconds:.0f} s", flush=True)
        return True

    def summary(self, peak_memory_mib: int) -> str:
        """The timeline, the facts and the peak memory, for the closing lines of a run."""
        lines = ["timeline:"]
        lines += [f"  {name}: {seconds:.0f} s" for name, seconds in self.phases]
        lines += [f"  {fact}" for fact in self.facts]
        lines.append(f"peak memory in use on the machine: {peak_memory_mib} MiB")
        if self.skipped:
            lines.append(f"checks skipped (--only): {', '.join(self.skipped)}")
        lines.append(
            f"checks failed: {len(self.failures)}"
            + (f" ({', '.join(self.failures)})" if self.failures else "")
        )
        return "\n".join(lines)


class MemoryWatch:
    """The machine's peak memory in use (MemTotal - MemAvailable), sampled every 2 s."""

    def __init__(self) -> None:
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()

    @property
    def peak_mib(self) -> int:
        return self.peak_kib // 1024

    def _run(self) -> None:
        while not self._stop.is_set():
            info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
            used = int(info["MemTotal"].split()[0]) - int(info["MemAvailable"].split()[0])
            self.peak_kib = max(self.peak_kib, used)
            self._stop.wait(2)
