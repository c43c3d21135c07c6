"""The external broker URL: refused in words that never repeat it, and made to verify TLS."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from components.broker.settings import broker_url_problem
from components.broker.url import verified_broker_url

PASSWORD = "s3cr3t-Pa55"


@pytest.mark.parametrize(
    "url",
    [
        f"rediss://:{PASSWORD}@master.acme.cache.amazonaws.com:6379/0",
        f"rediss://default:{PASSWORD}@redis.internal:6380",
        f"redis://:{PASSWORD}@10.0.0.5:6379/1",
        f"rediss://:{PASSWORD}@redis.internal:6380/0?ssl_cert_reqs=required",
    ],
)
def test_well_formed_urls_pass(url: str) -> None:
    assert broker_url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (f"amqp://guest:{PASSWORD}@rabbit:5672//", "must start with 'rediss://' (TLS) or 'redis://'"),
        (f"rediss://:{PASSWORD}@:6379/0", "names no host"),
        (f"rediss://:{PASSWORD}@redis.internal:99999/0", "is not a URL"),
        (f"rediss://:{PASSWORD}@redis.internal:6379/queue", "must end in a database number"),
        (f"rediss://:{PASSWORD}@redis.internal:6379/0?ssl_cert_reqs=none", "sets ssl_cert_reqs"),
        (f"rediss://:{PASSWORD}@redis.internal:6379/0?ssl_check_hostname=false", "sets ssl_check_hostname"),
        (f"rediss://:{PASSWORD}@redis.internal:6379/0?ssl_ca_certs=/etc/ca.pem", "sets ssl_ca_certs"),
        (PASSWORD, "must start with"),
    ],
)
def test_bad_urls_are_named_without_being_shown(url: str, problem: str) -> None:
    found = broker_url_problem(url)
    assert found is not None
    assert problem in found
    assert PASSWORD not in found


def test_tls_urls_verify_the_server_and_its_name() -> None:
    url = verified_broker_url(f"rediss://:{PASSWORD}@redis.internal:6380/0?ssl_cert_reqs=required", None)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("rediss", f":{PASSWORD}@redis.internal:6380", "/0")
    assert parse_qs(parts.query) == {"ssl_cert_reqs": ["required"], "ssl_check_hostname": ["true"]}


def test_a_given_ca_is_the_one_trusted() -> None:
    url = verified_broker_url(f"rediss://:{PASSWORD}@redis.internal:6380/0", "/opt/airflow/redis-ca/ca.crt")
    assert parse_qs(urlsplit(url).query)["ssl_ca_certs"] == ["/opt/airflow/redis-ca/ca.crt"]


def test_a_plain_url_is_kept_as_given() -> None:
    url = f"redis://:{PASSWORD}@10.0.0.5:6379/1"
    assert verified_broker_url(f" {url}\n", "/ca.crt") == url


def test_the_ca_path_stays_readable_in_the_url() -> None:
    url = verified_broker_url(f"rediss://:{PASSWORD}@redis.internal:6380/0", "/opt/airflow/redis-ca/ca.crt")
    assert "ssl_ca_certs=/opt/airflow/redis-ca/ca.crt" in url
