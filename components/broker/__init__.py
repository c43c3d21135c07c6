"""Celery's broker: the chart's Redis, or a managed one."""
