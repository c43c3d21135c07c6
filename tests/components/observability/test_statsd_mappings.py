"""The statsd-exporter mappings against what a real Airflow 3.2.2 sends, and against every query.

The capture (``statsd_capture.py``) runs Airflow's dag-processor, api-server and scheduler over
probe DAGs with StatsD pointed at a UDP socket on 127.0.0.1; it takes about 40 s and is kept in
``build/`` keyed by the probe DAGs and the Airflow version, so only the first run pays for it.
"""

from __future__ import annotations

import hashlib
import re
from importlib.metadata import version

import pytest
import yaml

from components.observability.alerts import alert_rules
from components.observability.dashboards import dashboards, queries
from components.observability.settings import AlertSettings
from components.observability.statsd_mappings import mapped_metric_names, statsd_mappings
from tests.components.observability.statsd_capture import PROBE_DAGS, capture_statsd_lines
from tests.components.observability.statsd_matcher import Mapped, map_line, parse_line
from tests.conftest import ROOT

MAPPINGS = statsd_mappings("airflow")
# Names Airflow sends without ids in them, left to statsd-exporter's default naming on purpose.
UNMAPPED_PLAIN = re.compile(r"^airflow\.[a-z_]+(\.[a-z_]+)*$")
# Prometheus' own series, which the alerts use beside the mapped ones.
# Series Prometheus makes itself (up) or scrapes from kube-state-metrics (the cleanup CronJob's alert).
PROMETHEUS_SERIES = {"up", "kube_job_status_failed", "kube_cronjob_status_last_successful_time"}
_PROMQL_WORDS = {
    "sum", "max", "min", "by", "rate", "increase", "absent", "unless", "offset", "or", "and", "on",
    "topk", "histogram_quantile", "label_values", "time",
}  # fmt: skip


@pytest.fixture(scope="module")
def captured() -> list[str]:
    key = hashlib.sha256(
        b"".join(p.read_bytes() for p in sorted(PROBE_DAGS.glob("*.py")))
        + version("apache-airflow").encode()
        + (ROOT / "tests" / "components" / "observability" / "statsd_capture.py").read_bytes()
    ).hexdigest()[:16]
    cache = ROOT / "build" / f"statsd-capture-{key}.txt"
    if not cache.exists():
        lines = capture_statsd_lines()
        cache.parent.mkdir(exist_ok=True)
        cache.write_text("\n".join(lines) + "\n")
    return cache.read_text().splitlines()


def _mapped(lines: list[str]) -> dict[str, Mapped | None]:
    return {line: map_line(MAPPINGS, line) for line in lines}


def _metric_names(expr: str) -> set[str]:
    """The metric names in a PromQL expression: what is left without label matchers, ``by`` clauses,
    label_values' label argument, ranges, offsets, numbers and function names."""
    without_strings = re.sub(r"\{[^}]*\}|by \([^)]*\)|,\s*[a-zA-Z_]+\s*(?=\))", "", expr)
    without_ranges = re.sub(r"\b[0-9.]+[smhdwy]?\b", "", without_strings)  # ranges, offsets, numbers
    words = set(re.findall(r"[a-zA-Z_][a-zA-Z0-9_]*", without_ranges))
    return {w for w in words if w not in _PROMQL_WORDS}


@pytest.mark.parametrize(
    ("statsd_name", "metric", "labels"),
    [
        ("airflow.scheduler_heartbeat", "airflow_scheduler_heartbeat_total", {}),
        ("airflow.scheduler.tasks.starving", "airflow_scheduler_tasks_starving", {}),
        ("airflow.executor.open_slots", "airflow_executor_open_slots", {"executor": "all"}),
        ("airflow.executor.queued_tasks", "airflow_executor_queued_tasks", {"executor": "all"}),
        ("airflow.executor.running_tasks", "airflow_executor_running_tasks", {"executor": "all"}),
        ("airflow.pool.open_slots.default_pool", "airflow_pool_open_slots", {"pool": "default_pool"}),
        ("airflow.pool.running_slots.default_pool", "airflow_pool_running_slots", {"pool": "default_pool"}),
        ("airflow.pool.queued_slots.default_pool", "airflow_pool_queued_slots", {"pool": "default_pool"}),
        ("airflow.pool.starving_tasks.default_pool", "airflow_pool_starving_tasks", {"pool": "default_pool"}),
        ("airflow.dag_processing.total_parse_time", "airflow_dag_processing_total_parse_time", {}),
        ("airflow.dag_processing.import_errors", "airflow_dag_processing_import_errors", {}),
        (
            "airflow.dag_processing.last_duration.dags-folder.probe",
            "airflow_dag_processing_last_duration_seconds",
            {"bundle": "dags-folder", "file": "probe"},
        ),
        (
            "airflow.dagrun.duration.failed.probe_fails",
            "airflow_dagrun_duration_seconds",
            {"state": "failed", "dag_id": "probe_fails"},
        ),
        (
            "airflow.dagrun.duration.success.probe_succeeds",
            "airflow_dagrun_duration_seconds",
            {"state": "success", "dag_id": "probe_succeeds"},
        ),
        (
            "airflow.dag.probe_fails.grp.ok.duration",
            "airflow_task_duration_seconds",
            {"dag_id": "probe_fails", "task_id": "grp.ok"},
        ),
        (
            "airflow.ti.finish.probe_fails.boom.failed",
            "airflow_ti_finish_total",
            {"dag_id": "probe_fails", "task_id": "boom", "state": "failed"},
        ),
        (
            "airflow.ti.finish.probe_fails.grp.ok.success",
            "airflow_ti_finish_total",
            {"dag_id": "probe_fails", "task_id": "grp.ok", "state": "success"},
        ),
        ("airflow.ti_failures", "airflow_ti_failures_total", {}),
    ],
)
def test_what_airflow_sends_is_mapped_with_labels(
    captured: list[str], statsd_name: str, metric: str, labels: dict[str, str]
) -> None:
    lines = [line for line in captured if parse_line(line)[0] == statsd_name]
    assert lines, (
        f"Airflow 3.2.2 did not send {statsd_name}; sent: {sorted({parse_line(x)[0] for x in captured})}"
    )
    result = map_line(MAPPINGS, lines[0])
    assert result is not None
    assert not result.dropped
    assert (result.name, dict(result.labels)) == (metric, labels)


def test_no_name_carrying_an_id_escapes_the_mappings(captured: list[str]) -> None:
    """Unmapped names become one metric per dag or task (unbounded series); every one with an id is mapped
    or dropped, and what is left to default naming is a plain, fixed name."""
    leaked = sorted(
        {
            parse_line(line)[0]
            for line, result in _mapped(captured).items()
            if result is None and not UNMAPPED_PLAIN.match(parse_line(line)[0])
        }
    )
    assert leaked == []
    ids = ("probe_fails", "probe_succeeds", "default_pool", "dags-folder")
    unmapped_with_ids = [
        line for line, result in _mapped(captured).items() if result is None and any(i in line for i in ids)
    ]
    assert unmapped_with_ids == []


def test_unlabelled_duplicates_are_dropped(captured: list[str]) -> None:
    for name in ("airflow.ti.finish", "airflow.pool.open_slots", "airflow.dagrun.duration.failed"):
        line = next(line for line in captured if parse_line(line)[0] == name)
        result = map_line(MAPPINGS, line)
        assert result is not None
        assert result.dropped, name


def test_every_alert_and_panel_queries_a_mapped_metric() -> None:
    known = mapped_metric_names("airflow") | PROMETHEUS_SERIES
    used = [(f"alert {r['alert']}", r["expr"]) for r in alert_rules(AlertSettings(), "airflow")[0]["rules"]]
    used += [
        (f"{name}: {title}", expr) for name, model in dashboards().items() for title, expr in queries(model)
    ]
    unknown = sorted((where, metric) for where, expr in used for metric in _metric_names(expr) - known)
    assert unknown == []
    assert len(used) > 25


def test_the_query_check_catches_a_typo() -> None:
    known = mapped_metric_names("airflow")
    assert _metric_names('rate(airflow_scheduler_heartbeat{namespace="x"}[2m])') - known == {
        "airflow_scheduler_heartbeat"
    }


def test_mappings_are_valid_statsd_exporter_config() -> None:
    """The rules statsd-exporter's mapper enforces when it loads the file (mapper.go)."""
    metric_name = re.compile(r"^([a-zA-Z_]|\$\{?\d+\}?)([a-zA-Z0-9_]|\$\{?\d+\}?)*$")
    label_name = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]+$")
    statsd = r"[a-zA-Z_](-?[a-zA-Z0-9_])*"
    glob_line = re.compile(rf"^(\*\.|{statsd}\.)+(\*|{statsd})$")
    for mapping in MAPPINGS:
        assert metric_name.match(mapping["name"]), mapping
        assert all(label_name.match(key) for key in mapping.get("labels", {})), mapping
        if mapping.get("match_type", "glob") == "glob":
            assert glob_line.match(mapping["match"]), mapping
        else:
            groups = re.compile(mapping["match"]).groups
            used = {
                int(n)
                for value in mapping.get("labels", {}).values()
                for n in re.findall(r"\$\{(\d+)\}", value)
            }
            assert used == set(range(1, groups + 1)), mapping
            assert "$" not in re.sub(r"\$\{\d+\}", "", "".join(mapping.get("labels", {}).values())), mapping


def test_a_custom_prefix_is_matched_and_keeps_the_metric_names() -> None:
    mappings = statsd_mappings("platform_af")
    result = map_line(mappings, "platform_af.ti.finish.etl.load.failed:1|c")
    assert result is not None
    assert (result.name, dict(result.labels)) == (
        "airflow_ti_finish_total",
        {"dag_id": "etl", "task_id": "load", "state": "failed"},
    )
    assert map_line(mappings, "airflow.ti.finish.etl.load.failed:1|c") is None


def test_release_values_carry_the_mappings_and_the_prefix() -> None:
    from components.release.values import build_helm_values
    from components.stack import secret_names
    from components.validation import parse_settings

    settings = parse_settings(
        {"monitoring": {"statsdPrefix": "platform_af"}, "protectStatefulResources": "false"},
        source="Pulumi.test.yaml",
    )
    values = build_helm_values(settings, secret_names(settings))
    assert values["statsd"]["overrideMappings"] == statsd_mappings("platform_af")
    assert values["config"]["metrics"]["statsd_prefix"] == "platform_af"


# One sample value per variable of Airflow's metrics registry, shaped as a real deployment's are (a
# task_id with a TaskGroup's dot, a pod's hostname with dashes).
_SAMPLE_IDS = {
    "dag_id": "some_dag",
    "task_id": "grp.some_task",
    "hostname": "airflow-triggerer-6b47dbc87-js4qj",
    "queue": "default",
    "pool_name": "default_pool",
    "executor_class_name": "CeleryExecutor",
    "operator_name": "PythonOperator",
    "task_type": "PythonOperator",
    "job_id": "1234",
    "return_code": "0",
    "state": "failed",
    "dag_file": "dags-folder.some_file",
    "worker_name": "edge-worker-1",
    "event_type": "START",
    "transport_type": "http",
    "job_name": "SchedulerJob",
}
_STATSD_TYPES = {"counter": "c", "gauge": "g", "timer": "ms"}


def _registry() -> list[dict]:
    """Airflow 3.2.2's own metrics registry (the installed Airflow's metrics_template.yaml)."""
    import airflow

    path = ROOT.joinpath(airflow.__file__).parent / "_shared" / "observability" / "metrics"
    return yaml.safe_load((path / "metrics_template.yaml").read_text())["metrics"]


def _registry_lines(with_ids: bool) -> list[tuple[str, str]]:
    """(registry name, StatsD line) of every metric whose legacy name carries ids (``with_ids``: that
    name filled with sample ids; otherwise its plain name, which Airflow sends beside it)."""
    lines = []
    for metric in _registry():
        legacy = metric.get("legacy_name") or ""
        if "{" not in legacy:
            continue
        name = legacy.format(**_SAMPLE_IDS) if with_ids else metric["name"]
        lines.append((metric["name"], f"airflow.{name}:1|{_STATSD_TYPES[metric['type']]}"))
    return lines


def test_no_name_of_airflows_registry_carries_an_id_into_a_metric_name() -> None:
    """Seen on the real cluster, not in the loopback capture: ti.running.<queue>.<dag>.<task> and
    triggerer.capacity_left.<pod> became one metric name per task and per triggerer pod."""
    leaked = []
    for registry_name, line in _registry_lines(with_ids=True):
        result = map_line(MAPPINGS, line)
        if result is None:
            leaked.append(f"{registry_name}: {line} is not mapped")
        elif not result.dropped and any(
            re.sub(r"[^a-zA-Z0-9_]", "_", value) in result.name for value in _SAMPLE_IDS.values()
        ):
            leaked.append(f"{registry_name}: {result.name}")
    assert leaked == []


def test_the_plain_name_beside_a_labelled_one_is_dropped() -> None:
    """Without tags, a gauge's plain name holds whichever task or pod wrote last, and a counter's the sum
    the labelled series already give: neither is kept."""
    kept = [
        f"{registry_name}: {map_line(MAPPINGS, line)}"
        for registry_name, line in _registry_lines(with_ids=False)
        if not (map_line(MAPPINGS, line) or Mapped("", ())).dropped
        # With one executor Airflow sends only the plain name (BaseExecutor._get_metric_name): kept.
        and not registry_name.startswith("executor.")
    ]
    assert kept == []
