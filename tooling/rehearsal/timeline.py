"""The rehearsal's timeline: each step's duration, the peak memory of everything it started, and the
step that failed."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["MemorySampler", "StepFailed", "Timeline"]


class StepFailed(Exception):
    """A step that failed, with its message and the log to show the end of."""

    def __init__(self, step: str, message: str, log: Path | None = None) -> None:
        super().__init__(message)
        self.step, self.log = step, log


@dataclass
class Timeline:
    """The steps with their times, and the facts measured."""

    steps: list[tuple[str, float]] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    peak_rss_mb: float = 0.0

    @contextmanager
    def step(self, name: str, log: Path | None = None) -> Iterator[None]:
        """Times a step; a failure inside becomes a StepFailed naming it."""
        started = time.monotonic()
        print(f"- {name} ...", flush=True)
        try:
            yield
        except StepFailed:
            raise
        except Exception as err:  # any failure inside a step is reported with the step's name
            raise StepFailed(name, f"{type(err).__name__}: {err}", log) from err
        self.steps.append((name, time.monotonic() - started))

    def report(self) -> str:
        """The steps and their times, the total, and the peak memory."""
        lines = [f"{seconds:7.1f} s  {name}" for name, seconds in self.steps]
        total = sum(seconds for _, seconds in self.steps)
        summary = f"{total:7.1f} s  in all; peak memory {self.peak_rss_mb:.0f} MiB"
        return "\n".join([*lines, summary, *self.facts])


class MemorySampler(threading.Thread):
    """The peak resident memory of this process and everything it started, sampled every second."""

    def __init__(self, timeline: Timeline) -> None:
        super().__init__(daemon=True)
        self.timeline, self._stop = timeline, threading.Event()

    def run(self) -> None:
        """Samples the memory of the rehearsal's process tree every second."""
        while not self._stop.wait(1.0):
            self.timeline.peak_rss_mb = max(self.timeline.peak_rss_mb, _tree_rss_mb(os.getpid()))

    def stop(self) -> None:
        """Stops sampling."""
        self._stop.set()


def _tree_rss_mb(root: int) -> float:
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parents[pid], rss[pid] = int(fields[1]), int(fields[21])
    tree, frontier = {root}, [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier and pid not in tree]
        tree.update(children)
        frontier = children
    return sum(rss.get(pid, 0) for pid in tree) * os.sysconf("SC_PAGE_SIZE") / 2**20
