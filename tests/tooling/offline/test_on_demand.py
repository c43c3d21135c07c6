"""tooling/offline/on_demand.py: a group package of pulumi_kubernetes loaded name by name gives what the
whole package gives, and the render is the same either way."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pulumi_kubernetes
import pytest

from tests.conftest import ROOT
from tooling.offline.on_demand import GROUP_PACKAGE
from tooling.offline.render import render

PACKAGE_ROOT = Path(pulumi_kubernetes.__file__).parent


def _group_inits() -> list[Path]:
    inits = sorted(PACKAGE_ROOT.glob("*/*/__init__.py"))
    return [
        p for p in inits if GROUP_PACKAGE.fullmatch(".".join(("pulumi_kubernetes", *p.parent.parts[-2:])))
    ]


def _probe(code: str) -> dict:
    """Runs ``code`` in a fresh interpreter (this one has the packages whole) inside the on-demand block;
    the code leaves its findings in ``seen``."""
    script = "import json, sys\nfrom tooling.offline.on_demand import group_packages_on_demand\nseen = {}\n"
    script += "with group_packages_on_demand():\n" + textwrap.indent(textwrap.dedent(code), "    ")
    script += "print(json.dumps(seen))\n"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_group_package_init_only_re_exports_the_modules_beside_it() -> None:
    """The condition for loading a group by name: its __init__ defines nothing of its own, so skipping it
    changes only what is loaded. A pulumi-kubernetes upgrade that breaks it fails here."""
    inits = _group_inits()
    assert len(inits) > 50, "the group packages were not found where pulumi_kubernetes keeps them"
    for init in inits:
        for node in ast.parse(init.read_text()).body:
            re_export = isinstance(node, ast.ImportFrom) and node.level == 1 and node.names[0].name == "*"
            shared = (
                isinstance(node, ast.ImportFrom) and node.level >= 1 and node.module in (None, "_utilities")
            )
            assert re_export or shared or isinstance(node, ast.Import), f"{init}: {ast.unparse(node)}"
            if re_export:
                assert (init.parent / f"{node.module}.py").is_file(), f"{init}: {ast.unparse(node)}"


def test_a_name_loads_its_own_module_and_is_the_class_the_whole_package_gives() -> None:
    seen = _probe(
        """
        import pulumi_kubernetes as k8s
        secret = k8s.core.v1.Secret
        seen["secret"] = secret is sys.modules["pulumi_kubernetes.core.v1.Secret"].Secret
        seen["args"] = k8s.core.v1.PersistentVolumeClaimSpecArgs.__module__
        seen["outputs"] = type(k8s.core.v1.outputs).__name__
        seen["release"] = k8s.helm.v3.Release.__module__
        groups = ("pulumi_kubernetes.core.v1.", "pulumi_kubernetes.helm.v3.")
        seen["loaded"] = sorted(m for m in sys.modules if m.startswith(groups))
        """
    )
    assert seen["secret"] is True
    assert seen["args"] == "pulumi_kubernetes.core.v1._inputs"
    assert seen["outputs"] == "module"
    assert seen["release"] == "pulumi_kubernetes.helm.v3.Release"
    assert "pulumi_kubernetes.core.v1.Pod" not in seen["loaded"]
    assert "pulumi_kubernetes.helm.v3.helm" not in seen["loaded"]  # the Chart component, and requests


def test_any_other_name_and_a_star_import_load_the_whole_package() -> None:
    seen = _probe(
        """
        import pulumi_kubernetes.core.v1 as core
        try:
            core.NoSuchThing
        except AttributeError as err:
            seen["missing"] = str(err)
        seen["pod_loaded"] = "pulumi_kubernetes.core.v1.Pod" in sys.modules
        names = {}
        exec("from pulumi_kubernetes.rbac.v1 import *", names)
        seen["star"] = sorted(n for n in names if not n.startswith("_"))
        """
    )
    assert seen["missing"] == "module 'pulumi_kubernetes.core.v1' has no attribute 'NoSuchThing'"
    assert seen["pod_loaded"] is True
    whole: dict = {}
    exec("from pulumi_kubernetes.rbac.v1 import *", whole)  # this interpreter's package, loaded whole
    assert seen["star"] == sorted(n for n in whole if not n.startswith("_"))
    assert "RoleBinding" in seen["star"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_command_renders_what_the_whole_packages_render(tmp_path: Path, stack: str) -> None:
    """The command loads the group packages on demand; render() in this interpreter, whole."""
    command = tmp_path / "command"
    subprocess.run(
        [sys.executable, "-m", "tooling.offline.render", "--stack", stack, "--out", str(command)],
        check=True, capture_output=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    render(stack, tmp_path / "whole")
    files = sorted(p.relative_to(command) for p in command.rglob("*") if p.is_file())
    assert files == sorted(
        p.relative_to(tmp_path / "whole") for p in (tmp_path / "whole").rglob("*") if p.is_file()
    )
    assert len(files) > 10
    for name in files:
        assert (command / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name
