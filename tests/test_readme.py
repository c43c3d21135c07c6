"""The README documents every configuration key the program accepts."""

from __future__ import annotations

from pydantic import BaseModel

from components.settings import Resources, SidecarSettings, StackSettings, Workload

from .conftest import ROOT

# Documented as one row each: `{replicas, resources}`, `{resources}` and the resources shape.
_ONE_ROW = (Resources, Workload, SidecarSettings)


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
