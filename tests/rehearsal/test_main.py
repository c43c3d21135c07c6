"""The rehearsal refuses what it cannot rehearse in one line, before any service starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_stack.rehearsal import __main__ as rehearsal

from ..conftest import THROWAWAY_STACK, project_copy


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        ("test", "error: the rehearsal covers stacks with the CeleryExecutor and an external database"),
        ("nope", "error: Pulumi.nope.yaml not found; stacks here:"),
        ("../x", "error: stack name '../x' is not one Pulumi allows"),
    ],
)
def test_a_stack_it_cannot_rehearse_is_one_line_and_exit_2(
    stack: str,
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A KubernetesExecutor stack with the bundled database: not a shape the rehearsal covers.
    monkeypatch.setattr(rehearsal, "PROJECT", project_copy(tmp_path, THROWAWAY_STACK))
    assert rehearsal.main(["--stack", stack]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(expected)
    assert len(captured.err.splitlines()) == 1
    assert captured.out == ""  # no step started
