"""The chart's own verdict at install time: no deprecated value in any variant, no warning in prod."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.conftest import Deployment, install_notes


def _notes(deployments: dict[str, Deployment]) -> dict[str, str]:
    with ThreadPoolExecutor(4) as pool:
        notes = pool.map(lambda d: install_notes(d.values, namespace=d.namespace), deployments.values())
        return dict(zip(deployments, notes, strict=True))


def test_no_variant_uses_a_value_the_chart_deprecates(deployments: dict[str, Deployment]) -> None:
    notes = _notes(deployments)
    deprecated = {name: text for name, text in notes.items() if "DEPRECATION" in text.upper()}
    assert deprecated == {}


def test_prod_installs_without_a_single_warning(deployments: dict[str, Deployment]) -> None:
    prod = deployments["prod"]
    assert "WARNING" not in install_notes(prod.values, namespace=prod.namespace).upper()
