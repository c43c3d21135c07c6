"""The stacks of this project, discovered from its ``Pulumi.<stack>.yaml`` files, for CI's matrices.

Adding a stack is adding its file: the workflows preview every stack on a pull request, deploy the
unprotected ones on a merge to ``main`` and the protected ones (``airflow:protectStatefulResources``)
on a release tag. Each stack needs a namespace of its own: two stacks in one namespace would take each
other's objects (the Secrets, the release, the NetworkPolicies), so that is refused before anything runs.

    python -m tooling.stacks                  one line per stack
    python -m tooling.stacks --github-output  the matrices as GitHub step outputs (key=JSON lines)
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from components.model import ConfigError
from components.stack_file import StackFileError, read_stack_file, stack_file_path
from tooling.cli import add_debug_flag, guarded

__all__ = ["Stack", "StacksError", "discover", "github_outputs", "main"]

ROOT = Path(__file__).resolve().parents[1]
_NAMESPACE_KEY = "airflow:namespace"
_PROTECT_KEY = "airflow:protectStatefulResources"


class StacksError(ConfigError):
    """The project's stack files cannot be deployed side by side; the message names the files."""


@dataclass(frozen=True)
class Stack:
    """One stack as CI needs it: its name, namespace, whether a release tag deploys it, and the name of
    the repository secret holding its preview kubeconfig."""

    name: str
    namespace: str
    protected: bool
    preview_kubeconfig_secret: str


def _stack_name(path: Path) -> str:
    return path.name.removeprefix("Pulumi.").removesuffix(".yaml")


def discover(project: Path) -> list[Stack]:
    """Every stack file of ``project``, read by the one stack-file reader; refuses a stack without a
    namespace of its own."""
    stacks = []
    for path in sorted(project.glob("Pulumi.*.yaml")):
        name = _stack_name(path)
        config = read_stack_file(stack_file_path(project, name))
        namespace = config.get(_NAMESPACE_KEY)
        if not isinstance(namespace, str) or not namespace:
            raise StacksError(
                f"{path.name} sets no {_NAMESPACE_KEY}; give each stack a namespace of its own "
                f"(e.g. {_NAMESPACE_KEY}: airflow-{name})"
            )
        protected = str(config.get(_PROTECT_KEY, "false")).lower() == "true"
        secret = "KUBECONFIG_" + "".join(c if c.isalnum() else "_" for c in name).upper()
        stacks.append(Stack(name, namespace, protected, secret))
    if not stacks:
        raise StacksError(f"no Pulumi.<stack>.yaml in {project}")
    by_namespace: dict[str, list[str]] = {}
    for stack in stacks:
        by_namespace.setdefault(stack.namespace, []).append(f"Pulumi.{stack.name}.yaml")
    for namespace, files in by_namespace.items():
        if len(files) > 1:
            raise StacksError(
                f"{' and '.join(files)} {'both' if len(files) == 2 else 'all'} set {_NAMESPACE_KEY} "
                f"{namespace!r}; two stacks in one namespace "
                "take each other's objects, so give each its own"
            )
    return stacks


def github_outputs(stacks: list[Stack]) -> str:
    """``stacks`` (every stack), ``main`` (deployed on a merge) and ``tags`` (deployed on a release
    tag), each a JSON list for ``fromJSON`` in a matrix."""
    everything = [asdict(stack) for stack in stacks]
    return "\n".join(
        [
            f"stacks={json.dumps(everything)}",
            f"main={json.dumps([s for s in everything if not s['protected']])}",
            f"tags={json.dumps([s for s in everything if s['protected']])}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tooling.stacks", description=__doc__.splitlines()[0])
    parser.add_argument("--github-output", action="store_true", help="print the matrices as step outputs")
    parser.add_argument("--project", type=Path, default=ROOT, help="the project folder (default: this one)")
    add_debug_flag(parser)
    options = parser.parse_args(argv)

    def run() -> int:
        try:
            stacks = discover(options.project)
        except (StacksError, StackFileError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        if options.github_output:
            print(github_outputs(stacks))
        else:
            for stack in stacks:
                deployed = "a release tag" if stack.protected else "a merge to main"
                print(f"{stack.name}: namespace {stack.namespace}, deployed on {deployed}")
        return 0

    return guarded(run, command="stacks", what="stack discovery", debug=options.debug, after_interrupt="")


if __name__ == "__main__":
    sys.exit(main())
