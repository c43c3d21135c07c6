"""The DAG gate (``python -m tooling.gate``): the real Airflow parses a stack's DAG folder, each file in
a sandboxed child, and the gate refuses what should not ship. See ``__main__.py``."""
