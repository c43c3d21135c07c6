"""The offline render: its files, its determinism, and that no secret value reaches them."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, project_with_test_stack
from tests.helpers import generated_values
from tooling.offline import render as render_module
from tooling.offline.diff import changed_paths
from tooling.offline.render import load_stack_config, render
from tooling.offline.stand_ins import example_keys
from tooling.offline.trial import IMAGE_STACK_YAML, THROWAWAY_STACK, project_copy, render_before_and_after


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_renders_by_two_processes_are_byte_identical(tmp_path: Path) -> None:
    """Each process resolves the program's outputs in its own order (and hashes strings with its own
    seed): a render must not carry that order into its files, as the offline stand-ins' lines once did."""
    for run, seed in (("a", "1"), ("b", "2")):
        subprocess.run(
            [sys.executable, "-m", "tooling.offline.render", "--stack", "prod", "--out", str(tmp_path / run)],
            check=True, capture_output=True, cwd=ROOT, env=os.environ | {"PYTHONHASHSEED": seed},
        )  # fmt: skip
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_two_renders_are_byte_identical(tmp_path: Path, stack: str) -> None:
    render(stack, tmp_path / "a")
    render(stack, tmp_path / "b")
    first, second = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert first == second
    assert "releases/airflow.yaml" in first
    assert "resources.yaml" in first
    assert any(name.startswith("manifests/namespace-") for name in first)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_generated_secret_value_appears_in_any_file(tmp_path: Path, stack: str) -> None:
    recording, summary = render(stack, tmp_path)
    texts = [p.read_text() for p in tmp_path.rglob("*.yaml")] + [summary]
    for value in generated_values(recording):
        assert all(value not in text for text in texts)
    fernet = yaml.safe_load((tmp_path / "manifests" / "secret-airflow-fernet.yaml").read_text())
    assert fernet["stringData"] == {"fernet-key": "[secret]"}
    assert yaml.safe_load((tmp_path / "outputs.yaml").read_text())["adminPassword"] == "[secret]"


def test_release_file_holds_the_exact_values(tmp_path: Path) -> None:
    out = tmp_path / "out"
    render("prod", out, project_dir=project_with_test_stack(tmp_path, "prod"))
    release = yaml.safe_load((out / "releases" / "airflow.yaml").read_text())
    assert set(release) == {"chart", "version", "repository", "namespace", "values"}
    assert release["values"]["scheduler"]["replicas"] == 2  # an int, not the 2.0 gRPC carries
    assert release["values"]["fernetKeySecretName"] == "airflow-fernet"


def test_resources_file_lists_parents_dependencies_protection_and_secrets(tmp_path: Path) -> None:
    out = tmp_path / "out"
    render("prod", out, project_dir=project_with_test_stack(tmp_path, "prod"))
    rows = {(r["type"], r["name"]): r for r in yaml.safe_load((out / "resources.yaml").read_text())}
    fernet = rows[("kubernetes:core/v1:Secret", "airflow-fernet")]
    assert fernet["protect"] is True
    assert fernet["parent"] == "airflow:components:AirflowSecrets::airflow"
    assert "random:index/randomId:RandomId::airflow-fernet-key" in fernet["dependencies"]
    assert fernet["secretOutputs"] == ["data", "stringData"]
    release = rows[("kubernetes:helm.sh/v3:Release", "airflow-release")]
    assert "kubernetes:core/v1:Secret::airflow-jwt" in release["dependencies"]


def test_secure_config_renders_as_secret(tmp_path: Path) -> None:
    project = project_copy(
        tmp_path,
        THROWAWAY_STACK + "  airflow:database: {mode: external}\n"
        "  airflow:metadataConnection:\n"
        "    secure: v1:AAAABBBBCCCC\n",
    )
    out = tmp_path / "out"
    render("test", out, project_dir=project)
    texts = "".join(p.read_text() for p in out.rglob("*.yaml"))
    assert "offline-render-placeholder" not in texts  # the missing-secret placeholder
    assert "offline-render.invalid" not in texts  # the encrypted connection's
    assert "v1:AAAABBBBCCCC" not in texts
    manifest = yaml.safe_load((out / "manifests" / "secret-airflow-metadata-db.yaml").read_text())
    assert manifest["stringData"] == {"connection": "[secret]"}


def test_render_removes_files_of_an_earlier_render(tmp_path: Path) -> None:
    stale = tmp_path / "manifests" / "secret-gone.yaml"
    stale.parent.mkdir(parents=True)
    stale.write_text("old")
    (tmp_path / "stand-ins.yaml").write_text("{}\n")
    render("dev", tmp_path)
    assert not stale.exists()


@pytest.mark.parametrize(
    ("stack_yaml", "message"),
    [
        (
            "config:\n  airflow:executor: Local\n",
            "error: airflow:executor in Pulumi.test.yaml: must be one of",
        ),
        (
            "config:\n  airflow:workers: {replicas: 0}\n",
            "error: airflow:workers.replicas in Pulumi.test.yaml",
        ),
        ("config: [unclosed\n", "error: Pulumi.test.yaml is not valid YAML"),
        (
            "- airflow:executor: CeleryExecutor\n",
            "error: Pulumi.test.yaml must be a mapping with a 'config' key",
        ),
    ],
)
def test_cli_reports_bad_config_in_one_line_without_traceback(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    stack_yaml: str,
    message: str,
) -> None:
    monkeypatch.setattr(render_module, "ROOT", project_copy(tmp_path, stack_yaml))
    assert render_module.main(["--stack", "test", "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(message)
    assert "Traceback" not in captured.err
    assert captured.out == ""
    assert not (tmp_path / "out").exists()


def test_cli_names_the_missing_stack_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A project of its own: the shipped stack files are the user's to add, rename and remove.
    project = project_copy(tmp_path, "config: {}\n", stack="alpha")
    (project / "Pulumi.beta.yaml").write_text("config: {}\n")
    monkeypatch.setattr(render_module, "ROOT", project)
    assert render_module.main(["--stack", "gamma", "--out", str(tmp_path / "out")]) == 2
    assert (
        "Pulumi.gamma.yaml not found; stacks here: Pulumi.alpha.yaml, Pulumi.beta.yaml"
        in capsys.readouterr().err
    )


def _key_paths(before: Any, after: Any) -> list[str]:
    return [path for path, _, _ in changed_paths(before, after)]


_DELIVERY = {
    "image": IMAGE_STACK_YAML,
    "configmap": THROWAWAY_STACK + "  airflow:dags: {delivery: configmap}\n",
    "git-sync": THROWAWAY_STACK
    + "  airflow:dags:\n    delivery: git-sync\n    gitSync: {repo: 'https://github.com/acme/dags.git'}\n",
    "git-bundle": THROWAWAY_STACK
    + "  airflow:dags:\n    delivery: git-bundle\n    gitBundle: {repo: 'https://github.com/acme/dags.git'}\n",
}


def _render_before_and_after_one_dag_edit(tmp_path: Path, delivery: str) -> tuple[Path, Path, set[str]]:
    render_before_and_after(tmp_path, _DELIVERY[delivery], "dag")
    before, after = _tree(tmp_path / "before"), _tree(tmp_path / "after")
    changed = {name for name in set(before) | set(after) if before.get(name) != after.get(name)}
    # SHA256SUMS lists every file's hash, so it changes with any of them; it is checked on its own.
    if changed:
        assert "SHA256SUMS" in changed
    return tmp_path / "before", tmp_path / "after", changed - {"SHA256SUMS"}


def _yaml(folder: Path, name: str) -> Any:
    return yaml.safe_load((folder / name).read_text())


def test_one_dag_edit_in_image_mode_changes_only_the_image_reference(tmp_path: Path) -> None:
    before, after, changed = _render_before_and_after_one_dag_edit(tmp_path, "image")
    assert changed == {"releases/airflow.yaml", "images/airflow-dags-image.yaml", "outputs.yaml"}
    paths = _key_paths(_yaml(before, "releases/airflow.yaml"), _yaml(after, "releases/airflow.yaml"))
    # Task pods run the scheduler's image by the same digest (release/values.py, _task_pods_by_digest).
    assert paths == [
        "values.config.kubernetes_executor.worker_container_tag",
        "values.images.airflow.digest",
        "values.images.airflow.tag",
    ]
    assert _key_paths(
        _yaml(before, "images/airflow-dags-image.yaml"), _yaml(after, "images/airflow-dags-image.yaml")
    ) == ["imageName"]
    assert _key_paths(_yaml(before, "outputs.yaml"), _yaml(after, "outputs.yaml")) == ["dagImage"]


def test_one_dag_edit_in_configmap_mode_changes_only_that_configmap_data(tmp_path: Path) -> None:
    before, after, changed = _render_before_and_after_one_dag_edit(tmp_path, "configmap")
    name = "manifests/configmap-airflow-dags.yaml"
    assert changed == {name}
    assert _key_paths(_yaml(before, name), _yaml(after, name)) == ["data.etl_taskflow.py"]


@pytest.mark.parametrize("delivery", ["git-sync", "git-bundle"])
def test_one_dag_edit_in_a_git_mode_changes_nothing(tmp_path: Path, delivery: str) -> None:
    _, _, changed = _render_before_and_after_one_dag_edit(tmp_path, delivery)
    assert changed == set()


def test_the_made_up_image_digest_is_labelled_where_it_lands(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _, summary = render("test", out, project_dir=project_copy(tmp_path, IMAGE_STACK_YAML))
    label = "the pushed image's digest, known only after the push"
    release = (out / "releases" / "airflow.yaml").read_text()
    assert f"# offline stand-in at values.images.airflow.digest: {label}\n" in release
    assert (
        f"# offline stand-in at values.config.kubernetes_executor.worker_container_tag: {label}\n" in release
    )
    assert (out / "outputs.yaml").read_text().startswith(f"# offline stand-in at dagImage: {label}\n")
    assert "made up offline (marked '# offline stand-in' in the files): the DAG image digest" in summary


def test_files_without_made_up_values_carry_no_label(tmp_path: Path) -> None:
    render("test", tmp_path / "out", project_dir=project_copy(tmp_path, THROWAWAY_STACK))
    assert not [p for p in (tmp_path / "out").rglob("*.yaml") if "offline stand-in" in p.read_text()]


@pytest.mark.parametrize(
    ("bucket", "flagged"), [("your-org-airflow-logs", True), ("acme-airflow-logs", False)]
)
def test_example_values_in_the_stack_file_are_flagged(tmp_path: Path, bucket: str, flagged: bool) -> None:
    stack = (
        "config:\n  airflow:remoteLogs:\n"
        f"    bucket: {bucket}\n    roleArn: arn:aws:iam::111122223333:role/logs\n"
    )
    _, summary = render("test", tmp_path / "out", project_dir=project_copy(tmp_path, stack))
    line = "example values in Pulumi.test.yaml, replace them before 'pulumi up': airflow:remoteLogs.bucket"
    assert (line in summary.splitlines()) is flagged


def test_stand_ins_file_lists_everything_a_reviewer_must_not_take_for_real(tmp_path: Path) -> None:
    stack = IMAGE_STACK_YAML + "  airflow:admin: {email: ops@your-org.io}\n"
    render("test", tmp_path / "out", project_dir=project_copy(tmp_path, stack))
    stand_ins = yaml.safe_load((tmp_path / "out" / "stand-ins.yaml").read_text())
    assert stand_ins == {
        "madeUpOffline": {
            "outputs.yaml": ["dagImage: the pushed image's digest, known only after the push"],
            "releases/airflow.yaml": [
                "values.config.kubernetes_executor.worker_container_tag: the pushed image's digest, known "
                "only after the push",
                "values.images.airflow.digest: the pushed image's digest, known only after the push",
            ],
        },
        "exampleValues": ["airflow:admin.email"],
        "secretPlaceholders": ["airflow:registryPassword"],
    }


def test_a_value_that_only_looks_like_json_is_flagged_not_a_crash(tmp_path: Path) -> None:
    stack = THROWAWAY_STACK + "  airflow:admin: {email: '{your-org}@acme.io'}\n  airflow:note: '{not json'\n"
    assert example_keys(load_stack_config(project_copy(tmp_path, stack) / "Pulumi.test.yaml")[0]) == [
        "airflow:admin.email"
    ]


def test_a_secure_connection_behind_pgbouncer_renders(tmp_path: Path) -> None:
    """The placeholder for an encrypted URL must be one PgBouncer's config can be built from."""
    stack = (
        THROWAWAY_STACK + "  airflow:database: {mode: external, pgbouncer: {enabled: true}}\n"
        "  airflow:metadataConnection:\n    secure: v1:AAAABBBBCCCC\n"
    )
    out = tmp_path / "out"
    render("test", out, project_dir=project_copy(tmp_path, stack))
    config = yaml.safe_load((out / "manifests" / "secret-airflow-pgbouncer-config.yaml").read_text())
    assert config["stringData"] == {"pgbouncer.ini": "[secret]", "users.txt": "[secret]"}


def test_an_encrypted_deploy_key_in_the_stack_file_renders_as_a_secret(tmp_path: Path) -> None:
    """The render cannot decrypt ``secure:`` values; its stand-in must still pass the program's checks."""
    stack = THROWAWAY_STACK + (
        "  airflow:dags:\n    delivery: git-bundle\n    gitBundle:\n"
        "      repo: git@github.com:acme/dags.git\n"
        "      knownHosts: github.com ssh-ed25519 AAAAC3Nza\n"
        "  airflow:gitSshKey:\n    secure: v1:AAAAbm90IGEgcmVhbCBjaXBoZXJ0ZXh0\n"
    )
    out = tmp_path / "out"
    render("test", out, project_dir=project_copy(tmp_path, stack))
    connection = yaml.safe_load((out / "manifests" / "secret-airflow-git-connection.yaml").read_text())
    assert connection["stringData"] == {"connection": "[secret]"}


def test_sha256sums_lists_every_other_file_of_the_render_with_its_hash(tmp_path: Path) -> None:
    """What `sha256sum -c SHA256SUMS` checks in the render folder, and what the next render trusts."""
    render_before_and_after(tmp_path, _DELIVERY["configmap"], "none")
    out = tmp_path / "after"
    listed = dict(line.split("  ", 1)[::-1] for line in (out / "SHA256SUMS").read_text().splitlines())
    files = {
        p.relative_to(out).as_posix(): p for p in out.rglob("*") if p.is_file() and p.name != "SHA256SUMS"
    }
    assert set(listed) == set(files)
    assert all(
        hashlib.sha256(files[name].read_bytes()).hexdigest() == digest for name, digest in listed.items()
    )
