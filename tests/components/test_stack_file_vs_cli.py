"""One reader: the render's reading of a stack file equals the real Pulumi CLI's, on a corpus of odd
files. The CLI is the one the cluster test builds (``bash .ci/toolchain``); ``.ci/run`` builds it before
the tests and names it in PULUMI_CLI, so there this test runs, never skips."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from components.stack_file import StackFileError, engine_config, read_stack_file

DEFAULT_CLI = Path(os.environ.get("AIRFLOW_STACK_CACHE", "/var/cache/airflow-stack")) / "bin" / "pulumi"

# Each a stack file's config section; both readers must see the same values, or both refuse it.
SAME = {
    "yaml 1.1 words at the top": "  airflow:a: off\n  airflow:b: yes\n  airflow:c: y\n  airflow:d: True\n"
    "  airflow:e: NO\n  airflow:f: ~\n  airflow:g:\n  airflow:h: null\n",
    "numbers at the top": "  airflow:a: 010\n  airflow:b: 0x1F\n  airflow:c: 1_000\n  airflow:d: 1e3\n"
    "  airflow:e: 0o17\n  airflow:f: +1\n  airflow:g: 99999999999999999999\n  airflow:h: 1.50\n"
    "  airflow:i: -010\n  airflow:j: 0b101\n  airflow:k: .5\n  airflow:l: 1e400\n  airflow:m: 1e-7\n"
    "  airflow:n: 12345678901234567890\n  airflow:o: 0777\n  airflow:p: 1e21\n  airflow:q: 08\n",
    "quoted and tagged at the top": "  airflow:a: '010'\n  airflow:b: \"off\"\n  airflow:c: !!str 010\n"
    '  airflow:d: !!binary aGVsbG8=\n  airflow:e: "tab\\there"\n',
    "block scalars": "  airflow:a: |\n    line1\n    line2\n  airflow:b: >-\n    folded\n    text\n"
    "  airflow:c: |+\n    kept\n\n",
    "yaml 1.1 words in an object": "  airflow:o: {a: off, b: yes, c: y, d: ~, e: True, f: FALSE, g: on, "
    "h: n, i: null, j: ''}\n",
    "numbers in an object": "  airflow:o: {a: 010, b: 0x1F, c: 1_000, d: 1e3, e: 0o17, f: +1, "
    "g: 99999999999999999999, h: 1.50, i: -010, j: 0b101, k: .5, l: 1e400, m: 1e-7, "
    "n: 12345678901234567890, o: 0777, p: 1e21, q: 08, r: 1.0}\n",
    "strings that need escaping in JSON": "  airflow:o: {a: '<b>&amp;</b>', b: \"\\u2028\", c: 'ünï', "
    'd: "line\\nbreak", e: "\\x01", f: \'"quoted"\', g: \'back\\\\slash\'}\n',
    "lists and nesting": "  airflow:o: [a, off, 010, {x: y}, [1, 2.5], null]\n"
    "  airflow:p: {z: 1, a: {c: 2, b: [x]}}\n",
    "anchors, aliases and merges": "  airflow:o: &x {a: 1, b: 2}\n  airflow:p: *x\n"
    "  airflow:q: {<<: *x, b: 3}\n",
    "keys that are not strings": "  airflow:o: {1: a, true: b, 1.5: c, 010: d}\n",
    "a duplicate key at the top": "  airflow:a: x\n  airflow:a: y\n",
    "a duplicate key in an object": "  airflow:o: {a: 1, a: 2}\n",
    "an infinity in an object": "  airflow:o: {a: .inf}\n",
    "an infinity or NaN at the top": "  airflow:a: .inf\n  airflow:b: .nan\n",
    "not a mapping": "  - airflow:a\n",
}
# What this program's reader refuses although the CLI takes it, each for a reason a user reads.
REFUSED_ON_PURPOSE = {
    # The CLI prints a date as Go's time.String ("2026-11-25 00:00:00 +0000 UTC"): never what was meant.
    "an unquoted date": ("  airflow:a: 2026-11-25\n", "an unquoted date or time"),
    "an unquoted time in an object": ("  airflow:o: {a: 2026-11-25T10:00:00Z}\n", "an unquoted date or time"),
    # The CLI prefixes the project's name; the file then reads as if it said airflow:executor.
    "a key without its namespace": ("  executor: x\n", "is not of the form namespace:name"),
}


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A project named like this one, a local backend, and a stack named ``corpus`` in it."""
    pulumi = Path(os.environ.get("PULUMI_CLI", DEFAULT_CLI))
    if not pulumi.is_file():
        if "PULUMI_CLI" in os.environ:
            pytest.fail(f"PULUMI_CLI={pulumi} does not exist")
        pytest.skip(f"no Pulumi CLI at {pulumi}; bash .ci/toolchain builds it")
    project = tmp_path_factory.mktemp("corpus")
    (project / "home").mkdir()
    (project / "state").mkdir()
    (project / "Pulumi.yaml").write_text("name: airflow\nruntime: python\n")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PULUMI_HOME": str(project / "home"),
        "PULUMI_BACKEND_URL": f"file://{project / 'state'}",
        "PULUMI_CONFIG_PASSPHRASE": "corpus",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "NO_COLOR": "1",
    }
    subprocess.run(
        [str(pulumi), "stack", "init", "corpus", "--non-interactive"],
        cwd=project,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return project, {**env, "PULUMI": str(pulumi)}


def _both(cli: tuple[Path, dict[str, str]], config: str) -> tuple[object, object]:
    """(what the CLI passes a program, what our reader does): a dict of key to text, or ``refused``."""
    project, env = cli
    stack_file = project / "Pulumi.corpus.yaml"
    stack_file.write_text("config:\n" + config)
    shown = subprocess.run(
        [env["PULUMI"], "config", "--json", "--stack", "corpus"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    theirs: object = (
        {key: entry["value"] for key, entry in json.loads(shown.stdout).items()}
        if shown.returncode == 0
        else "refused"
    )
    try:
        ours: object = engine_config(read_stack_file(stack_file), lambda key: "[secret]")[0]
    except StackFileError as err:
        ours = f"refused: {err}"
    return theirs, ours


@pytest.mark.parametrize("case", sorted(SAME))
def test_the_render_reads_a_stack_file_as_the_cli_does(cli: tuple[Path, dict[str, str]], case: str) -> None:
    theirs, ours = _both(cli, SAME[case])
    if theirs == "refused":
        assert isinstance(ours, str), ours
        assert ours.startswith("refused: "), ours
    else:
        assert ours == theirs


@pytest.mark.parametrize("case", sorted(REFUSED_ON_PURPOSE))
def test_what_the_reader_refuses_on_purpose_the_cli_takes(
    cli: tuple[Path, dict[str, str]], case: str
) -> None:
    config, reason = REFUSED_ON_PURPOSE[case]
    theirs, ours = _both(cli, config)
    assert isinstance(theirs, dict), "the CLI now refuses it too: move the case to SAME"
    assert isinstance(ours, str), ours
    assert reason in ours, ours
