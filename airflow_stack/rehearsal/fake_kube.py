"""A stand-in for the Kubernetes API, for the KubernetesExecutor inside the scheduler.

It answers what the executor asks on loopback: a pod list and watch that hold no pods, and pod creation,
which it records instead of running. The recorded pods are the ones the real provider code built from
the rendered pod template: the rehearsal checks them as Kubernetes would receive them.
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
    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def kubeconfig(self, path: Path, namespace: str) -> Path:
        path.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {"name": "rehearsal", "cluster": {"server": f"http://127.0.0.1:{self.port}"}}
                    ],
                    "users": [{"name": "rehearsal", "user": {"token": "rehearsal"}}],
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

            def do_GET(self) -> None:
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
                if _PODS.match(self.path):
                    fake.created.append(body)
                    body.setdefault("metadata", {})["resourceVersion"] = "2"
                    body["status"] = {"phase": "Pending"}
                    self._json(201, body)
                    return
                self._json(404, {"kind": "Status", "status": "Failure", "code": 404})

            def do_DELETE(self) -> None:
                self._json(200, {"kind": "Status", "status": "Success"})

        return Handler
