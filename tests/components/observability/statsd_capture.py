"""Captures the StatsD lines a real Airflow 3.2.2 sends, on a UDP socket on 127.0.0.1.

    python -m tests.observability.statsd_capture OUT_FILE

Runs, in a throwaway AIRFLOW_HOME with SQLite and the LocalExecutor: ``db migrate``, an ``api-server``
on a free loopback port (the execution API every task talks to), one ``dag-processor`` loop over
``tests/fixtures/statsd_probe_dags`` (one DAG that fails, one that succeeds, one file that does not
import), then a trigger of both DAGs and a bounded ``scheduler`` loop that runs their tasks. What
arrives is what a real deployment's statsd-exporter receives. About 35 s; nothing leaves the machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tooling.rehearsal.services import StatsdListener, free_port

__all__ = ["PROBE_DAGS", "capture_statsd_lines"]

PROBE_DAGS = Path(__file__).resolve().parents[2] / "fixtures" / "statsd_probe_dags"
_AIRFLOW = Path(sys.executable).with_name("airflow")


# Each command's timeout only guards a hang, so it is far above its time on a loaded machine (seen: the
# scheduler's 25 loops took over 180 s beside a real cluster's deploy on 2 cores; alone, about 20 s).
_HANG_GUARD_SECONDS = 900


def _run(args: list[str], env: dict[str, str], log: Path, timeout: int = _HANG_GUARD_SECONDS) -> None:
    with log.open("a") as out:
        subprocess.run([str(_AIRFLOW), *args], env=env, stdout=out, stderr=out, timeout=timeout, check=True)


def capture_statsd_lines(prefix: str = "airflow") -> list[str]:
    """Every StatsD line Airflow sent while parsing and running the probe DAGs."""
    listener = StatsdListener()
    listener.start()
    api_port = free_port()
    with tempfile.TemporaryDirectory(prefix="statsd-capture-") as home:
        env = {
            **os.environ,
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROBE_DAGS),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            # Throwaway: signs the tokens between this scheduler and this api-server only.
            "AIRFLOW__API_AUTH__JWT_SECRET": "statsd-capture-only-" + os.urandom(8).hex(),
            "AIRFLOW__METRICS__STATSD_ON": "True",
            "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
            "AIRFLOW__METRICS__STATSD_PORT": str(listener.port),
            "AIRFLOW__METRICS__STATSD_PREFIX": prefix,
            "AIRFLOW__SCHEDULER__POOL_METRICS_INTERVAL": "1",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        }
        log = Path(home) / "capture.log"
        api = None
        try:
            _run(["db", "migrate"], env, log)
            api = subprocess.Popen(
                [str(_AIRFLOW), "api-server", "--host", "127.0.0.1", "--port", str(api_port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            _run(["dag-processor", "--num-runs", "1"], env, log)
            for dag_id in ("probe_fails", "probe_succeeds"):
                _run(["dags", "unpause", dag_id], env, log)
                _run(["dags", "trigger", dag_id], env, log)
            _run(["scheduler", "--num-runs", "25"], env, log)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
            raise RuntimeError(f"Airflow failed: {err}\n{log.read_text()[-3000:]}") from err
        finally:
            if api is not None:
                api.terminate()
                api.wait(timeout=30)
            listener.stop()
    return listener.lines


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 1:
        print("usage: python -m tests.observability.statsd_capture OUT_FILE", file=sys.stderr)
        return 2
    lines = capture_statsd_lines()
    Path(args[0]).write_text("\n".join(lines) + "\n")
    print(f"captured {len(lines)} StatsD lines, {len({line.split(':')[0] for line in lines})} names")
    return 0


if __name__ == "__main__":
    sys.exit(main())
