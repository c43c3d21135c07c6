"""Airflow 3 on Kubernetes as a Pulumi program, one folder per concern.

Each concern holds its pure values and its ComponentResource: ``dags`` (the folder gate, the three
delivery modes, the DAG gate command), ``secrets`` (generated credentials, Fernet rotation), ``database``
(PgBouncer), ``network`` (namespace, NetworkPolicies, Ingress), ``observability`` (task logs, StatsD
mappings, alerts, dashboards, monitoring), ``release`` (the chart and its values) and ``offline`` (the
mock runtime, render, diff). ``settings`` is the validated stack model, read by ``config`` alone.
Dependencies point one way: release -> the concerns -> settings; offline -> everything.
"""
