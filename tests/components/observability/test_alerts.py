"""The alert rules, proven with promtool: valid, and each fires on a bad series and not on a good one."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.observability.alerts import alert_rules
from components.observability.settings import AlertSettings
from tests.conftest import ROOT

ALERT_TESTS = ROOT / "tests" / "components" / "observability" / "alerts" / "airflow_alerts_test.yaml"
EXPECTED_ALERTS = {
    "AirflowSchedulerHeartbeatMissing",
    "AirflowTasksStarving",
    "AirflowDagParsingSlow",
    "AirflowDagImportErrors",
    "AirflowDagRunFailed",
    "AirflowPoolLowOpenSlots",
    "AirflowTaskFailures",
    "AirflowStatsdExporterDown",
    "AirflowDatabaseCleanupFailing",
}


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool is missing: .ci/system-packages installs Debian's prometheus package")
    return subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def _write_rules(folder: Path, groups: list[dict[str, Any]], keep: tuple[str, ...] = ("summary",)) -> None:
    """The rules as a rules file; annotations cut to ``keep`` so the unit tests state only the summary."""
    for group in groups:
        for rule in group["rules"]:
            rule["annotations"] = {k: v for k, v in rule["annotations"].items() if k in keep}
    (folder / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))


def test_promtool_accepts_the_rules(tmp_path: Path) -> None:
    _write_rules(
        tmp_path, alert_rules(AlertSettings(), "airflow"), keep=("summary", "description", "runbook")
    )
    result = _promtool("check", "rules", "rules.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 9 rules found" in result.stdout


def test_every_alert_fires_on_bad_series_and_stays_silent_on_good(tmp_path: Path) -> None:
    _write_rules(tmp_path, alert_rules(AlertSettings(), "airflow"))
    shutil.copy(ALERT_TESTS, tmp_path / "tests.yaml")
    result = _promtool("test", "rules", "tests.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_unit_tests_cover_every_alert_both_ways() -> None:
    cases = yaml.safe_load(ALERT_TESTS.read_text())["tests"]
    fired, silent = set(), set()
    for case in cases:
        for check in case["alert_rule_test"]:
            (fired if check["exp_alerts"] else silent).add(check["alertname"])
    assert {rule["alert"] for rule in alert_rules(AlertSettings(), "airflow")[0]["rules"]} == EXPECTED_ALERTS
    assert fired == EXPECTED_ALERTS
    assert silent == EXPECTED_ALERTS


def test_a_broken_rule_fails_the_unit_tests(tmp_path: Path) -> None:
    groups = alert_rules(AlertSettings(), "airflow")
    starving = next(r for r in groups[0]["rules"] if r["alert"] == "AirflowTasksStarving")
    starving["expr"] = starving["expr"].replace("> 0", "> 5")  # a threshold that misses 2 starving tasks
    _write_rules(tmp_path, groups)
    shutil.copy(ALERT_TESTS, tmp_path / "tests.yaml")
    result = _promtool("test", "rules", "tests.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert "AirflowTasksStarving" in result.stdout + result.stderr


def test_thresholds_and_durations_come_from_settings() -> None:
    settings = AlertSettings(
        parse_time_seconds=12.5, parse_time_for="20m", pool_open_slots_ratio=0.25, task_failures_window="6h"
    )
    rules = {r["alert"]: r for r in alert_rules(settings, "airflow-dev")[0]["rules"]}
    assert rules["AirflowDagParsingSlow"]["expr"].endswith("> 12.5")
    assert rules["AirflowDagParsingSlow"]["for"] == "20m"
    assert rules["AirflowPoolLowOpenSlots"]["expr"].endswith("< 0.25")
    assert "[6h]" in rules["AirflowTaskFailures"]["expr"]
    assert all('namespace="airflow-dev"' in rule["expr"] for rule in rules.values())


def test_every_alert_has_a_runbook_and_a_severity() -> None:
    for rule in alert_rules(AlertSettings(), "airflow")[0]["rules"]:
        assert len(rule["annotations"]["runbook"]) > 40, rule["alert"]
        assert rule["labels"]["severity"] in ("critical", "warning")
