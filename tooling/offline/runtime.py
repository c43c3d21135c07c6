"""Runs Pulumi code under mocks and records every registration: the engine of the render and the tests.

The SDK's ``MockResourceArgs`` carries neither the parent, the dependencies, ``protect`` nor the
secret outputs, so the monitor itself is wrapped to keep the raw registration request.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import runpy
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks, settings
from pulumi.runtime.rpc import _special_secret_sig, _special_sig_key

__all__ = [
    "ENGINE_CONFIG_ENV",
    "SECRET",
    "Recording",
    "Registration",
    "is_secret",
    "mocked_runtime",
    "plain",
    "reveal",
    "run_program",
]

SECRET = "[secret]"


@dataclass(frozen=True)
class Registration:
    """One resource the program registered under the mocks: its URN, type, inputs and options."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    dependencies: tuple[str, ...]
    protect: bool
    secret_outputs: tuple[str, ...]
    inputs: dict[str, Any]
    outputs: dict[str, Any]


@dataclass
class Recording:
    """Everything one program run registered, and its stack outputs, in order."""

    registrations: list[Registration] = field(default_factory=list)
    # Stack outputs: name -> (value, is_secret); filled by run_program.
    stack_outputs: dict[str, tuple[Any, bool]] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[Registration]:
        """Every registration of one resource type, in registration order."""
        return [r for r in self.registrations if r.type == type_]

    def named(self, name: str) -> Registration:
        """The one registration of that Pulumi name (a KeyError for none or several)."""
        matches = [r for r in self.registrations if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {name!r}")
        return matches[0]

    def of_component(self, type_: str, component: str) -> list[Registration]:
        """Resources of a type whose ``app.kubernetes.io/component`` label is ``component``."""
        return [
            r
            for r in self.of_type(type_)
            if (r.inputs.get("metadata") or {}).get("labels", {}).get("app.kubernetes.io/component")
            == component
        ]

    def release(self, name: str = "airflow") -> Registration:
        """The Helm release installed under ``name`` (its Helm name, not its Pulumi name)."""
        (found,) = [r for r in self.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["name"] == name]
        return found


class _Mocks(mocks.Mocks):
    """Echoes inputs back, plus the computed outputs of the random resources in their real shapes.

    The fake values are derived from the resource name, so runs are repeatable and tests can search
    renders for them to prove no secret leaked.
    """

    def __init__(self, existing_secrets: dict[str, dict[str, str]] | None = None) -> None:
        # Secrets the operator made outside the stack, by name: what a read of one returns.
        self.existing_secrets = existing_secrets or {}

    def new_resource(self, args: mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        digest = hashlib.sha256(args.name.encode()).digest()
        if args.typ == "random:index/randomPassword:RandomPassword":
            length = int(args.inputs["length"])
            outputs["result"] = ("Pw" + digest.hex() * 4)[:length]
        elif args.typ == "random:index/randomId:RandomId":
            raw = digest[: int(args.inputs["byteLength"])]
            # terraform-provider-random encodes b64_url with base64.RawURLEncoding: no '=' padding.
            outputs["b64Url"] = base64.urlsafe_b64encode(raw).decode().rstrip("=")
            outputs["b64Std"] = base64.b64encode(raw).decode()
            outputs["hex"] = raw.hex()
        elif args.typ == "kubernetes:core/v1:Secret" and args.resource_id:
            # A read of an existing Secret (database.existingSecretName): the operator's, or a stand-in.
            name = args.resource_id.rsplit("/", 1)[-1]
            url = f"postgresql://airflow:offline-{digest.hex()[:12]}@db.offline.invalid:5432/airflow?sslmode=require"
            data = self.existing_secrets.get(name, {"connection": url})
            outputs["data"] = {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}
        elif args.typ == "docker:index/image:Image":
            # A stand-in for the registry's digest: it changes exactly when the image name (tag) does.
            name = str(args.inputs["imageName"])
            outputs["repoDigest"] = (
                f"{name.rsplit(':', 1)[0]}@sha256:{hashlib.sha256(name.encode()).hexdigest()}"
            )
        return f"{args.name}-id", outputs

    def call(self, args: mocks.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


class _RecordingMonitor(mocks.MockMonitor):
    def __init__(
        self, recording: Recording, existing_secrets: dict[str, dict[str, str]] | None = None
    ) -> None:
        super().__init__(_Mocks(existing_secrets))
        self._recording = recording

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            urn = self.make_urn(request.parent, request.type, request.name)
            self._recording.registrations.append(
                Registration(
                    urn=urn,
                    type=request.type,
                    name=request.name,
                    custom=request.custom,
                    parent=request.parent,
                    dependencies=tuple(sorted(set(request.dependencies))),
                    protect=bool(request.protect),
                    secret_outputs=tuple(sorted(request.additionalSecretOutputs)),
                    inputs=pulumi.runtime.rpc.deserialize_properties(request.object),
                    outputs=self.resources[urn].state,
                )
            )
        return response


# How the Pulumi engine hands a program its config; set in a shell, they would override the stack file.
ENGINE_CONFIG_ENV = ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS")


@contextlib.contextmanager
def mocked_runtime(
    *,
    project: str = "airflow",
    stack: str = "dev",
    config: dict[str, str] | None = None,
    secret_keys: list[str] | None = None,
    recording: Recording | None = None,
    existing_secrets: dict[str, dict[str, str]] | None = None,
) -> Iterator[Recording]:
    """Installs mocks and config for one run, and leaves the global runtime clean afterwards.

    The program sees only ``config``: the engine's environment variables (``ENGINE_CONFIG_ENV``), which
    the SDK would read too, are hidden for the run and put back after it.
    """
    recording = recording if recording is not None else Recording()
    hidden = {name: os.environ.pop(name) for name in ENGINE_CONFIG_ENV if name in os.environ}
    settings.ROOT.set(None)
    runtime_config.set_all_config(dict(config or {}), list(secret_keys or []))
    monitor = _RecordingMonitor(recording, existing_secrets)
    mocks.set_mocks(monitor.mocks, project=project, stack=stack, preview=False, monitor=monitor)
    try:
        yield recording
    finally:
        settings.ROOT.set(None)
        runtime_config.set_all_config({}, [])
        os.environ.update(hidden)


def run_program(
    program: Path,
    *,
    stack: str,
    config: dict[str, str],
    secret_keys: list[str],
    project: str = "airflow",
    recording: Recording | None = None,
    existing_secrets: dict[str, dict[str, str]] | None = None,
) -> Recording:
    """Runs a Pulumi program file under mocks; exceptions the program raises propagate.

    The program runs in its own folder, as the Pulumi CLI runs it, so relative paths (the DAG image's
    build context) mean the same in a render as in ``pulumi up``. Pass ``recording`` to keep what was
    registered even when the program raises.
    """
    with (
        mocked_runtime(
            project=project,
            stack=stack,
            config=config,
            secret_keys=secret_keys,
            recording=recording,
            existing_secrets=existing_secrets,
        ) as recording,
        contextlib.chdir(program.resolve().parent),
    ):

        async def collect_outputs() -> None:
            root = settings.get_root_resource()
            for name, value in sorted(root.outputs.items()):
                output = pulumi.Output.from_input(value)
                recording.stack_outputs[name] = (await output.future(), await output.is_secret())

        def program_then_outputs() -> Any:
            runpy.run_path(str(program), run_name="__main__")
            return collect_outputs()

        mocks.test(program_then_outputs)()
    return recording


def is_secret(value: Any) -> bool:
    """Whether a recorded value is a Pulumi secret (the SDK's own wire marker)."""
    return isinstance(value, dict) and value.get(_special_sig_key) == _special_secret_sig


def reveal(value: Any) -> Any:
    """A recorded value with its secrets unwrapped: only for a rehearsal, which needs the real values."""
    if is_secret(value):
        return reveal(value.get("value"))
    if isinstance(value, dict):
        return {key: reveal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [reveal(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def plain(value: Any) -> Any:
    """A recorded value made printable: secrets become ``[secret]``, whole floats become ints.

    A secret map keeps its keys (a Secret's ``stringData`` shows which keys the pods will find, and
    stays a valid object); only its values are hidden. Floats appear because every number crosses the
    gRPC boundary as a double.
    """
    if is_secret(value):
        inner = value.get("value")
        return {key: SECRET for key in inner} if isinstance(inner, dict) else SECRET
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
