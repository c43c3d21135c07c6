"""The URL Celery reaches an external Redis by: checked without ever being shown, and made to verify TLS.

kombu 5.5, which Celery uses, connects to a ``rediss://`` URL with no certificate options with
``ssl_cert_reqs=CERT_NONE`` (it logs "defaulting to insecure SSL behaviour") and redis-py 5 does not
match the host name unless asked: anyone on the path could pose as the broker. The program therefore
writes the URL into the broker Secret with ``ssl_cert_reqs=required`` and ``ssl_check_hostname=true``
(and the CA file, when the stack gives one), and refuses a URL that asks for less.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["broker_url_problem", "verified_broker_url"]

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


def verified_broker_url(url: str, ca_file: str | None) -> str:
    """``url`` as Celery should use it: over TLS the server's certificate and host name are checked,
    against ``ca_file`` when given (else the image's trusted CAs). A plain ``redis://`` URL is kept."""
    parts = urlsplit(url.strip())
    if parts.scheme != "rediss":
        return url.strip()
    query = dict(parse_qsl(parts.query))
    query |= {"ssl_cert_reqs": "required", "ssl_check_hostname": "true"}
    if ca_file is not None:
        query["ssl_ca_certs"] = ca_file
    # "/" left as is: the CA path stays readable (and findable) in the URL; kombu unquotes it either way.
    return urlunsplit(parts._replace(query=urlencode(query, safe="/")))
