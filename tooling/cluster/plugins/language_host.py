"""A stand-in for ``pulumi-language-python``, the Python language host the CLI starts for ``runtime:
python``: the engine asks it to run the program, and it starts the Pulumi SDK's own
``pulumi-language-python-exec`` in the project's virtualenv with the resource monitor's address.

What the Go host adds and this one leaves out: installing dependencies (``.ci/setup`` makes ``.venv``),
reporting required plugins ahead of the run (the engine then loads each provider when the program
registers its first resource), toolchains other than pip, and debugging.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import grpc
from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

from tooling.cluster.plugins.serve import serve

VERSION = "3.274.1"
# The exit code with which pulumi-language-python-exec says the program already showed its error.
_ERROR_SHOWN = 32
# pulumi-language-python-exec lies beside the pulumi binary (.ci/toolchain installs it there).
_EXEC = "pulumi-language-python-exec"


def _exec_script() -> str:
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        candidate = Path(folder) / _EXEC
        if candidate.is_file():
            return str(candidate)
    raise FileNotFoundError(f"{_EXEC} is not on PATH (bash .ci/toolchain installs it beside pulumi)")


def _python(info: language_pb2.ProgramInfo, pwd: str) -> str:
    """The virtualenv Pulumi.yaml names (runtime.options.virtualenv), else this interpreter."""
    options = json_format.MessageToDict(info.options) if info.HasField("options") else {}
    root = info.root_directory or pwd
    virtualenv = options.get("virtualenv")
    if virtualenv:
        return str(Path(root, virtualenv, "bin", "python"))
    return sys.executable


class LanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    """The LanguageRuntime gRPC protocol for Python programs: each method implements the protocol's
    method of the same name; ``Run`` runs ``__main__.py`` with the project's virtualenv."""

    def __init__(self, engine_address: str) -> None:
        self._engine = engine_address

    def Handshake(self, request, context):
        self._engine = request.engine_address or self._engine
        return language_pb2.LanguageHandshakeResponse()

    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version=VERSION)

    def GetRequiredPlugins(self, request, context):
        return language_pb2.GetRequiredPluginsResponse()

    def GetRequiredPackages(self, request, context):
        return language_pb2.GetRequiredPackagesResponse()

    def GetProgramDependencies(self, request, context):
        return language_pb2.GetProgramDependenciesResponse()

    def RuntimeOptionsPrompts(self, request, context):
        return language_pb2.RuntimeOptionsResponse()

    def About(self, request, context):
        return language_pb2.AboutResponse(executable=sys.executable, version=sys.version.split()[0])

    def InstallDependencies(self, request, context):
        # .ci/setup made the virtualenv with the project's constraints; nothing is installed here.
        return iter(())

    def Cancel(self, request, context):
        return empty_pb2.Empty()

    def Run(self, request, context):
        info = request.info
        pwd = request.pwd or info.program_directory
        program = info.entry_point or request.program or "."
        command = [
            _python(info, pwd),
            "-u",
            _exec_script(),
            f"--monitor={request.monitor_address}",
            f"--engine={self._engine}",
            f"--project={request.project}",
            f"--stack={request.stack}",
            f"--pwd={pwd}",
            f"--dry_run={'true' if request.dryRun else 'false'}",
            f"--parallel={request.parallel}",
            f"--organization={request.organization}",
            f"--root_directory={info.root_directory or pwd}",
            program,
            *request.args,
        ]
        env = dict(os.environ)
        env["PULUMI_CONFIG"] = json.dumps(dict(request.config))
        env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(request.configSecretKeys))
        # The program's output goes where this host's goes: the engine shows both.
        code = subprocess.call(command, cwd=pwd, env=env)
        if code == 0:
            return language_pb2.RunResponse()
        if code == _ERROR_SHOWN:
            return language_pb2.RunResponse(bail=True)
        return language_pb2.RunResponse(error=f"Program exited with non-zero exit code: {code}")


def main(argv: list[str]) -> None:
    """Serves the language host as ``pulumi`` starts it."""
    # The engine passes flags (-root=..., -tracing ...) and, last, its own address.
    positional = [arg for arg in argv if not arg.startswith("-")]
    engine = positional[-1] if positional else ""

    def register(server: grpc.Server) -> None:
        language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageHost(engine), server)

    serve(register)


if __name__ == "__main__":
    main(sys.argv[1:])
