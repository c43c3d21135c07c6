"""tooling/cluster/timeline.py: what --only runs, and that a verdict is printed masked."""

from __future__ import annotations

import pytest

from tooling.cluster.timeline import CheckFailed, Timeline


def _record(ran: list[str], name: str):
    return lambda: ran.append(name)


def test_only_runs_the_named_checks_those_the_deploy_needs_and_those_later_checks_rely_on(capsys) -> None:
    timeline, ran = Timeline(only=frozenset({"restore"})), []
    timeline.check("up", _record(ran, "up"), stop_on_failure=True)
    timeline.check("upgrade", _record(ran, "upgrade"), needed=True)
    timeline.check("drift", _record(ran, "drift"))
    timeline.check("restore", _record(ran, "restore"))
    assert ran == ["up", "upgrade", "restore"]
    assert timeline.skipped == ["drift"]
    assert "check drift: skipped (--only)" in capsys.readouterr().out


def test_a_needed_check_that_fails_does_not_stop_the_run(capsys) -> None:
    timeline = Timeline(only=frozenset({"restore"}))

    def fails() -> None:
        raise CheckFailed("no answer")

    assert timeline.check("upgrade", fails, needed=True) is False
    assert timeline.failures == ["upgrade"]
    assert "check upgrade: FAILED: no answer" in capsys.readouterr().out


def test_a_failed_check_prints_its_reason_masked(capsys) -> None:
    timeline = Timeline()
    url = "postgresql://airflow:s3cret-pass@db:5432/airflow"
    with pytest.raises(CheckFailed):
        timeline.check(
            "up", lambda: (_ for _ in ()).throw(CheckFailed(f"cannot reach {url}")), stop_on_failure=True
        )
    printed = capsys.readouterr().out
    assert printed.startswith("check up: FAILED: cannot reach postgresql://")
    assert "s3cret-pass" not in printed
