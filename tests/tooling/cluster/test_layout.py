"""``wait_for``: a timeout says why, because the cluster is gone by the time anyone reads CI's output."""

from __future__ import annotations

from pathlib import Path

import pytest

from tooling.cluster.layout import wait_for


def test_a_timeout_carries_the_explanation_and_the_end_of_the_log(tmp_path: Path) -> None:
    log = tmp_path / "kubelet.log"
    log.write_text(
        "early line\n" + "x" * 3000 + "\nE1201 network plugin is not ready: cni config uninitialized\n"
    )
    with pytest.raises(RuntimeError) as raised:
        wait_for("node Ready", lambda: False, 0.01, log=log, explain=lambda: "Ready=False KubeletNotReady")
    message = str(raised.value)
    assert message.startswith("node Ready not ready after 0 s")
    assert "Ready=False KubeletNotReady" in message
    assert "cni config uninitialized" in message
    assert "early line" not in message


def test_an_explanation_that_fails_does_not_hide_the_timeout() -> None:
    def broken() -> str:
        raise RuntimeError("kubectl get node: connection refused")

    with pytest.raises(
        RuntimeError, match=r"not ready after .*no explanation: kubectl get node: connection refused"
    ):
        wait_for("node Ready", lambda: False, 0.01, explain=broken)


def test_a_condition_that_holds_returns_at_once() -> None:
    calls = []
    wait_for("node Ready", lambda: calls.append(1) or True, 5, explain=lambda: pytest.fail("not asked"))
    assert calls == [1]
