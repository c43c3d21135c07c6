"""The stored connection and variable: what reads back passes, what an upgrade or rotation could lose
fails with a line naming the step."""

from __future__ import annotations

import io
import json
import urllib.error
from typing import Any

import pytest

from tooling.cluster.stored import StoredValues
from tooling.cluster.timeline import CheckFailed


class FakeApi:
    """Airflow's connections and variables endpoints, in memory."""

    def __init__(self) -> None:
        self.connections: dict[str, dict[str, Any]] = {}
        self.variables: dict[str, dict[str, Any]] = {}
        self.unreadable = False

    def call(self, method: str, path: str, body: Any = None) -> Any:
        kind, *name = path.removeprefix("/api/v2/").split("/")  # "connections" or "connections/ID"
        table = self.connections if kind == "connections" else self.variables
        if method == "POST":
            table[body.get("connection_id") or body["key"]] = dict(body)
            return body
        if self.unreadable:
            raise urllib.error.HTTPError(path, 500, "Internal Server Error", {}, io.BytesIO())  # type: ignore[arg-type]
        return table[name[0]]


def test_values_stored_read_back() -> None:
    api = FakeApi()
    stored = StoredValues(api, "probe")  # type: ignore[arg-type]
    stored.reads_back("storing")
    assert json.loads(api.connections["probe"]["extra"])["probe"] == stored.extra
    assert api.variables["probe"]["value"] == stored.value


def test_a_changed_extra_fails_naming_the_step() -> None:
    api = FakeApi()
    stored = StoredValues(api, "probe")  # type: ignore[arg-type]
    api.connections["probe"]["extra"] = json.dumps({"probe": "other"})
    with pytest.raises(CheckFailed, match="after the upgrade: the stored connection's extra"):
        stored.reads_back("the upgrade")


def test_a_changed_variable_fails() -> None:
    api = FakeApi()
    stored = StoredValues(api, "probe")  # type: ignore[arg-type]
    api.variables["probe"]["value"] = "other"
    with pytest.raises(CheckFailed, match="stored variable does not read back"):
        stored.reads_back("the Job")


def test_values_that_cannot_be_decrypted_fail_in_one_line() -> None:
    api = FakeApi()
    stored = StoredValues(api, "probe")  # type: ignore[arg-type]
    api.unreadable = True
    with pytest.raises(CheckFailed, match=r"after dropping the old key: .* cannot be read \(HTTP Error 500"):
        stored.reads_back("dropping the old key")


def test_each_probe_stores_its_own_random_values() -> None:
    api = FakeApi()
    one, two = StoredValues(api, "one"), StoredValues(api, "two")  # type: ignore[arg-type]
    assert one.extra != two.extra
    assert one.value != two.value
