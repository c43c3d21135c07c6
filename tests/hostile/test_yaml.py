"""Ordinary YAML that used to end in a traceback: read as the Pulumi CLI reads it, or refused in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.hostile.conftest import GIT_SYNC, Cli, Refused
from tooling.offline import render as render_module
from tooling.offline.trial import THROWAWAY_STACK, project_copy


def test_an_unquoted_date_is_refused_and_a_quoted_one_is_its_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli, refused: Refused
) -> None:
    """The CLI passes an unquoted 2026-11-25 on as '2026-11-25 00:00:00 +0000 UTC': never the ref meant."""
    repo = "      repo: https://github.com/acme/dags.git\n"
    err = refused(THROWAWAY_STACK + GIT_SYNC + repo + "      ref: 2026-11-25\n")
    assert err == (
        "error: Pulumi.test.yaml:7: airflow:dags.gitSync.ref: '2026-11-25' is an unquoted date or time, "
        "which the Pulumi CLI passes on as Go prints a time ('2026-11-25 00:00:00 +0000 UTC'), not as "
        "written; quote it\n"
    )
    (tmp_path / "quoted").mkdir()
    monkeypatch.setattr(
        render_module,
        "ROOT",
        project_copy(tmp_path / "quoted", THROWAWAY_STACK + GIT_SYNC + repo + "      ref: '2026-11-25'\n"),
    )
    code, _, err = cli("--stack", "test", "--out", str(tmp_path / "out"))
    assert code == 0, err
    values = yaml.safe_load((tmp_path / "out" / "releases" / "airflow.yaml").read_text())["values"]
    assert values["dags"]["gitSync"]["ref"] == "2026-11-25"


def test_a_non_string_key_is_an_unknown_key(refused: Refused) -> None:
    err = refused(THROWAWAY_STACK + "  airflow:monitoring: {1: x, true: y}\n")
    assert "airflow:monitoring.1 in Pulumi.test.yaml is not a known key" in err
    assert "airflow:monitoring.true in Pulumi.test.yaml is not a known key" in err


def test_a_key_with_control_or_line_breaking_characters_is_shown_escaped_in_one_line(
    refused: Refused,
) -> None:
    # \x1e and \x85 (NEL) end a line for str.splitlines(); \x1b would start a terminal escape.
    err = refused(THROWAWAY_STACK + '  airflow:admin:\n    "a\\x1eb\\Nc\\ed": x\n')
    assert "airflow:admin.a\\x1eb\\x85c\\x1bd in Pulumi.test.yaml is not a known key" in err
    assert len(err.splitlines()) == 1


def test_a_recursive_alias_is_named(refused: Refused) -> None:
    err = refused(THROWAWAY_STACK + "  airflow:dags: &loop\n    again: *loop\n")
    assert "Pulumi.test.yaml:3: airflow:dags.again: an anchor's value contains itself" in err


def test_a_byte_that_is_not_utf8_is_named(refused: Refused) -> None:
    err = refused(THROWAWAY_STACK.encode() + b"  airflow:namespace: caf\xe9\n")
    assert "error: Pulumi.test.yaml:3: byte" in err
    assert "is not UTF-8" in err


@pytest.mark.parametrize("out", ["file", "file/render"])
def test_out_at_a_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli, out: str
) -> None:
    (tmp_path / "file").write_text("mine\n")
    monkeypatch.setattr(render_module, "ROOT", project_copy(tmp_path, THROWAWAY_STACK))
    code, _, err = cli("--stack", "test", "--out", str(tmp_path / out))
    assert code == 2
    assert err.startswith("error: ")
    assert len(err.splitlines()) == 1
    assert (tmp_path / "file").read_text() == "mine\n"


def test_out_in_an_unwritable_place_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    """/proc refuses new folders even to root (CI runs as root, so chmod would prove nothing)."""
    monkeypatch.setattr(render_module, "ROOT", project_copy(tmp_path, THROWAWAY_STACK))
    code, _, err = cli("--stack", "test", "--out", "/proc/airflow-render")
    assert code == 2
    assert err.startswith("error: cannot write the render to /proc/airflow-render: ")
    assert len(err.splitlines()) == 1
