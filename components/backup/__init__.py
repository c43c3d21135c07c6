"""The metadata database's backup before each upgrade that may migrate it (``airflow:backup``)."""
