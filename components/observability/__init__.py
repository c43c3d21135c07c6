"""Task logs, StatsD mappings, alert rules, dashboards and the monitoring stack."""
