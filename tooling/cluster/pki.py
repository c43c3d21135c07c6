"""The test cluster's certificates: one CA, a serving certificate for the API server, etcd and the
kubelet, and a client certificate per component, each with the identity Kubernetes' RBAC defaults
expect (``system:kube-scheduler``, ``system:node:<node>`` in ``system:nodes``...). Made with openssl."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Pki", "make_pki"]

_DAYS = "3"  # a test cluster lives minutes; a leaked key is worthless within days


@dataclass(frozen=True)
class Pki:
    """Where the cluster's CA and each component's certificate and key are."""

    folder: Path

    @property
    def ca(self) -> Path:
        return self.folder / "ca.crt"

    def cert(self, name: str) -> Path:
        """The certificate of component ``name``."""
        return self.folder / f"{name}.crt"

    def key(self, name: str) -> Path:
        """The private key of component ``name`` (mode 0600)."""
        return self.folder / f"{name}.key"


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _issue(pki: Pki, name: str, subject: str, sans: list[str] | None = None) -> None:
    folder = pki.folder
    _openssl("genrsa", "-out", f"{name}.key", "2048", cwd=folder)
    _openssl("req", "-new", "-key", f"{name}.key", "-subj", subject, "-out", f"{name}.csr", cwd=folder)
    extensions = folder / f"{name}.ext"
    lines = ["basicConstraints=CA:FALSE", "keyUsage=critical,digitalSignature,keyEncipherment"]
    lines.append("extendedKeyUsage=serverAuth,clientAuth")
    if sans:
        lines.append("subjectAltName=" + ",".join(sans))
    extensions.write_text("\n".join(lines) + "\n")
    _openssl(
        "x509",
        "-req",
        "-in",
        f"{name}.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        _DAYS,
        "-extfile",
        extensions.name,
        "-out",
        f"{name}.crt",
        cwd=folder,
    )
    (folder / f"{name}.csr").unlink()
    extensions.unlink()


def make_pki(folder: Path, *, node: str, node_ip: str, service_ip: str) -> Pki:
    """A CA and a certificate per component, with the names and addresses the API server and kubelet
    are reached by; openssl from Debian, nothing downloaded."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    pki = Pki(folder)
    _openssl("genrsa", "-out", "ca.key", "2048", cwd=folder)
    _openssl(
        "req",
        "-x509",
        "-new",
        "-key",
        "ca.key",
        "-subj",
        "/CN=airflow-stack-test-ca",
        "-days",
        _DAYS,
        "-out",
        "ca.crt",
        cwd=folder,
    )
    _issue(
        pki,
        "apiserver",
        "/CN=kube-apiserver",
        [
            "IP:127.0.0.1",
            f"IP:{node_ip}",
            f"IP:{service_ip}",
            "DNS:localhost",
            "DNS:kubernetes",
            "DNS:kubernetes.default",
            "DNS:kubernetes.default.svc",
            "DNS:kubernetes.default.svc.cluster.local",
        ],
    )
    _issue(pki, "etcd", "/CN=etcd", ["IP:127.0.0.1", "DNS:localhost"])
    _issue(pki, "kubelet-serving", f"/CN={node}", [f"IP:{node_ip}", f"DNS:{node}"])
    clients = {
        "admin": "/O=system:masters/CN=airflow-stack-admin",
        "apiserver-kubelet-client": "/O=system:masters/CN=kube-apiserver-kubelet-client",
        "apiserver-etcd-client": "/CN=kube-apiserver-etcd-client",
        "controller-manager": "/CN=system:kube-controller-manager",
        "scheduler": "/CN=system:kube-scheduler",
        "kubelet": f"/O=system:nodes/CN=system:node:{node}",
        "kube-proxy": "/CN=system:kube-proxy",
    }
    for name, subject in clients.items():
        _issue(pki, name, subject)
    # Service-account tokens are signed with a key of their own.
    _openssl("genrsa", "-out", "service-accounts.key", "2048", cwd=folder)
    _openssl("rsa", "-in", "service-accounts.key", "-pubout", "-out", "service-accounts.pub", cwd=folder)
    return pki
