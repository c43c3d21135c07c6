"""The DAG folder gate the program runs before any resource, and the image's content tag."""

from __future__ import annotations

import os
import re
import socket
import threading
from pathlib import Path

import pytest
import yaml
from pydantic import TypeAdapter

from components.dags.entries import IGNORED_DIRS, IGNORED_SUFFIXES
from components.dags.folder import (
    CONFIGMAP_LIMIT_BYTES,
    DagFolderError,
    content_tag,
    dags_for_delivery,
    load_dag_folder,
)
from components.dags.settings import DagSettings
from tests.conftest import CHART_DIR, ROOT

GOOD_DAG = "from airflow.sdk import DAG\n\nDAG('x', schedule=None, tags=['t'])\n"


def _folder(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = tmp_path / "dags" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return tmp_path


def _delivery(mode: str) -> DagSettings:
    extra = {
        "image": {"image": {"registry": "ghcr.io", "repository": "ghcr.io/acme/dags", "username": "ci"}},
        "git-sync": {"gitSync": {"repo": "https://github.com/acme/dags.git"}},
        "configmap": {},
    }[mode]
    return TypeAdapter(DagSettings).validate_python({"delivery": mode, **extra})


def _error(tmp_path: Path, files: dict[str, str | bytes], mode: str = "configmap") -> str:
    with pytest.raises(DagFolderError) as caught:
        dags_for_delivery(_delivery(mode), _folder(tmp_path, files))
    return str(caught.value)


def test_the_committed_folder_passes_every_mode() -> None:
    for mode in ("image", "git-sync", "configmap"):
        dags = dags_for_delivery(_delivery(mode), ROOT)
        assert dags is not None
        assert {"etl_taskflow.py", "Dockerfile", "requirements.txt"} <= {f.path for f in dags.files}


def test_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    message = _error(tmp_path, {"ok.py": GOOD_DAG, "sub/broken.py": "x = 1\n\ndef f(:\n    pass\n"})
    assert message.startswith("dags/sub/broken.py:3: ")
    assert "ok.py" not in message


def test_every_problem_gets_its_own_line(tmp_path: Path) -> None:
    message = _error(tmp_path, {"a.py": "def (:\n", "b.py": "if True\n"})
    assert [line.split(":")[0] for line in message.splitlines()] == ["dags/a.py", "dags/b.py"]


def test_a_zip_that_airflow_would_parse_is_refused(tmp_path: Path) -> None:
    assert "dags/packaged.zip: Airflow parses .zip files" in _error(tmp_path, {"packaged.zip": b"PK\x03\x04"})


def test_an_oversized_file_is_refused(tmp_path: Path) -> None:
    message = _error(tmp_path, {"huge.py": "x = 1\n" * 100_000})
    assert re.match(r"dags/huge\.py: 600000 bytes, over the 524288-byte limit", message)


def test_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    _folder(tmp_path, {"real.py": GOOD_DAG})
    (tmp_path / "dags" / "link.py").symlink_to(tmp_path / "dags" / "real.py")
    assert "dags/link.py: is a symbolic link" in _error(tmp_path, {})


def test_a_dangling_link_is_refused_not_followed(tmp_path: Path) -> None:
    _folder(tmp_path, {"real.py": GOOD_DAG})
    (tmp_path / "dags" / "gone.py").symlink_to(tmp_path / "nowhere.py")
    assert "dags/gone.py: is a symbolic link" in _error(tmp_path, {})


def test_special_files_are_refused_without_being_opened(tmp_path: Path) -> None:
    """A named pipe would block the read forever; the gate must return, and name each one."""
    _folder(tmp_path, {"real.py": GOOD_DAG})
    os.mkfifo(tmp_path / "dags" / "pipe.py")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "dags" / "sock"))
    messages: list[str] = []
    # A daemon thread: on the old code the read blocks for good, and the test must still end.
    gate = threading.Thread(target=lambda: messages.append(_error(tmp_path, {})), daemon=True)
    gate.start()
    gate.join(timeout=10)
    server.close()
    assert not gate.is_alive(), "the DAG folder gate hung on a special file"
    (message,) = messages
    assert message.splitlines() == [
        "dags/pipe.py: is a named pipe (FIFO); a DAG folder holds only regular files and folders",
        "dags/sock: is a socket; a DAG folder holds only regular files and folders",
    ]


def test_a_dag_file_with_a_utf8_byte_order_mark_is_accepted_as_python_accepts_it(tmp_path: Path) -> None:
    source = b"\xef\xbb\xbf" + GOOD_DAG.encode()
    dags = dags_for_delivery(_delivery("configmap"), _folder(tmp_path, {"bom.py": source}))
    assert dags is not None
    assert [f.path for f in dags.files] == ["bom.py"]


def test_a_configmap_key_over_253_characters_is_refused(tmp_path: Path) -> None:
    deep = "/".join(["d" * 60] * 4) + "/dag.py"  # 4 x 60, 4 "--" and "dag.py": a 254-character key
    message = _error(tmp_path, {deep: GOOD_DAG})
    assert f"dags/{deep}: its ConfigMap key" in message
    assert "has 254 characters, over Kubernetes' 253; shorten the path" in message


def test_an_unreadable_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # chmod 0 does not stop root (CI runs as root), so the read itself is made to fail.
    real_read = Path.read_bytes

    def read_bytes(path: Path) -> bytes:
        if path.name == "locked.py":
            raise PermissionError(13, "Permission denied")
        return real_read(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    assert _error(tmp_path, {"locked.py": GOOD_DAG}) == "dags/locked.py: cannot be read (Permission denied)"


def test_a_non_utf8_dag_file_is_refused(tmp_path: Path) -> None:
    assert "dags/latin.py: not UTF-8 (byte 5)" in _error(tmp_path, {"latin.py": b"x = '\xe9'\n"})


def test_unpinned_requirements_name_the_line(tmp_path: Path) -> None:
    message = _error(
        tmp_path,
        {
            "Dockerfile": "FROM apache/airflow:3.2.2\n",
            "requirements.txt": "# ok\npendulum==3.1.0\nrequests>=2\n",
        },
        mode="image",
    )
    assert message == (
        "dags/requirements.txt:3: 'requests>=2' is not pinned; write name==version (e.g. pendulum==3.1.0)"
    )


def test_image_delivery_needs_the_build_files(tmp_path: Path) -> None:
    message = _error(tmp_path, {"a.py": GOOD_DAG}, mode="image")
    assert "dags/Dockerfile: missing" in message
    assert "dags/requirements.txt: missing" in message


def test_a_missing_folder_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(DagFolderError, match=r"airflow:dags.folder: 'dags' is not a folder"):
        dags_for_delivery(_delivery("configmap"), tmp_path)


def test_git_sync_needs_no_local_folder(tmp_path: Path) -> None:
    assert dags_for_delivery(_delivery("git-sync"), tmp_path) is None


def test_configmap_over_one_mebibyte_names_total_and_largest_files(tmp_path: Path) -> None:
    files = {f"part{i}.py": f"# {i}\n" + "x = 1\n" * (70_000 + i) for i in range(3)}
    message = _error(tmp_path, files)
    total = sum(len(name) + len(text) for name, text in files.items())
    assert total > CONFIGMAP_LIMIT_BYTES
    sizes = [f"part{i}.py ({len(files[f'part{i}.py'])} bytes)" for i in (2, 1, 0)]
    assert message == (
        f"dags: {total} bytes of DAG files, over the 1048576-byte ConfigMap limit; largest: "
        f"{', '.join(sizes)}. Use airflow:dags.delivery 'image' or 'git-bundle' instead"
    )


@pytest.mark.parametrize("mode", ["configmap", "git-sync"])
def test_packages_without_an_image_to_carry_them_are_refused(tmp_path: Path, mode: str) -> None:
    message = _error(tmp_path, {"a.py": GOOD_DAG, "requirements.txt": "pendulum==3.1.0\n"}, mode)
    assert message == (
        "dags/requirements.txt: lists 1 package(s), which reach the pods only in an image: set "
        "airflow:dags.packagesImage {registry, repository, username} (and airflow:registryPassword) so the "
        "program builds one, use airflow:dags.delivery 'image', or empty the file"
    )


def test_with_a_packages_image_the_requirements_are_taken(tmp_path: Path) -> None:
    settings = TypeAdapter(DagSettings).validate_python(
        {
            "delivery": "configmap",
            "packagesImage": {"registry": "ghcr.io", "repository": "ghcr.io/acme/p", "username": "ci"},
        }
    )
    dags = dags_for_delivery(
        settings, _folder(tmp_path, {"a.py": GOOD_DAG, "requirements.txt": "pendulum==3.1.0\n"})
    )
    assert dags is not None
    assert dags.requirements == ("pendulum==3.1.0",)


def test_a_packages_image_without_the_folder_here_is_refused(tmp_path: Path) -> None:
    settings = TypeAdapter(DagSettings).validate_python(
        {
            "delivery": "git-bundle",
            "gitBundle": {"repo": "https://github.com/acme/dags.git"},
            "packagesImage": {"registry": "ghcr.io", "repository": "ghcr.io/acme/p", "username": "ci"},
        }
    )
    with pytest.raises(
        DagFolderError, match=r"airflow:dags\.packagesImage builds the packages of dags/requirements\.txt"
    ):
        dags_for_delivery(settings, tmp_path)


def test_configmap_keys_that_would_collide_are_refused(tmp_path: Path) -> None:
    message = _error(tmp_path, {"team/etl.py": GOOD_DAG, "team--etl.py": GOOD_DAG})
    assert len(message.splitlines()) == 1
    assert "maps to the same ConfigMap key as" in message
    assert {"dags/team/etl.py", "dags/team--etl.py"} <= set(re.findall(r"dags/\S+\.py", message))


def test_configmap_leaves_build_files_out(tmp_path: Path) -> None:
    _folder(tmp_path, {"a.py": GOOD_DAG, "Dockerfile": "FROM x\n", "requirements.txt": "# none\n"})
    dags = load_dag_folder(tmp_path, "dags")
    assert [f.path for f in dags.delivered_by_configmap()] == ["a.py"]


def test_caches_are_neither_delivered_nor_hashed(tmp_path: Path) -> None:
    _folder(tmp_path, {"a.py": GOOD_DAG})
    before = content_tag(load_dag_folder(tmp_path, "dags"))
    _folder(tmp_path, {"__pycache__/a.cpython-311.pyc": b"\x00garbage", "b.pyc": b"\x00"})
    after = load_dag_folder(tmp_path, "dags")
    assert [f.path for f in after.files] == ["a.py"]
    assert content_tag(after) == before


@pytest.mark.parametrize(
    ("change", "same"),
    [
        ({"a.py": GOOD_DAG}, True),
        ({"a.py": GOOD_DAG + "# edited\n"}, False),
        ({"a.py": None, "renamed.py": GOOD_DAG}, False),
        ({"Dockerfile": "FROM apache/airflow:3.2.1\n"}, False),
        ({"requirements.txt": "pendulum==3.1.0\n"}, False),
    ],
)
def test_the_tag_is_a_hash_of_exactly_what_goes_into_the_image(
    tmp_path: Path, change: dict[str, str | None], same: bool
) -> None:
    base = {"a.py": GOOD_DAG, "Dockerfile": "FROM apache/airflow:3.2.2\n", "requirements.txt": ""}
    first = content_tag(load_dag_folder(_folder(tmp_path / "one", base), "dags"))
    files = {name: text for name, text in {**base, **change}.items() if text is not None}
    second = content_tag(load_dag_folder(_folder(tmp_path / "two", files), "dags"))
    assert re.fullmatch(r"dags-[0-9a-f]{20}", first)
    assert (first == second) is same


def _dockerignore_patterns() -> set[str]:
    lines = (ROOT / "dags" / ".dockerignore").read_text().splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def test_dockerignore_leaves_out_what_the_hash_leaves_out() -> None:
    patterns = _dockerignore_patterns()
    assert {"Dockerfile", ".dockerignore"} <= patterns
    assert {f"**/{name}" for name in IGNORED_DIRS} <= patterns
    assert {f"**/*{suffix}" for suffix in IGNORED_SUFFIXES} <= patterns


def test_every_file_the_dockerfile_copies_is_in_the_build_context() -> None:
    # Found by the first real `pulumi up`: .dockerignore left out requirements.txt, so every build
    # stopped at "COPY failed: file not found in build context or excluded by .dockerignore".
    patterns = _dockerignore_patterns()
    dockerfile = (ROOT / "dags" / "Dockerfile").read_text()
    copied = {
        source
        for line in re.findall(r"^COPY (.+)$", dockerfile, re.MULTILINE)
        for source in [word for word in line.split() if not word.startswith("--")][:-1]
    }
    assert "requirements.txt" in copied
    assert copied & patterns == set()
    assert all((ROOT / "dags" / source).exists() for source in copied)


def test_the_image_builds_on_the_airflow_the_chart_deploys() -> None:
    chart_tag = yaml.safe_load((CHART_DIR / "values.yaml").read_text())["defaultAirflowTag"]
    dockerfile = (ROOT / "dags" / "Dockerfile").read_text()
    assert re.findall(r"^FROM (\S+)$", dockerfile, re.MULTILINE) == [f"apache/airflow:{chart_tag}"]
    assert f'"apache-airflow=={chart_tag}"' in dockerfile
