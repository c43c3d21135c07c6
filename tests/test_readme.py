"""The README documents every configuration key the program accepts."""

from __future__ import annotations

from pydantic import BaseModel

from components.model import Placement, PodSettings, Resources, SidecarSettings, Workload
from components.settings import StackSettings
from tests.conftest import ROOT

# Documented as one row each: `{replicas, resources, placement}`, `{resources}`, `{resources,
# placement}`, and the resources and placement shapes.
_ONE_ROW = (Resources, Workload, SidecarSettings, PodSettings, Placement)


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name)
        keys.append(key)
        nested = field.annotation
        if isinstance(nested, type) and issubclass(nested, BaseModel) and nested not in _ONE_ROW:
            keys += _keys(nested, key + ".")
    return keys


def test_every_config_key_is_in_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text()
    keys = _keys(StackSettings)
    assert {"database.mode", "admin.email", "scheduler"} <= set(keys)
    undocumented = [key for key in keys if f"`{key}`" not in readme]
    assert undocumented == []


def test_every_alert_and_dashboard_panel_is_in_the_readme() -> None:
    from components.observability.alerts import alert_rules
    from components.observability.dashboards import dashboards, queries
    from components.observability.settings import AlertSettings

    readme = (ROOT / "README.md").read_text()
    alerts = [rule["alert"] for rule in alert_rules(AlertSettings(), "airflow")[0]["rules"]]
    panels = [title for model in dashboards().values() for title, _ in queries(model)]
    assert len(alerts) == 9
    assert [name for name in alerts if f"`{name}`" not in readme] == []
    assert [title for title in panels if f"| {title} |" not in readme] == []


def test_every_example_dag_is_described() -> None:
    readme = (ROOT / "README.md").read_text()
    dags = sorted(p.name for p in (ROOT / "dags").glob("*.py"))
    assert len(dags) >= 4
    assert [name for name in dags if f"`{name}`" not in readme] == []


def test_every_module_of_the_package_is_in_the_module_map() -> None:
    readme = (ROOT / "README.md").read_text()
    module_map = readme[readme.index("## How it is built") :]
    modules = sorted(
        p.relative_to(ROOT).as_posix()
        for package in ("components", "tooling")
        for p in (ROOT / package).rglob("*.py")
        if p.name != "__init__.py"
    )
    assert len(modules) > 40
    assert [m for m in modules if m.rsplit("/", 1)[-1] not in module_map] == []
