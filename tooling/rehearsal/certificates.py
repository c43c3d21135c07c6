"""Real X.509 certificates for a TLS server on loopback (the rehearsal's Redis, the broker tests), made
with cryptography (a dev dependency): a CA and the servers it signs."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["KeyPair", "ServerTls", "certificate", "key", "pem", "server_tls"]

KeyPair = ec.EllipticCurvePrivateKey


def key() -> KeyPair:
    """A new P-256 key: fast to make, accepted by PostgreSQL, Redis and Python's ssl alike."""
    return ec.generate_private_key(ec.SECP256R1())


def certificate(subject: str, subject_key: KeyPair, issuer: tuple[str, KeyPair] | None) -> x509.Certificate:
    """A CA (``issuer`` None) or a server certificate for DNS name ``subject`` signed by ``issuer``."""
    now = datetime.datetime.now(datetime.UTC)
    issuer_name, issuer_key = issuer or (subject, subject_key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def pem(item: x509.Certificate | KeyPair) -> bytes:
    """A certificate or an unencrypted private key as PEM, as the servers read them."""
    if isinstance(item, x509.Certificate):
        return item.public_bytes(serialization.Encoding.PEM)
    return item.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass(frozen=True)
class ServerTls:
    """The files a TLS server needs, and the CA its clients must trust."""

    ca: Path  # the CA certificate a client must trust
    certificate: Path  # the server's, for DNS name ``host``, signed by that CA
    key: Path


def server_tls(folder: Path, host: str) -> ServerTls:
    """A new CA and a server certificate for ``host`` it signs, written into ``folder`` (key 0600)."""
    ca_key, server_key = key(), key()
    files = ServerTls(folder / "ca.crt", folder / "server.crt", folder / "server.key")
    files.ca.write_bytes(pem(certificate(f"{host} test CA", ca_key, None)))
    files.certificate.write_bytes(pem(certificate(host, server_key, (f"{host} test CA", ca_key))))
    files.key.touch(mode=0o600)
    files.key.write_bytes(pem(server_key))
    return files
