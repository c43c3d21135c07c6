"""The rehearsal refuses what it cannot rehearse in one line, before any service starts."""

from __future__ import annotations

import pytest

from airflow_stack.rehearsal.__main__ import main


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        ("dev", "error: the rehearsal covers stacks with the CeleryExecutor and an external database"),
        ("nope", "error: Pulumi.nope.yaml not found; stacks here:"),
        ("../x", "error: stack name '../x' is not one Pulumi allows"),
    ],
)
def test_a_stack_it_cannot_rehearse_is_one_line_and_exit_2(
    stack: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--stack", stack]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(expected)
    assert len(captured.err.splitlines()) == 1
    assert captured.out == ""  # no step started
