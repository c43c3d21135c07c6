"""``python -m tooling.history``: the table a user reads, and one line for what it refuses."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.tooling.history.helm_records import helm_secret, update
from tooling.history.__main__ import main

COMMIT = "c" * 40


def _tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, kubectl_fails: bool = False) -> None:
    """``pulumi`` answering history and outputs, ``kubectl`` answering the Helm records."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    history = [
        update(1, "2026-12-02T00:00:00Z", "2026-12-02T00:01:00Z", commit=COMMIT),
        update(2, "2026-12-02T00:05:00Z", "2026-12-02T00:06:00Z", commit=COMMIT),
    ]
    (tmp_path / "history.json").write_text(json.dumps(history))
    (tmp_path / "outputs.json").write_text(json.dumps({"namespace": "airflow-dev"}))
    secret = helm_secret(3, "2026-12-02T00:00:40Z", {"images": {"airflow": {"repository": "r", "tag": "t"}}})
    (tmp_path / "secrets.json").write_text(json.dumps({"items": [secret]}))
    pulumi = bin_dir / "pulumi"
    pulumi.write_text(
        "#!/bin/sh\n"
        f'case "$2" in history) cat {tmp_path}/history.json;; output) cat {tmp_path}/outputs.json;; esac\n'
    )
    kubectl = bin_dir / "kubectl"
    body = (
        "echo 'error: the server is unreachable' >&2; exit 1"
        if kubectl_fails
        else f"cat {tmp_path}/secrets.json"
    )
    kubectl.write_text(f"#!/bin/sh\n{body}\n")
    for tool in (pulumi, kubectl):
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_the_table_lists_updates_newest_first_with_their_helm_revision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _tools(tmp_path, monkeypatch)
    assert main(["--stack", "dev", "--project", str(tmp_path)]) == 0
    header, newest, oldest = capsys.readouterr().out.splitlines()
    assert header.split()[:2] == ["update", "started"]
    assert newest.split()[0] == "2"
    assert oldest.split()[0] == "1"
    assert "3*" in oldest.split()  # update 1 wrote revision 3
    assert "3" in newest.split()  # update 2 wrote none: revision 3 still runs
    assert "r:t" in newest
    assert COMMIT[:12] in newest


def test_json_gives_each_deploy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _tools(tmp_path, monkeypatch)
    assert main(["--stack", "dev", "--project", str(tmp_path), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [d["version"] for d in listed] == [2, 1]
    assert listed[1]["helm"]["wrote"] is True
    assert listed[1]["helm"]["revision"] == 3


def test_unreadable_helm_records_are_one_line_and_the_history_still_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _tools(tmp_path, monkeypatch, kubectl_fails=True)
    assert main(["--stack", "dev", "--project", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert captured.err.strip() == (
        "history: kubectl cannot read Helm's records in airflow-dev: error: the server is unreachable"
    )
    assert len(captured.out.splitlines()) == 3


def test_a_refused_rollback_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _tools(tmp_path, monkeypatch)
    assert main(["--stack", "dev", "--project", str(tmp_path), "rollback", "2"]) == 1
    assert capsys.readouterr().err.strip() == "history: update 2 is the stack's current deploy"


def test_a_pulumi_without_the_stack_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pulumi").write_text("#!/bin/sh\necho \"error: no stack named 'dev' found\" >&2\nexit 255\n")
    (bin_dir / "pulumi").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert main(["--stack", "dev", "--project", str(tmp_path)]) == 1
    assert (
        capsys.readouterr().err.strip()
        == "history: pulumi stack history failed: error: no stack named 'dev' found"
    )


def test_a_restore_on_a_stack_without_backups_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _tools(tmp_path, monkeypatch)
    assert main(["--stack", "dev", "--project", str(tmp_path), "restore"]) == 1
    assert capsys.readouterr().err.strip() == (
        "history: the stack takes no backups (airflow:backup.enabled): there is no dump to restore"
    )
