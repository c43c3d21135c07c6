"""Offline render: what a stack would deploy, without a cluster, a Pulumi CLI or credentials.

    python -m tooling.offline.render --stack dev [--out render/dev]

Runs the real ``__main__.py`` under Pulumi mocks with ``Pulumi.<stack>.yaml`` and writes
``releases/<release>.yaml``, ``manifests/<kind>-<name>.yaml``, ``resources.yaml`` and ``outputs.yaml``
under the output folder, then prints a short summary. Secret values appear only as ``[secret]``; two
renders of the same tree are byte-identical. Encrypted (``secure:``) config cannot be decrypted here,
so such values are replaced by placeholders that are themselves secret.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import pulumi
import yaml

from components.config import NAMESPACE, raw_from_config
from components.dags.folder import load_dag_folder
from components.model import ConfigError
from components.settings import StackSettings
from components.stack_file import engine_config, read_stack_file, stack_file_path
from components.validation import parse_settings
from tooling.cli import add_debug_flag, exit_with, guarded, signals_held
from tooling.gate.imports import import_problems
from tooling.gate.packages import installed_dag_packages
from tooling.offline.documents import (
    IMAGE_TYPE,
    RELEASE_TYPE,
    manifests,
    release_document,
    resources_document,
)
from tooling.offline.on_demand import group_packages_on_demand
from tooling.offline.runtime import ENGINE_CONFIG_ENV, SECRET, Recording, plain, run_program
from tooling.offline.stand_ins import comments, example_keys, made_up_in, made_up_values
from tooling.offline.summary import stack_summary

__all__ = ["load_stack_config", "main", "manifests", "render"]

ROOT = Path(__file__).resolve().parents[2]
# A secure or missing secret value must still pass validation; these stand in for the ones with a
# required shape. Well-formed URLs: PgBouncer's config is built from its user, password and host. An
# OpenSSH private key without a passphrase (its header only, cipher "none"): a deploy key is checked.
_PLACEHOLDERS = {
    f"{NAMESPACE}:metadataConnection": "postgresql://offline:placeholder@offline-render.invalid:5432/airflow",
    f"{NAMESPACE}:gitSshKey": "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ==\n-----END OPENSSH PRIVATE KEY-----\n",
    f"{NAMESPACE}:brokerUrl": "rediss://:offline-placeholder@offline-render.invalid:6379/0",
    # Each encrypted connection of airflow:connections (set with --path): a URI of its own.
    f"{NAMESPACE}:connections": "offline://offline-render.invalid",
}
_MISSING = "offline-render-placeholder"
# Everything a render writes; stand-ins.yaml is always among them and marks a folder as a render.
_MARKER = "stand-ins.yaml"
# SHA256SUMS lists every other file with its hash (``sha256sum -c`` reads it): the next render replaces
# the folder only if it holds exactly those files, unchanged, so a file a user added or edited is kept.
_INDEX = "SHA256SUMS"
_OWNED = frozenset({"releases", "manifests", "images", "resources.yaml", "outputs.yaml", _MARKER, _INDEX})


class RenderError(Exception):
    """A stack the render cannot read; the message names the file."""


def load_stack_config(stack_file: Path) -> tuple[dict[str, str], list[str]]:
    """Config as the engine hands it to a program: strings, objects as JSON, plus the secret keys."""
    return engine_config(read_stack_file(stack_file), lambda key: _PLACEHOLDERS.get(key, SECRET))


def fill_missing_secrets(stack: str, config: dict[str, str], secret_keys: list[str]) -> list[str]:
    """Adds placeholders for the secret values the stack needs but its file does not hold; their keys.

    Those values are set per stack by an operator (``pulumi config set --secret``), never committed in
    a template, and a render shows only ``[secret]`` for them anyway: the render still shows every
    resource, and the summary says which values ``pulumi up`` will ask for.
    """
    return _fill_missing(_offline_settings(stack, config), config, secret_keys)


def _offline_settings(stack: str, config: dict[str, str]) -> StackSettings | None:
    """The stack's settings as the program parses them offline; None where they are invalid: the program
    itself reports it, the same way as under ``pulumi up``."""
    try:
        return parse_settings(raw_from_config(config), source=f"Pulumi.{stack}.yaml", offline=True)
    except ConfigError:
        return None


def _fill_missing(
    settings: StackSettings | None, config: dict[str, str], secret_keys: list[str]
) -> list[str]:
    if settings is None:
        return []
    missing = [f"{NAMESPACE}:{key}" for key in settings.missing_secrets()]
    for key in missing:
        config[key] = _PLACEHOLDERS.get(key, _MISSING)
        secret_keys.append(key)
    return missing


def render(stack: str, out: Path, project_dir: Path = ROOT) -> tuple[Recording, str]:
    """Runs the program for ``stack``, writes the render into ``out`` and returns the summary text.

    ``out`` must be new, empty or an earlier render: the render is written beside it and swapped in
    whole, so a failed render leaves the earlier one as it was, and nothing the render did not write
    is ever removed.
    """
    stack_file = stack_file_path(project_dir, stack)
    _check_out(out)
    config, secret_keys = load_stack_config(stack_file)
    settings = _offline_settings(stack, config)
    missing = _fill_missing(settings, config, secret_keys)
    recording = run_program(project_dir / "__main__.py", stack=stack, config=config, secret_keys=secret_keys)
    if settings is not None:  # else the program has failed on them already
        _check_dag_imports(project_dir, stack, settings.dags.folder)
    staging = _staging_folder(out)
    try:
        summary = _write_render(stack, staging, recording, config, missing)
        _write_index(staging)
        _swap_in(staging, out)
    except OSError as err:
        raise RenderError(f"cannot write the render to {out}: {err.strerror or err}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return recording, summary


def _check_dag_imports(project_dir: Path, stack: str, dag_folder: str) -> None:
    """Fails where the DAG gate would on an import or a syntax error of the stack's local DAG folder
    (``tooling/gate/imports.py``); a note where its requirements are not installed yet."""
    folder = project_dir / dag_folder
    if not folder.is_dir():  # a git mode without a local copy: the gate has nothing to parse either
        return
    dags = load_dag_folder(project_dir, dag_folder)
    packages = installed_dag_packages(folder)
    pending = bool(dags.requirements) and packages is None
    problem = import_problems(dags.folder, {f.path: f.content for f in dags.files}, packages, pending)
    if problem is not None:
        raise RenderError(problem)
    if pending:
        print(
            f"render: the imports of {dags.folder}/ are not checked: the gate has not installed its "
            f"requirements.txt yet (python -m tooling.gate --stack {stack})",
            file=sys.stderr,
        )


def _check_out(out: Path) -> None:
    """Refuses an output path that is not a folder the render may replace."""
    if out.is_symlink():
        raise RenderError(f"--out {out} is a symbolic link; give the folder itself")
    if out.exists() and not out.is_dir():
        raise RenderError(f"--out {out} is a file, not a folder; give a new folder or an earlier render")
    if not out.is_dir():
        return
    try:
        entries = sorted(entry.name for entry in out.iterdir())
    except OSError as err:
        raise RenderError(f"--out {out} cannot be read: {err.strerror}") from None
    foreign = [name for name in entries if name not in _OWNED]
    if entries and not foreign and _MARKER in entries and _INDEX in entries:
        foreign, changed = _unlisted_and_changed(out)
        if changed:
            raise RenderError(
                f"--out {out} holds files changed since the render wrote them ({_few(changed)}); move "
                "them away or give another folder, since a render replaces the folder whole"
            )
    if entries and (foreign or _MARKER not in entries):
        raise RenderError(
            f"--out {out} holds files a render did not write ({_few(foreign) or 'no ' + _MARKER}); give a "
            "new or empty folder, or an earlier render's, since a render replaces the folder whole"
        )


def _few(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _unlisted_and_changed(out: Path) -> tuple[list[str], list[str]]:
    """The files of an earlier render that its SHA256SUMS does not list, and those whose hash differs."""
    listed = {}
    for line in (out / _INDEX).read_text(errors="replace").splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
    unlisted, changed = [], []
    for path in sorted(p for p in out.rglob("*") if not p.is_dir()):
        name = path.relative_to(out).as_posix()
        if name == _INDEX:
            continue
        if name not in listed:
            unlisted.append(name)
        elif path.is_symlink() or hashlib.sha256(path.read_bytes()).hexdigest() != listed[name]:
            changed.append(name)
    return unlisted, changed


def _write_index(folder: Path) -> None:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    lines = [
        f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(folder).as_posix()}\n" for p in files
    ]
    (folder / _INDEX).write_text("".join(lines))


def _staging_folder(out: Path) -> Path:
    """A fresh folder beside ``out`` (same file system, so the swap is a rename)."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.rendering-", dir=out.parent))
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # mkdtemp's 0700 would make the render private to its writer
        return staging
    except OSError as err:
        raise RenderError(f"cannot write the render to {out}: {err.strerror or err}") from None


def _swap_in(staging: Path, out: Path) -> None:
    """The two renames run with Ctrl-C and SIGTERM held: between them ``out`` does not exist."""
    if not out.exists():
        staging.rename(out)
        return
    previous = Path(tempfile.mkdtemp(prefix=f".{out.name}.previous-", dir=out.parent))
    with signals_held():
        out.rename(previous / "render")
        staging.rename(out)
    shutil.rmtree(previous, ignore_errors=True)


def _write_render(
    stack: str, out: Path, recording: Recording, config: dict[str, str], missing: list[str]
) -> str:
    """Writes every render file into the empty folder ``out``; the summary text."""
    made_up = made_up_values(recording)
    labelled: dict[str, list[str]] = {}  # file -> the made-up values' key paths in it

    def write(path: Path, document: Any) -> None:
        stand_ins = made_up_in(document, made_up)
        if stand_ins:
            labelled[path.relative_to(out).as_posix()] = stand_ins
        _write(path, document, comments(stand_ins))

    (out / "releases").mkdir()
    (out / "manifests").mkdir()
    for image in recording.of_type(IMAGE_TYPE):
        (out / "images").mkdir(exist_ok=True)
        write(out / "images" / f"{image.name}.yaml", plain(image.inputs))
    for release in recording.of_type(RELEASE_TYPE):
        write(out / "releases" / f"{release.inputs['name']}.yaml", release_document(release))
    for manifest in manifests(recording):
        kind, name = manifest["kind"], manifest["metadata"]["name"]
        write(out / "manifests" / f"{kind.lower()}-{name}.yaml", manifest)
    write(out / "resources.yaml", resources_document(recording))
    write(
        out / "outputs.yaml",
        {name: SECRET if secret else value for name, (value, secret) in recording.stack_outputs.items()},
    )
    examples = example_keys(config)
    # Everything a reviewer must not take for what `pulumi up` deploys, in one place.
    _write(
        out / _MARKER,
        {"madeUpOffline": labelled, "exampleValues": examples, "secretPlaceholders": missing},
    )
    printed = stack_summary(stack, recording)
    if made_up:
        printed += "\nmade up offline (marked '# offline stand-in' in the files): the DAG image digest"
    if examples:
        printed += (
            f"\nexample values in Pulumi.{stack}.yaml, replace them before 'pulumi up': {', '.join(examples)}"
        )
    if missing:
        printed += (
            f"\nnot in Pulumi.{stack}.yaml, rendered with placeholders (set with 'pulumi config set "
            f"--secret' before 'pulumi up'): {', '.join(missing)}"
        )
    return printed


class _NoAliasDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
    """Writes a value shared by two places twice: the diff refuses aliases, which no render holds."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _write(path: Path, document: Any, header: str = "") -> None:
    text = yaml.dump(document, Dumper=_NoAliasDumper, sort_keys=True, default_flow_style=False, width=110)
    path.write_text(header + text)


def main(argv: list[str] | None = None) -> int:
    """``python -m tooling.offline.render --stack S [--out DIR]``: 0, 2 with one line for a bad input,
    130 when interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m tooling.offline.render", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument("--out", type=Path, help="output folder (default: render/<stack>)")
    add_debug_flag(parser)
    args = parser.parse_args(argv)
    out = args.out or ROOT / "render" / args.stack
    with group_packages_on_demand():
        return guarded(
            lambda: _render_command(args.stack, out),
            command="render",
            what=f"render of stack {args.stack!r}",
            debug=args.debug,
            after_interrupt=f"{out} is as it was",
        )


def _render_command(stack: str, out: Path) -> int:
    for name in ENGINE_CONFIG_ENV:
        if name in os.environ:
            print(
                f"render: {name} in the environment is ignored; a render reads Pulumi.{stack}.yaml alone",
                file=sys.stderr,
            )
    try:
        _, summary = render(stack, out, project_dir=ROOT)
    except (RenderError, ConfigError, pulumi.RunError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(summary)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    exit_with(main)
