"""The api-server's Ingress (``airflow:ingress``)."""

from __future__ import annotations

from pydantic import model_validator

from components.model import ConfigModel, DnsLabel, DnsName

__all__ = ["IngressSettings"]


class IngressSettings(ConfigModel):
    """The api-server behind an Ingress, always with TLS: a cert-manager issuer issues the certificate
    (``clusterIssuer``), or an existing Secret holds it (``tlsSecretName``). ``controllerNamespace`` is
    where the Ingress controller's pods run: the api-server's NetworkPolicy admits that namespace."""

    enabled: bool = False
    host: DnsName | None = None
    class_name: DnsLabel = "nginx"
    controller_namespace: DnsLabel = "ingress-nginx"
    cluster_issuer: DnsName | None = None
    tls_secret_name: DnsLabel | None = None

    @model_validator(mode="after")
    def _host_and_tls(self) -> IngressSettings:
        if not self.enabled:
            return self
        if self.host is None:
            raise ValueError("enabled needs host, the DNS name users open (e.g. airflow.example.com)")
        if (self.cluster_issuer is None) == (self.tls_secret_name is None):
            raise ValueError(
                "enabled needs exactly one of clusterIssuer (cert-manager issues the certificate) or "
                "tlsSecretName (an existing kubernetes.io/tls Secret): the UI is never served without TLS"
            )
        return self
