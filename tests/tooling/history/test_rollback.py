"""What a rollback refuses, in one line each, and what it deploys: the commit's program, onto the same
state, from a clone of its own."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.tooling.history.helm_records import helm_secret, update
from tooling.history.records import deploys, helm_revision
from tooling.history.rollback import check_target, deleted_claims, generated_anew, roll_back
from tooling.history.sources import Refused

OLD, NEW = "1" * 40, "2" * 40


def _history(*, old_airflow: str = "3.2.2", **first: object) -> list:
    revisions = [
        helm_revision(helm_secret(1, "2026-12-02T00:00:30Z", {"a": 1}, app_version=old_airflow)),
        helm_revision(helm_secret(2, "2026-12-02T00:10:30Z", {"a": 2})),
    ]
    return deploys(
        [
            update(1, "2026-12-02T00:00:00Z", "2026-12-02T00:01:00Z", commit=OLD, **first),
            update(2, "2026-12-02T00:10:00Z", "2026-12-02T00:11:00Z", commit=NEW),
        ],
        revisions,
    )


def test_an_earlier_succeeded_deploy_of_a_commit_is_a_target() -> None:
    assert check_target(_history(), 1).commit == OLD


@pytest.mark.parametrize(
    ("version", "first", "refusal"),
    [
        (9, {}, "the stack has no update 9"),
        (1, {"result": "failed"}, "update 1 is a update that failed"),
        (1, {"kind": "refresh"}, "is a refresh"),
        (1, {"environment": {}}, "recorded no commit"),
        (1, {"environment": {"git.head": OLD, "git.dirty": "true"}}, "ran from uncommitted changes"),
        (2, {}, "update 2 is the stack's current deploy"),
    ],
)
def test_what_cannot_be_rolled_back_to_is_refused(version: int, first: dict, refusal: str) -> None:
    with pytest.raises(Refused, match=refusal):
        check_target(_history(**first), version)


def test_a_deploy_of_an_older_airflow_needs_a_restore() -> None:
    with pytest.raises(
        Refused,
        match=r"ran Airflow 3\.1\.9 and the stack runs 3\.2\.2: .* then roll back with --after-restore",
    ):
        check_target(_history(old_airflow="3.1.9"), 1)
    assert check_target(_history(old_airflow="3.1.9"), 1, after_restore=True).commit == OLD


def _preview(*steps: tuple[str, str]) -> str:
    prefix = "urn:pulumi:dev::airflow::airflow:stack:AirflowStack$airflow:secrets:Credentials$"
    return json.dumps({"steps": [{"op": op, "urn": f"{prefix}{kind}"} for op, kind in steps]})


def test_a_preview_that_makes_a_random_value_anew_is_named() -> None:
    preview = _preview(
        ("create", "random:index/randomId:RandomId::airflow-fernet-key"),
        ("replace", "random:index/randomPassword:RandomPassword::airflow-admin"),
        ("same", "random:index/randomPassword:RandomPassword::airflow-jwt"),
        ("delete", "random:index/randomId:RandomId::airflow-fernet-key-1"),
        ("create", "kubernetes:core/v1:Secret::airflow-fernet"),
    )
    assert generated_anew(preview) == [
        "random:index/randomId:RandomId airflow-fernet-key",
        "random:index/randomPassword:RandomPassword airflow-admin",
    ]
    assert generated_anew(_preview(("update", "kubernetes:core/v1:Secret::x"))) == []


def _git(folder: Path, *args: str) -> str:
    identity = ["-c", "user.name=t", "-c", "user.email=t@localhost"]
    return subprocess.run(
        ["git", *identity, *args], cwd=folder, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A repository with two commits of a project, a .venv and a fake ``pulumi`` that logs its calls."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "requirements.txt").write_text("pulumi==3\n")
    (repo / "__main__.py").write_text("old\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "old")
    (repo / "__main__.py").write_text("new\n")
    _git(repo, "commit", "-qam", "new")
    (repo / ".venv").mkdir()
    return repo


def _fake_pulumi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, preview: str) -> Path:
    """``pulumi`` on PATH: logs each call's folder, program and args; a preview prints ``preview``."""
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.jsonl"
    bin_dir.mkdir()
    (tmp_path / "preview.json").write_text(preview)
    script = bin_dir / "pulumi"
    script.write_text(
        "#!/usr/bin/env python3\n"
        "import json, os, sys\n"
        f"open({str(log)!r}, 'a').write(json.dumps({{'cwd': os.getcwd(), 'args': sys.argv[1:], "
        "'program': open('__main__.py').read(), "
        "'status': os.popen('git status --porcelain').read()}) + '\\n')\n"
        f"print(open({str(tmp_path / 'preview.json')!r}).read() if sys.argv[1] == 'preview' else '')\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def _calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def _target(project: Path, version: int = 1) -> object:
    old = _git(project, "rev-parse", "HEAD~1").strip()
    return deploys([update(version, "2026-12-02T00:00:00Z", "2026-12-02T00:01:00Z", commit=old)], [])[0]


def test_the_rollback_deploys_the_commits_program_from_a_clean_clone(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _fake_pulumi(tmp_path, monkeypatch, _preview(("update", "kubernetes:core/v1:ConfigMap::x")))
    changes = roll_back(project, "dev", _target(project), deploy=True)  # type: ignore[arg-type]
    preview, up = _calls(log)
    assert preview["args"][:2] == ["preview", "--json"]
    assert up["args"][:3] == ["up", "--yes", "--skip-preview"]
    assert "rollback to update 1" in up["args"][up["args"].index("--message") + 1]
    assert up["program"] == "old\n"  # the commit's, not the working tree's
    assert up["status"] == ""  # the shared .venv is no uncommitted change: the deploy records a clean tree
    assert Path(up["cwd"]) != project
    assert not Path(up["cwd"]).exists()  # the clone is gone afterwards
    assert changes == ["update: 1"]
    assert (project / "__main__.py").read_text() == "new\n"  # the working tree untouched


def test_without_yes_it_only_previews(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = _fake_pulumi(tmp_path, monkeypatch, _preview())
    assert roll_back(project, "dev", _target(project), deploy=False) == []  # type: ignore[arg-type]
    assert [call["args"][0] for call in _calls(log)] == ["preview"]


def test_a_rollback_that_would_regenerate_a_secret_deploys_nothing(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _fake_pulumi(
        tmp_path, monkeypatch, _preview(("create", "random:index/randomId:RandomId::airflow-fernet-key"))
    )
    with pytest.raises(
        Refused, match="would generate anew random:index/randomId:RandomId airflow-fernet-key"
    ):
        roll_back(project, "dev", _target(project), deploy=True)  # type: ignore[arg-type]
    assert [call["args"][0] for call in _calls(log)] == ["preview"]


def test_other_requirements_are_refused(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _fake_pulumi(tmp_path, monkeypatch, _preview())
    (project / "requirements.txt").write_text("pulumi==4\n")
    with pytest.raises(Refused, match="pins other requirements than this checkout"):
        roll_back(project, "dev", _target(project), deploy=True)  # type: ignore[arg-type]
    assert not log.exists()


def test_a_commit_this_clone_lacks_is_refused(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_pulumi(tmp_path, monkeypatch, _preview())
    missing = deploys([update(1, "2026-12-02T00:00:00Z", "2026-12-02T00:01:00Z", commit="f" * 40)], [])[0]
    with pytest.raises(Refused, match="commit ffffffffffff is not in this clone"):
        roll_back(project, "dev", missing, deploy=True)


def test_a_rollback_that_would_delete_a_volume_claim_deploys_nothing(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    preview = _preview(("delete", "kubernetes:core/v1:PersistentVolumeClaim::airflow-db-backups"))
    assert deleted_claims(preview) == ["airflow-db-backups"]
    assert deleted_claims(_preview(("update", "kubernetes:core/v1:PersistentVolumeClaim::x"))) == []
    log = _fake_pulumi(tmp_path, monkeypatch, preview)
    with pytest.raises(
        Refused, match=r"would delete the volume claim\(s\) airflow-db-backups and what they hold"
    ):
        roll_back(project, "dev", _target(project), deploy=True)  # type: ignore[arg-type]
    assert [call["args"][0] for call in _calls(log)] == ["preview"]
