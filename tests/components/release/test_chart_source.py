"""Where Helm takes the chart from (airflow:chart.tarball), and the task-log connection the stack holds
(airflow:remoteLogsConnection): refused in one line unless they can work."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from components.model import ConfigError
from components.release.chart import chart_source
from components.release.settings import ChartSettings, chart_problem
from components.validation import parse_settings
from tests.conftest import CHART_DIR


def _tarball(path: Path, chart_yaml: str) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        data = chart_yaml.encode()
        info = tarfile.TarInfo("airflow/Chart.yaml")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return path


def test_the_pinned_tarball_is_taken_as_it_is() -> None:
    tarball = CHART_DIR / "airflow-1.22.0.tgz"
    assert chart_problem(tarball) is None
    assert chart_source(ChartSettings(tarball=str(tarball))) == {"chart": str(tarball)}


def test_without_a_tarball_the_chart_comes_from_its_repository() -> None:
    source = chart_source(ChartSettings())
    assert (source["chart"], source["version"]) == ("airflow", "1.22.0")
    assert source["repository_opts"].repo == "https://airflow.apache.org"


@pytest.mark.parametrize(
    ("chart_yaml", "problem"),
    [
        ("name: airflow\nversion: 1.21.0\n", "holds airflow 1.21.0, not airflow 1.22.0"),
        ("name: other\nversion: 1.22.0\n", "holds other 1.22.0, not airflow 1.22.0"),
    ],
)
def test_another_chart_is_refused(tmp_path: Path, chart_yaml: str, problem: str) -> None:
    assert chart_problem(_tarball(tmp_path / "chart.tgz", chart_yaml)) == problem


def test_a_file_that_is_no_chart_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "chart.tgz").write_text("not a tarball")
    with pytest.raises(ConfigError) as caught:
        parse_settings({"chart": {"tarball": str(tmp_path / "chart.tgz")}}, source="Pulumi.test.yaml")
    message = str(caught.value)
    assert "airflow:chart.tarball" in message or "chart.tarball" in message
    assert "is not a readable chart tarball" in message
    assert len(message.splitlines()) == 1


def test_a_missing_tarball_is_refused(tmp_path: Path) -> None:
    assert chart_problem(tmp_path / "nowhere.tgz") == "is not a readable chart tarball (FileNotFoundError)"


def test_a_stack_held_log_connection_needs_a_secret_to_go_in() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_settings(
            {"protectStatefulResources": False, "remoteLogsConnection": '{"conn_type": "aws"}'},
            source="Pulumi.test.yaml",
        )
    assert "airflow:remoteLogs.connectionSecretName" in str(caught.value)
    assert "conn_type" not in str(caught.value)
