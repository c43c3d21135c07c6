"""Random stack documents, built from the real key tree, through the stack file reader, the config
loader and the render: always a render or exit code 2 with messages; never a traceback; never a
planted secret in what is printed or written."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from components.settings import StackSettings
from tooling.offline import render as render_module
from tooling.offline.trial import THROWAWAY_STACK, project_copy

# Long, mixed-case and with digits: every planted form below reads as a credential.
SECRET = "Pl4ntedS3cr3tV4lue20261126"


def key_paths(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every key path of the stack file under ``airflow:``, sections and leaves, as the user spells it."""
    for name, field in model.model_fields.items():
        path = (*prefix, field.alias or name)
        yield path
        for inner in (field.annotation, *get_args(field.annotation)):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                yield from key_paths(inner, path)


KEY_PATHS = sorted(set(key_paths(StackSettings)))

planted = st.sampled_from(
    [
        f"postgresql://airflow:{SECRET}@db.example.com:5432/airflow",
        f"https://bot:{SECRET}@github.com/acme/dags.git",
        f"ssh://deploy:{SECRET}@git.example.com/dags.git",
        f"git@github.com:acme/dags.git?token={SECRET}",
        f"password={SECRET}",
        SECRET,
    ]
)
# Scalars a hurried user writes: YAML 1.1 look-alikes, dates, octal, paths that escape, names Kubernetes
# reserves, and values of the right shape.
awkward = st.sampled_from(
    [
        "off", "on", "yes", "no", "y", "~", "null", "", "2026-11-25", "010", "0x1F", "1_000", "1e3",
        ".inf", "-.inf", ".nan", "../..", "/etc", "kube-system", "monitoring", "airflow", "a" * 300,
        "CeleryExecutor", "KubernetesExecutor", "configmap", "git-sync", "image", "install", "existing",
        "bundled", "external", "100m", "1Gi", "true", "false", "0", "-1", "1",
    ]
)  # fmt: skip
scalars = st.one_of(
    awkward,
    planted,
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.builds(lambda s: {"secure": f"v1:{s}"}, st.sampled_from(["AAAA", SECRET])),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(awkward, st.text(max_size=10)), inner, max_size=3),
    ),
    max_leaves=6,
)
# Valid starting points, so that many examples get as far as a full render.
BASES: list[dict[str, Any]] = [
    {},
    {"dags": {"delivery": "configmap"}, "executor": "CeleryExecutor"},
    {"dags": {"delivery": "git-sync", "gitSync": {"repo": "https://github.com/acme/dags.git"}}},
    {"monitoring": {"mode": "install"}, "database": {"pgbouncer": {"enabled": True}}},
]
stray_keys = st.one_of(
    st.sampled_from(["executor", "airfow:executor", "Airflow:namespace", "aws:region", "a:b:c", SECRET]),
    st.text(max_size=15),
)


def _set(document: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = document
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value


@st.composite
def stack_files(draw: st.DrawFn) -> str:
    airflow = yaml.safe_load(yaml.safe_dump(draw(st.sampled_from(BASES))))  # a deep copy
    for path, value in draw(st.lists(st.tuples(st.sampled_from(KEY_PATHS), values), max_size=3)):
        _set(airflow, path, value)
    config = {f"airflow:{key}": value for key, value in airflow.items()}
    config["airflow:protectStatefulResources"] = draw(st.sampled_from([False, "false", "off", True]))
    if draw(st.integers(0, 3)) == 0:
        config.update(draw(st.dictionaries(stray_keys, scalars, min_size=1, max_size=2)))
    text = yaml.safe_dump({"config": config}, allow_unicode=True, sort_keys=False)
    if draw(st.integers(0, 7)) == 0:  # now and then, text that may break the YAML
        text += draw(st.text(max_size=30))
    return text


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return project_copy(tmp_path_factory.mktemp("fuzz"), THROWAWAY_STACK)


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,  # the same 300 documents on every run: a CI failure reproduces
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(stack_file=stack_files())
def test_any_stack_file_renders_or_is_refused_cleanly_and_never_leaks(
    stack_file: str, project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "Pulumi.test.yaml").write_text(stack_file)
    monkeypatch.setattr(render_module, "ROOT", project)
    parent = Path(tempfile.mkdtemp(prefix="fuzz-out-"))
    out = parent / "render"
    try:
        capsys.readouterr()
        code = render_module.main(["--stack", "test", "--out", str(out)])  # a traceback fails the test
        printed = capsys.readouterr()
        written = "".join(p.read_text() for p in out.rglob("*") if p.is_file()) if out.exists() else ""
        assert SECRET not in printed.out + printed.err + written
        if code == 0:
            assert printed.out.startswith("stack test: release airflow")
            assert (out / "releases" / "airflow.yaml").is_file()
        else:
            assert code == 2
            lines = printed.err.splitlines()
            assert lines[0].startswith("error: ")
            assert all(line.strip() for line in lines)
            assert not out.exists()
        assert [p.name for p in parent.iterdir()] == (["render"] if code == 0 else [])
    finally:
        shutil.rmtree(parent)
