"""A TaskFlow ETL: extract -> transform -> load, once a day.

Retries with exponential backoff absorb a flaky source; ``execution_timeout`` bounds each task and
``dagrun_timeout`` the whole run, so a hung call fails loudly instead of holding a slot forever.
Everything heavy happens inside the tasks: importing this file does nothing but define the DAG.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import dag, task

DEFAULT_ARGS = {
    "owner": "data-platform",
    "retries": 3,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    "execution_timeout": timedelta(minutes=15),
}


@dag(
    dag_id="etl_taskflow",
    schedule="@daily",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=1),
    default_args=DEFAULT_ARGS,
    tags=["example", "etl"],
)
def etl_taskflow() -> None:
    @task
    def extract() -> list[dict[str, float]]:
        """Stands in for a query or an API call; the result travels to the next task through XCom."""
        return [
            {"order_id": 1, "amount": 12.5},
            {"order_id": 2, "amount": 7.25},
            {"order_id": 3, "amount": 30.0},
        ]

    @task
    def transform(orders: list[dict[str, float]]) -> dict[str, float]:
        amounts = [order["amount"] for order in orders]
        return {"orders": len(amounts), "revenue": round(sum(amounts), 2)}

    @task
    def load(summary: dict[str, float]) -> None:
        """Stands in for a warehouse write; keep it idempotent so a retry cannot double-count."""
        print(f"daily summary: {summary['orders']:.0f} orders, revenue {summary['revenue']:.2f}")

    load(transform(extract()))


etl_taskflow()
