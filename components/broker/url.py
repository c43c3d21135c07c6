"""The URL Celery reaches an external Redis by: checked without ever being shown, and made to verify TLS.

kombu 5.5, which Celery uses, connects to a ``rediss://`` URL with no certificate options with
``ssl_cert_reqs=CERT_NONE`` (it logs "defaulting to insecure SSL behaviour") and redis-py 5 does not
match the host name unless asked: anyone on the path could pose as the broker. The program therefore
writes the URL into the broker Secret with ``ssl_cert_reqs=required`` and ``ssl_check_hostname=true``
(and the CA file, when the stack gives one); ``settings.broker_url_problem`` refuses a URL that asks for
less.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["verified_broker_url"]


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
