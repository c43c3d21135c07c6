"""Task logs (``airflow:remoteLogs``, ``airflow:logPersistence``) and monitoring (``airflow:monitoring``)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from components.model import (
    ConfigModel,
    DnsLabel,
    LabelKey,
    LabelValue,
    MemoryQuantity,
    RelativePath,
    SidecarSettings,
    matching,
    resources_of,
)
from components.observability.s3 import S3BucketName

__all__ = [
    "AlertSettings",
    "LogPersistenceSettings",
    "MonitoringSettings",
    "RemoteLogSettings",
    "duration_seconds",
]

AwsRegion = matching(r"[a-z]{2}(-[a-z]+)+-[0-9]", "an AWS region such as us-east-1")
IamRoleArn = matching(
    r"arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+",
    "an IAM role ARN: arn:aws:iam::<12-digit account>:role/<name>",
)
StatsdPrefix = matching(
    r"[a-z][a-z0-9_]{0,30}", "1 to 31 lowercase letters, digits and '_', starting with a letter"
)


class RemoteLogSettings(ConfigModel):
    """Task logs in S3, read back by the api-server, so a log outlives its pod.

    Credentials never sit in the config: ``roleArn`` is an IAM role the Airflow service accounts assume
    (IRSA: annotated ``eks.amazonaws.com/role-arn``), or ``connectionSecretName`` names a Secret in the
    namespace whose key ``connection`` holds an Airflow AWS connection (URI or JSON).
    """

    bucket: S3BucketName
    prefix: RelativePath = "airflow/task-logs"
    region: AwsRegion = "us-east-1"
    role_arn: IamRoleArn | None = None
    connection_secret_name: DnsLabel | None = None

    @model_validator(mode="after")
    def _one_credential_source(self) -> RemoteLogSettings:
        if (self.role_arn is None) == (self.connection_secret_name is None):
            raise ValueError(
                "needs exactly one of roleArn (an IAM role for the service accounts, IRSA) or "
                "connectionSecretName (a Secret with key 'connection' holding an AWS connection)"
            )
        return self


class LogPersistenceSettings(ConfigModel):
    """Task logs on one ReadWriteMany volume that every Airflow pod mounts (the chart's
    ``logs.persistence``), so a log outlives its pod without S3. The StorageClass must offer
    ReadWriteMany (NFS, EFS, CephFS...); ``existingClaim`` uses a PVC made outside the stack."""

    enabled: bool = False
    size: MemoryQuantity = "100Gi"
    storage_class_name: DnsLabel | None = None
    existing_claim: DnsLabel | None = None


_DURATION_WORDS = "a Prometheus duration: a whole number and s, m or h (30s, 5m, 2h), at most 2160h (90 days)"
_SECONDS_PER_UNIT = {"s": 1, "m": 60, "h": 3600}
MAX_DURATION_SECONDS = 90 * 24 * 3600  # a longer wait silences an alert; a far longer one overflows


def duration_seconds(value: str) -> int | None:
    """The seconds of a duration these settings take (``30s``, ``5m``, ``2h``); None for any other text."""
    match = re.fullmatch(r"([0-9]{1,7})(s|m|h)", value)
    return None if match is None else int(match[1]) * _SECONDS_PER_UNIT[match[2]]


def _duration(value: str) -> str:
    """A ``for:`` or range duration Prometheus parses (its int64 nanoseconds overflow past 292 years)."""
    seconds = duration_seconds(value)
    if seconds is None or seconds > MAX_DURATION_SECONDS:
        raise PydanticCustomError("duration", "must be {words}", {"words": _DURATION_WORDS})
    return value


Duration = Annotated[str, AfterValidator(_duration)]
LabelMap = dict[LabelKey, LabelValue]


class AlertSettings(ConfigModel):
    """Thresholds and ``for:`` durations of the alert rules; each alert says in its runbook what to do."""

    scheduler_heartbeat_missing_for: Duration = "3m"
    tasks_starving_for: Duration = "15m"
    parse_time_seconds: float = Field(30, gt=0)
    parse_time_for: Duration = "10m"
    import_errors_for: Duration = "5m"
    failed_dag_runs_window: Duration = "1h"
    pool_open_slots_ratio: float = Field(0.1, gt=0, lt=1)
    pool_open_slots_for: Duration = "10m"
    task_failures_threshold: int = Field(0, ge=0)
    task_failures_window: Duration = "1h"
    statsd_down_for: Duration = "5m"


class MonitoringSettings(ConfigModel):
    """StatsD -> Prometheus -> Grafana.

    ``install`` releases a pinned kube-prometheus-stack into ``namespace``; ``existing`` creates only the
    ServiceMonitor, PrometheusRule and dashboard ConfigMaps for a cluster that runs the Prometheus
    Operator already (labelled with ``selectorLabels`` and ``dashboardLabels``); ``off`` creates none.
    """

    mode: Literal["install", "existing", "off"] = "off"
    statsd_prefix: StatsdPrefix = "airflow"
    namespace: DnsLabel = "monitoring"
    selector_labels: LabelMap = Field(default_factory=lambda: {"release": "kube-prometheus-stack"})
    dashboard_labels: LabelMap = Field(default_factory=lambda: {"grafana_dashboard": "1"})
    alerts: AlertSettings = AlertSettings()
    prometheus: SidecarSettings = SidecarSettings(resources=resources_of("200m", "1Gi", "2Gi"))
    grafana: SidecarSettings = SidecarSettings(resources=resources_of("100m", "256Mi", "512Mi"))

    @model_validator(mode="after")
    def _one_dashboard_label(self) -> MonitoringSettings:
        if len(self.dashboard_labels) != 1:
            raise ValueError(
                "dashboardLabels must hold exactly one label, the one the Grafana sidecar watches "
                '(e.g. {grafana_dashboard: "1"})'
            )
        return self
