"""Celery's broker (``airflow:redis``): the chart's Redis in the namespace, or a managed Redis.

``bundled`` runs the chart's Redis StatefulSet: one pod, and in chart 1.22.0 no liveness or readiness
probe can be set on it, so a hung Redis is not restarted and a restart loses the queued messages not yet
written to its volume. Fine for dev. ``external`` points the scheduler and the Celery workers at a
managed Redis (ElastiCache, Memorystore, Azure Cache): replicated, failed over and probed by its
provider. Its URL is the secret config value ``airflow:brokerUrl``; with ``rediss://`` the server's
certificate and host name are checked (see ``url.verified_broker_url``).
"""

from __future__ import annotations

import ssl
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

from pydantic import field_validator

from components.model import ConfigModel, Resources, resources_of

__all__ = ["REDIS_CA_FILE", "RedisSettings", "broker_url_problem"]

# Where the CA certificate of an external Redis is mounted in every Airflow pod.
REDIS_CA_FILE = "/opt/airflow/redis-ca/ca.crt"


class RedisSettings(ConfigModel):
    """Celery's broker: the chart's Redis (``bundled``) or a managed one (``external``, its URL the secret
    ``airflow:brokerUrl``); see the module for why production wants ``external``."""

    mode: Literal["bundled", "external"] = "bundled"
    resources: Resources = resources_of("50m", "64Mi", "256Mi")  # bundled only
    # PEM of the CA(s) that signed an external rediss:// server's certificate, when not one the image
    # trusts already (Memorystore's own CA, a private one); public, not a secret.
    ca_certificate: str | None = None

    @field_validator("ca_certificate")
    @classmethod
    def _pem(cls, value: str | None) -> str | None:
        """OpenSSL itself reads it, as the pods' TLS will; a private key pasted beside it is refused."""
        if value is None:
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        try:
            context.load_verify_locations(cadata=value.strip())
        except (ssl.SSLError, ValueError, TypeError):  # TypeError: not ASCII
            raise ValueError(
                "must be PEM CA certificates (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)"
            ) from None
        if "PRIVATE KEY" in value or context.cert_store_stats()["x509_ca"] == 0:
            raise ValueError("must hold CA certificates only, no private key and no server certificate")
        return value.strip() + "\n"


_WEAKENING = {"ssl_cert_reqs": ("required", "cert_required"), "ssl_check_hostname": ("true",)}


def broker_url_problem(url: str) -> str | None:
    """What is wrong with ``url``, in words that never repeat it; None if nothing."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return "is not a URL (value not shown)"
    if parts.scheme not in ("redis", "rediss"):
        return "must start with 'rediss://' (TLS) or 'redis://' (value not shown)"
    if not parts.hostname:
        return "names no host (value not shown)"
    if port == 0:
        return "has port 0 (value not shown)"
    database = parts.path.strip("/")
    if database and not database.isdigit():
        return "must end in a database number such as /0, or nothing (value not shown)"
    for key, value in parse_qsl(parts.query):
        if key in _WEAKENING and value.lower() not in _WEAKENING[key]:
            return f"sets {key}, which would turn off checking the server's certificate; remove it"
        if key == "ssl_ca_certs":
            return "sets ssl_ca_certs, a file no pod has; give the CA as airflow:redis.caCertificate instead"
    return None
