"""A stand-in for the Kubernetes API, for the KubernetesExecutor inside the scheduler.

It answers what the executor asks on loopback: a pod list and watch that hold no pods, and pod creation,
which it records instead of running. The recorded pods are the ones the real provider code built from
the rendered pod template: the rehearsal checks them as Kubernetes would receive them.

It authorizes as the API server does: each client's bearer token names a service account, and a call
outside that account's rights (from the rendered Roles) is answered 403 Forbidden and recorded, so a
Role that lacks a verb the real provider code uses fails the rehearsal.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["FakeKubernetes"]

_PODS = re.compile(r"^/api/v1/namespaces/([^/]+)/pods(/[^/?]+)?(\?.*)?$")
# A namespaced core resource, one object of it and a subresource: what RBAC decides on.
_CORE = re.compile(
    r"^/api/v1/namespaces/(?P<ns>[^/]+)/(?P<kind>[a-z]+)(?:/(?P<name>[^/?]+)(?:/(?P<sub>[a-z]+))?)?"
)
_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch"}


def rbac_request(method: str, path: str) -> tuple[str, str, str] | None:
    """(namespace, resource, verb) of a request as RBAC names them; None for discovery, which every
    authenticated client may read (``system:discovery``)."""
    route, _, query = path.partition("?")
    match = _CORE.match(route)
    if not match:
        return None if route in _DISCOVERY else ("", route, method.lower())
    resource = match["kind"] + (f"/{match['sub']}" if match["sub"] else "")
    if method == "GET":
        verb = "get" if match["name"] else ("watch" if "watch=true" in query.lower() else "list")
    elif method == "DELETE":
        verb = "delete" if match["name"] else "deletecollection"
    else:
        verb = _VERBS.get(method, method.lower())
    return match["ns"], resource, verb


_DISCOVERY: dict[str, dict[str, Any]] = {
    "/version": {"major": "1", "minor": "30", "gitVersion": "v1.30.0"},
    "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": []},
    "/api/v1": {
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": [
            {
                "name": "pods",
                "singularName": "pod",
                "namespaced": True,
                "kind": "Pod",
                "verbs": ["create", "delete", "get", "list", "watch"],
            }
        ],
    },
}


class FakeKubernetes:
    """The Kubernetes API calls the pods' processes make, answered on loopback and recorded, with the
    rights of each service account checked."""

    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []
        # token (the service account's name) -> namespace and (resource, verb) pairs it may use
        self._accounts: dict[str, tuple[str, set[tuple[str, str]]]] = {}
        self.calls: dict[str, set[tuple[str, str]]] = {}  # account -> (resource, verb) allowed and made
        self.denied: list[str] = []  # "account: verb resource in namespace", in order
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        """Serves in a thread of its own."""
        self._thread.start()

    def stop(self) -> None:
        """Stops serving and frees the port."""
        self._server.shutdown()
        self._server.server_close()

    def grant(self, account: str, namespace: str, rights: set[tuple[str, str]]) -> None:
        """Lets the client whose kubeconfig names ``account`` make these calls in ``namespace``."""
        self._accounts[account] = (namespace, rights)

    def _authorized(self, token: str, method: str, path: str) -> bool:
        request = rbac_request(method, path)
        if request is None:
            return True
        namespace, resource, verb = request
        granted_namespace, rights = self._accounts.get(token, ("", set()))
        if namespace == granted_namespace and (resource, verb) in rights:
            self.calls.setdefault(token, set()).add((resource, verb))
            return True
        self.denied.append(f"{token or 'anonymous'}: {verb} {resource} in {namespace or 'the cluster'}")
        return False

    def kubeconfig(self, path: Path, namespace: str, account: str) -> Path:
        """A kubeconfig for this stand-in whose token is ``account``, the service account it acts as."""
        path.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {"name": "rehearsal", "cluster": {"server": f"http://127.0.0.1:{self.port}"}}
                    ],
                    "users": [{"name": "rehearsal", "user": {"token": account}}],
                    "contexts": [
                        {
                            "name": "rehearsal",
                            "context": {"cluster": "rehearsal", "user": "rehearsal", "namespace": namespace},
                        }
                    ],
                    "current-context": "rehearsal",
                }
            )
        )
        return path

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _forbidden(self) -> bool:
                token = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
                if fake._authorized(token, self.command, self.path):
                    return False
                self._json(403, {"kind": "Status", "status": "Failure", "reason": "Forbidden", "code": 403})
                return True

            def do_GET(self) -> None:
                if self._forbidden():
                    return
                if self.path.split("?")[0] in _DISCOVERY:  # what the dynamic client asks first
                    self._json(200, _DISCOVERY[self.path.split("?")[0]])
                    return
                match = _PODS.match(self.path)
                if not match:
                    self._json(404, {"kind": "Status", "status": "Failure", "code": 404})
                    return
                if "watch=true" in self.path.lower():
                    # An open watch with no events; it ends after a while and the executor watches again.
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    time.sleep(5)
                    return
                if match[2]:  # one pod by name
                    self._json(404, {"kind": "Status", "status": "Failure", "code": 404})
                    return
                self._json(
                    200,
                    {
                        "kind": "PodList",
                        "apiVersion": "v1",
                        "metadata": {"resourceVersion": "1"},
                        "items": [],
                    },
                )

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if self._forbidden():
                    return
                if _PODS.match(self.path):
                    fake.created.append(body)
                    body.setdefault("metadata", {})["resourceVersion"] = "2"
                    body["status"] = {"phase": "Pending"}
                    self._json(201, body)
                    return
                self._json(404, {"kind": "Status", "status": "Failure", "code": 404})

            def do_DELETE(self) -> None:
                if self._forbidden():
                    return
                self._json(200, {"kind": "Status", "status": "Success"})

            def do_PATCH(self) -> None:  # no pod is kept, so there is none to patch
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self._forbidden():
                    return
                self._json(404, {"kind": "Status", "status": "Failure", "code": 404})

        return Handler
