"""Airflow 3 on Kubernetes as a Pulumi program: what ``pulumi up`` runs, one folder per concern.

Each concern holds its settings model, its pure values and its ComponentResource: ``dags`` (the
folder check and the three delivery modes), ``secrets`` (generated credentials, Fernet rotation),
``database`` (PgBouncer), ``broker`` (Redis), ``network`` (namespace, NetworkPolicies, Ingress),
``observability`` (task logs, StatsD mappings, alerts, dashboards, monitoring) and ``release`` (the
chart and its values). ``settings`` composes the concerns' models and ``config`` alone reads the
Pulumi config. The layers, and the test that holds imports to them, are in ``LAYERS.md``.
"""
