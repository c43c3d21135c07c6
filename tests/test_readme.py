"""The README and docs/ tell the truth: every configuration key, alert, dashboard panel, example DAG and
module is documented; every number the README states is measured here; every path and link it or a
docs page gives exists."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from components.model import Placement, PodSettings, Resources, SidecarSettings, Workload
from components.release.settings import AIRFLOW_VERSION, CHART_VERSION
from components.settings import StackSettings
from tests.conftest import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
# Documented as one row each: `{replicas, resources, placement}`, `{resources}`, `{resources,
# placement}`, and the resources and placement shapes.
_ONE_ROW = (Resources, Workload, SidecarSettings, PodSettings, Placement)
# Where a backticked path may start: the repository's own folders and files.
_TOP = tuple(sorted(p.name for p in ROOT.iterdir() if not p.name.startswith((".venv", ".git", "render"))))


def _text(page: str) -> str:
    return (DOCS / page).read_text()


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name)
        keys.append(key)
        nested = field.annotation
        if isinstance(nested, type) and issubclass(nested, BaseModel) and nested not in _ONE_ROW:
            keys += _keys(nested, key + ".")
    return keys


def test_the_readme_reads_in_ten_minutes() -> None:
    assert len(README.read_text().splitlines()) < 250


def test_every_config_key_is_in_the_configuration_table() -> None:
    table = _text("configuration.md")
    keys = _keys(StackSettings)
    assert {"database.mode", "admin.email", "scheduler", "connections", "extraValues"} <= set(keys)
    assert [key for key in keys if f"`{key}`" not in table] == []


def test_every_alert_and_dashboard_panel_is_documented_and_the_readme_counts_them() -> None:
    from components.observability.alerts import alert_rules
    from components.observability.dashboards import dashboards, queries
    from components.observability.settings import AlertSettings

    monitoring = _text("monitoring.md")
    alerts = [rule["alert"] for rule in alert_rules(AlertSettings(), "airflow")[0]["rules"]]
    panels = [title for model in dashboards().values() for title, _ in queries(model)]
    assert [name for name in alerts if f"`{name}`" not in monitoring] == []
    assert [title for title in panels if f"| {title} |" not in monitoring] == []
    assert f"{len(alerts)} alerts, {len(dashboards())} dashboards" in README.read_text()


def test_the_readme_names_the_pinned_versions() -> None:
    readme = README.read_text()
    assert f"`apache-airflow/airflow` **{CHART_VERSION}**" in readme
    assert f"Airflow {AIRFLOW_VERSION}" in readme


def test_every_example_dag_is_described() -> None:
    dags_page = _text("dags.md")
    dags = sorted(p.name for p in (ROOT / "dags").glob("*.py"))
    assert len(dags) >= 4
    assert [name for name in dags if f"`{name}`" not in dags_page] == []


def test_every_module_of_the_package_is_in_the_module_map() -> None:
    module_map = _text("architecture.md")
    modules = sorted(
        p.relative_to(ROOT).as_posix()
        for package in ("components", "tooling")
        for p in (ROOT / package).rglob("*.py")
        if p.name != "__init__.py"
    )
    assert len(modules) > 40
    assert [m for m in modules if m.rsplit("/", 1)[-1] not in module_map] == []


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.lstrip("#").strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    anchors, in_code = set(), False
    for line in page.read_text().splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and re.match(r"#{1,6} ", line):
            anchors.add(_slug(line))
    return anchors


def test_every_link_between_the_pages_leads_somewhere() -> None:
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if target.startswith(("http://", "https://")):
                continue
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            if not resolved.exists() or (
                anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved)
            ):
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert broken == []


def test_every_path_the_pages_name_exists() -> None:
    """A backticked repository path (``tooling/cluster/checks.py``, ``.ci/run``) must exist; a glob or
    a placeholder (``Pulumi.<stack>.yaml``) is left alone."""
    stale = []
    for page in PAGES:
        for token in re.findall(r"`([^`\s]+)`", page.read_text()):
            path = token.rstrip(".,:;)").split("::")[0]
            if (
                "/" not in path
                or not path.startswith(_TOP)
                or any(c in path for c in "<>*{}$[]")
                or path.startswith(("render/", "dags/.", "build/"))
            ):
                continue
            if not (ROOT / path).exists():
                stale.append(f"{page.relative_to(ROOT)}: {token}")
    assert stale == []
