"""Generated credentials in Kubernetes Secrets the chart reads by name, and Fernet key rotation."""
