"""Whether containerd's CRI answers: the kubelet refuses to start until it does.

containerd creates its socket at once but initializes the CRI plugin in the background (recovering the
sandboxes and containers in its root first); until then every CRI call fails with "server is not
initialized yet", and a kubelet started in that window exits. crictl is not packaged in Debian 12, so
the probe is the CRI's own ``RuntimeService/Version`` call over gRPC (which the Pulumi SDK already
brings), with the empty request encoded by hand: no generated stubs for one call.
"""

from __future__ import annotations

from pathlib import Path

import grpc

__all__ = ["VERSION_METHOD", "cri_answers"]

VERSION_METHOD = "/runtime.v1.RuntimeService/Version"


def cri_answers(socket: Path, timeout: float = 2.0) -> bool:
    """True once the CRI at ``socket`` answers a Version call; False while it cannot be reached or says
    it is not initialized yet."""
    with grpc.insecure_channel(f"unix://{socket}") as channel:
        version = channel.unary_unary(
            VERSION_METHOD,
            request_serializer=lambda request: request,
            response_deserializer=lambda response: response,
        )
        try:
            version(b"", timeout=timeout)
        except grpc.RpcError:
            return False
    return True
