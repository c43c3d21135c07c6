"""The shipped stack files hold to invariants only: users edit them (the fork trial in .ci/run edits every
value), so no test may lean on what they say, only on what must hold whatever they say."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.config import raw_from_config
from components.validation import parse_settings
from tests.conftest import ROOT
from tooling.offline.render import fill_missing_secrets, load_stack_config

SHIPPED = sorted(ROOT.glob("Pulumi.*.yaml"))


def _stack(path: Path) -> str:
    return path.name.removeprefix("Pulumi.").removesuffix(".yaml")


def test_there_is_a_stack_to_ship() -> None:
    assert SHIPPED


@pytest.mark.parametrize("path", SHIPPED, ids=_stack)
def test_each_shipped_stack_is_valid_as_pulumi_up_reads_it(path: Path) -> None:
    """The model holds the invariants (task logs kept by protected stacks, credentials per DAG delivery,
    one database source); the secrets an operator sets per stack get the render's placeholders."""
    config, secret_keys = load_stack_config(path)
    fill_missing_secrets(_stack(path), config, secret_keys)
    settings = parse_settings(raw_from_config(config), source=path.name)
    assert settings.namespace
