"""The entries of a DAG folder as the filesystem has them: regular files to read, caches left out, and
links and special files named as problems before anything opens them (a named pipe blocks its reader
for good). Below ``folder``, which reads the files, and the DAG gate, which checks first."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

__all__ = ["IGNORED_DIRS", "IGNORED_SUFFIXES", "entries", "unreadable_entries"]


# Build and editor leftovers that are neither delivered nor hashed; dags/.dockerignore lists the same.
IGNORED_DIRS = frozenset({"__pycache__", ".pytest_cache", ".ruff_cache"})
IGNORED_SUFFIXES = (".pyc", ".pyo", ".swp")


def unreadable_entries(root: Path, folder: str) -> list[str]:
    """Links and special files under ``root``: what no mode can ship, and what must not be opened (a
    named pipe blocks its reader for good). The DAG gate checks these before Airflow opens anything."""
    return [problem for _, _, problem in entries(root, folder) if problem]


def entries(root: Path, folder: str) -> Iterator[tuple[Path, str, str | None]]:
    """Every file under ``root`` but ignored ones, sorted: its path, its relative path and, for what is
    not a regular file, the problem (shown with ``folder``)."""
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        shown = f"{folder}/{relative}"
        try:
            mode = path.lstat().st_mode
        except OSError as err:  # removed while being read, or an unreadable folder
            yield path, relative, f"{shown}: cannot be read ({err.strerror})"
            continue
        if _ignored(PurePosixPath(relative)):
            continue
        if not _utf8(relative):
            yield (
                path,
                relative,
                f"{shown}: the file name is not UTF-8, which a ConfigMap key and git cannot carry; rename it",
            )
            continue
        if stat.S_ISDIR(mode):
            continue
        if stat.S_ISLNK(mode):
            yield (
                path,
                relative,
                f"{shown}: is a symbolic link; copy the file in instead, so every mode ships it",
            )
        elif not stat.S_ISREG(mode):
            yield (
                path,
                relative,
                f"{shown}: is a {_special_kind(mode)}; a DAG folder holds only regular files and folders",
            )
        else:
            yield path, relative, None


def _utf8(name: str) -> bool:
    """Whether a name read from the filesystem is UTF-8 (Python keeps other bytes as surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device file"


def _ignored(relative: PurePosixPath) -> bool:
    return any(part in IGNORED_DIRS for part in relative.parts) or relative.name.endswith(IGNORED_SUFFIXES)
