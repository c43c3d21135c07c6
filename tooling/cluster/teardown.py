"""Stopping the test cluster, whatever state a run left it in: the kubelet first so it restarts
nothing, then every pod (by cgroup), every daemon, every mount, and the pods' network namespaces."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from tooling.cluster.layout import NETNS, NodeLayout

__all__ = ["down", "kill_processes_working_in"]


def down(layout: NodeLayout) -> list[str]:
    """Stops everything ``up`` started, pods included; returns what could not be cleaned."""
    problems: list[str] = []
    processes = []
    if layout.state.exists():
        processes = json.loads(layout.state.read_text())["processes"]
    # The kubelet first, so it restarts nothing; then the pods; then the rest, newest first.
    order = sorted(processes, key=lambda p: p["name"] != "kubelet")
    for entry in order:
        if entry["name"] == "kubelet":
            _stop(entry["pid"])
    _kill_cgroup_tree("kubepods")
    _stop_all([entry["pid"] for entry in reversed(processes)])
    _kill_netns_processes()
    kill_processes_working_in(layout.run)
    for mount in _mounts_under([layout.run, layout.cache / "containerd", layout.cache / "docker"]):
        if subprocess.run(["umount", "-l", mount], capture_output=True).returncode != 0:
            problems.append(f"could not unmount {mount}")
    # The pods' own network namespaces, which containerd would have removed with each sandbox.
    for name in _pod_network_namespaces(layout.run / "netns-before.json"):
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
    subprocess.run(["ip", "netns", "del", NETNS], capture_output=True)
    if Path(f"/run/netns/{NETNS}").exists():
        problems.append(f"network namespace {NETNS} is still there")
    return problems


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs; a child of this process that has exited is reaped, and a zombie of
    another's counts as gone."""
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    with contextlib.suppress(OSError, IndexError):
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop(pid: int, grace: float = 10) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _stop_all(pids: list[int], grace: float = 10) -> None:
    """SIGTERM to every process group at once, SIGKILL to what is left after ``grace`` seconds."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def _cgroup_dirs(name: str) -> Iterator[Path]:
    """Every cgroup under ``name`` in each hierarchy, deepest first; ones removed meanwhile are skipped."""
    for hierarchy in Path("/sys/fs/cgroup").iterdir():
        root = hierarchy / name
        for folder, _, _ in os.walk(root, topdown=False, onerror=lambda _: None):
            yield Path(folder)


def _pod_network_namespaces(before: Path) -> list[str]:
    """The pods' network namespaces under /run/netns: made since our containerd started (``before``
    lists what was there) and with no process left in them."""
    if not before.exists():
        return []
    existing = set(json.loads(before.read_text()))
    in_use = set()
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if proc.name.isdigit():
                in_use.add((proc / "ns" / "net").stat().st_ino)
    names = []
    for mount in Path("/run/netns").glob("cni-*"):
        with contextlib.suppress(OSError):
            if mount.name not in existing and mount.stat().st_ino not in in_use:
                names.append(mount.name)
    return sorted(names)


def _kill_cgroup_tree(name: str) -> None:
    """Every process of every pod (kubelet puts them all under ``/kubepods``), then the cgroups."""
    for _ in range(3):
        for directory in _cgroup_dirs(name):
            procs = directory / "cgroup.procs"
            with contextlib.suppress(OSError):
                for pid in procs.read_text().split():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(pid), signal.SIGKILL)
        time.sleep(0.5)
    for directory in _cgroup_dirs(name):
        with contextlib.suppress(OSError):
            directory.rmdir()


def _kill_netns_processes() -> None:
    """Anything still living in the namespace (a container shim, a forwarder's child)."""
    path = Path(f"/run/netns/{NETNS}")
    if not path.exists():
        return
    target = path.stat().st_ino
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if (proc / "ns" / "net").stat().st_ino == target:
                os.kill(int(proc.name), signal.SIGKILL)


def kill_processes_working_in(folder: Path) -> list[int]:
    """SIGKILL to every process whose working folder or command line is inside ``folder``: the Pulumi
    CLI starts each plugin in a process group of its own, so a CLI killed mid-``up`` (the run
    interrupted) leaves its language host and program running. Returns their pids."""
    inside = str(folder.resolve())
    killed = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            cwd = os.readlink(proc / "cwd")
            words = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
            if (
                cwd == inside
                or cwd.startswith(inside + "/")
                or any(w.startswith(inside + "/") for w in words)
            ):
                os.kill(int(proc.name), signal.SIGKILL)
                killed.append(int(proc.name))
    return killed


def _mounts_under(folders: Sequence[Path]) -> list[str]:
    prefixes = [str(folder.resolve()) + "/" for folder in folders]
    mounts = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        point = line.split()[1].replace("\\040", " ")
        if any(point.startswith(prefix) for prefix in prefixes):
            mounts.append(point)
    return sorted(set(mounts), key=len, reverse=True)
