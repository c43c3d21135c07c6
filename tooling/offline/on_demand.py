"""The render loads each group package of ``pulumi_kubernetes`` (``pulumi_kubernetes.core.v1``) on demand.

A group package's ``__init__`` only re-exports: ``from .Binding import *`` for each of its resource
modules, its shared ``_inputs`` and ``outputs``. So the first ``k8s.core.v1.Secret`` loads all 50
resource modules of ``core/v1`` where the program uses 6, and ``k8s.helm.v3.Release`` loads the Chart
component, which loads ``requests``: about 65 ms of a 0.8 s render (``bench/render_vs_helm.sh``).

Here a group package starts empty, and a name is loaded from the module that defines it: the resource
module of that name (``Secret.py`` defines ``Secret``, ``outputs.py`` is ``outputs``), else the group's
shared ``_inputs`` or ``_enums``. Any other name, and ``import *``, run the package's own ``__init__``.
The classes are the same objects either way; only what is loaded, and when, differs. ``pulumi up``
imports the packages whole: a test holds a render equal both ways, and another holds every group
package's ``__init__`` to re-exports only, the condition for skipping it.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["GROUP_PACKAGE", "group_packages_on_demand"]

GROUP_PACKAGE = re.compile(r"pulumi_kubernetes\.[a-z0-9_]+\.v\d+(?:(?:alpha|beta)\d+)?", re.ASCII)
_SHARED = ("_inputs", "_enums")


@contextmanager
def group_packages_on_demand() -> Iterator[None]:
    """Group packages imported inside the block load on demand (they stay so after it)."""
    finder = _GroupPackageFinder()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


class _GroupPackageFinder(importlib.abc.MetaPathFinder):
    """Finds a group package where Python would, and gives it the on-demand loader."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if not GROUP_PACKAGE.fullmatch(fullname):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None or not spec.submodule_search_locations or not spec.origin:
            return spec
        spec.loader = _OnDemandLoader(spec.loader)
        return spec


class _OnDemandLoader(importlib.abc.Loader):
    """Leaves the package empty but for a module ``__getattr__`` that loads what is asked for."""

    def __init__(self, whole: importlib.abc.Loader) -> None:
        self._whole = whole

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return None  # Python's default module

    def exec_module(self, module: ModuleType) -> None:
        module.__getattr__ = _name_loader(module, self._whole)  # type: ignore[attr-defined]


def _name_loader(package: ModuleType, whole: importlib.abc.Loader) -> Callable[[str], Any]:
    folder = Path(package.__spec__.origin).parent  # type: ignore[union-attr,arg-type]
    loaded_whole = False

    def __getattr__(name: str) -> Any:
        nonlocal loaded_whole
        if not loaded_whole and not name.startswith("__"):
            value = _from_defining_module(package.__name__, folder, name)
            if value is not None:
                setattr(package, name, value)
                return value
        if not loaded_whole and (name == "__all__" or not name.startswith("__")):
            loaded_whole = True  # a name no module file gives, or `import *`: the package's own __init__
            whole.exec_module(package)
            if name in package.__dict__:
                return package.__dict__[name]
        raise AttributeError(f"module {package.__name__!r} has no attribute {name!r}")

    return __getattr__


def _from_defining_module(package: str, folder: Path, name: str) -> Any:
    """``name`` as the package's ``__init__`` would export it, from the one module that defines it."""
    if (folder / f"{name}.py").is_file():
        module = importlib.import_module(f"{package}.{name}")
        return getattr(module, name, module)  # Secret.py's Secret; outputs.py is `outputs` itself
    for shared in _SHARED:
        if (folder / f"{shared}.py").is_file():
            module = importlib.import_module(f"{package}.{shared}")
            if name in getattr(module, "__all__", ()):
                return getattr(module, name)
    return None
