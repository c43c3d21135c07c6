"""The render diff on real before/after renders: a DAG edit, a config change, and no change."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import generated_values
from tooling.offline import diff as render_diff
from tooling.offline.trial import IMAGE_STACK_YAML, THROWAWAY_STACK, project_copy, render_before_and_after


def _renders(tmp_path: Path, stack_yaml: str, edit: str) -> tuple[Path, Path, list[str]]:
    first, second = render_before_and_after(tmp_path, stack_yaml, edit)
    return tmp_path / "before", tmp_path / "after", generated_values(first) + generated_values(second)


def _cli(before: Path, after: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = render_diff.main([str(before), str(after), "--title", "test", *args])
    return code, capsys.readouterr().out


def test_a_dag_edit_in_image_mode_shows_the_new_tag_and_digest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before, after, _ = _renders(tmp_path, IMAGE_STACK_YAML, "dag")
    code, out = _cli(before, after, capsys)
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "test: 5 change(s)"
    # Task pods follow the new digest too (release/values.py, _task_pods_by_digest).
    assert [line.split(":")[1].strip() for line in lines if line.startswith("  ~ airflow:")] == [
        "config.kubernetes_executor.worker_container_tag",
        "images.airflow.digest",
        "images.airflow.tag",
    ]
    tag_line = next(line for line in lines if "images.airflow.tag" in line)
    assert tag_line.count("dags-") == 2
    assert any(
        line.startswith("  ~ airflow-dags-image: imageName: ghcr.io/acme/airflow-dags:dags-")
        for line in lines
    )
    assert any(line.startswith("  ~ dagImage: ghcr.io/acme/airflow-dags@sha256:") for line in lines)
    assert "manifests:" not in out
    assert "resources:" not in out


def test_an_executor_change_shows_values_new_secrets_by_name_and_resources(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before, after, secrets = _renders(
        tmp_path,
        THROWAWAY_STACK + "  airflow:dags: {delivery: configmap}\n",
        "executor",
    )
    code, out = _cli(before, after, capsys)
    assert code == 1
    assert "  ~ airflow: executor: KubernetesExecutor -> CeleryExecutor,KubernetesExecutor" in out
    assert "  ~ airflow: redis.enabled: false -> true" in out
    assert "  + secret-airflow-broker" in out
    assert "  + secret-airflow-redis-auth" in out
    assert "  + random:index/randomPassword:RandomPassword::airflow-redis-password" in out
    for value in secrets:
        assert value not in out


def test_no_change_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before, after, _ = _renders(tmp_path, IMAGE_STACK_YAML, "none")
    assert _cli(before, after, capsys) == (0, "test: no change\n")
    assert _cli(before, after, capsys, "--markdown") == (0, "### test\n\nNo change.\n\n")


def test_markdown_puts_each_section_in_a_diff_block(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before, after, _ = _renders(tmp_path, IMAGE_STACK_YAML, "dag")
    code, out = _cli(before, after, capsys, "--markdown")
    assert code == 1
    assert out.startswith(
        "### test\n\n**release values**\n\n```diff\n"
        "~ airflow: config.kubernetes_executor.worker_container_tag: dags-"
    )
    assert out.count("```diff") == 3  # release values, images, outputs


def test_a_folder_that_is_not_a_render_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert render_diff.main([str(tmp_path), str(tmp_path)]) == 2
    assert "is not a render: it has no resources.yaml" in capsys.readouterr().err


def test_a_damaged_render_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "resources.yaml").write_text("[]\n")
    (tmp_path / "outputs.yaml").write_text("key: [unclosed\n")
    assert render_diff.main([str(tmp_path), str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path / 'outputs.yaml'} is not valid YAML")
    assert "Traceback" not in err


GIT_BUNDLE_STACK = THROWAWAY_STACK + (
    "  airflow:dags: {delivery: git-bundle, gitBundle: {repo: 'https://github.com/acme/dags.git'}}\n"
)


def test_a_dag_edit_in_git_bundle_mode_is_no_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before, after, _ = _renders(tmp_path, GIT_BUNDLE_STACK, "dag")
    assert _cli(before, after, capsys) == (0, "test: no change\n")


def test_moving_from_git_sync_to_a_git_bundle_shows_the_bundle_and_its_secret_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tooling.offline.render import render

    repo = "{repo: 'git@github.com:acme/dags.git', knownHosts: 'github.com ssh-ed25519 AAAAC3Nza'}"
    stacks = {
        "before": THROWAWAY_STACK + f"  airflow:dags: {{delivery: git-sync, gitSync: {repo}}}\n",
        "after": THROWAWAY_STACK + f"  airflow:dags: {{delivery: git-bundle, gitBundle: {repo}}}\n",
    }
    # The deploy key is not in the files: the render stands in a placeholder, a secret value.
    for name, stack in stacks.items():
        (tmp_path / name).mkdir()
        render("test", tmp_path / name / "out", project_dir=project_copy(tmp_path / name, stack))
    code, out = _cli(tmp_path / "before" / "out", tmp_path / "after" / "out", capsys)
    assert code == 1
    assert "  + secret-airflow-git-connection" in out
    assert "  + configmap-airflow-git-known-hosts" in out
    assert "  - secret-airflow-git-ssh" in out
    assert "  - airflow: dags.gitSync.enabled: true" in out
    # Entries of a list of objects are compared key by key, so the bundle's repo and ref are shown.
    assert (
        "  ~ airflow: dagProcessor.dagBundleConfigList[0].classpath: "
        "airflow.dag_processing.bundles.local.LocalDagBundle -> "
        "airflow.providers.git.bundles.git.GitDagBundle"
    ) in out
    assert "  + airflow: dagProcessor.dagBundleConfigList[0].kwargs.tracking_ref: main" in out
    assert (
        "  + airflow: dagProcessor.dagBundleConfigList[0].kwargs.repo_url: git@github.com:acme/dags.git"
        in out
    )
    assert "  + airflow: dagProcessor.env: " in out
    assert "OPENSSH PRIVATE KEY" not in out  # the render's stand-in deploy key, a secret value
