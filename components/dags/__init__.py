"""How DAG files reach every pod that parses or runs them, and the gates they pass first."""
