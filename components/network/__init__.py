"""Who may reach what: the namespace, the NetworkPolicies, the api-server Ingress."""
