"""The CRI probe against a gRPC server on a unix socket that answers as containerd does while its CRI
plugin initializes, and after."""

from __future__ import annotations

from concurrent import futures
from pathlib import Path

import grpc
import pytest

from tooling.cluster.cri import VERSION_METHOD, cri_answers


class FakeCri(grpc.GenericRpcHandler):
    """containerd's CRI: "server is not initialized yet" until ``initialized`` is set."""

    def __init__(self) -> None:
        self.initialized = False
        self.requests: list[bytes] = []

    def service(self, handler_call_details):
        if handler_call_details.method != VERSION_METHOD:
            return None

        def version(request: bytes, context: grpc.ServicerContext) -> bytes:
            self.requests.append(request)
            if not self.initialized:
                context.abort(grpc.StatusCode.UNKNOWN, "server is not initialized yet")
            return b"\x0a\x050.1.0"  # version: "0.1.0"

        return grpc.unary_unary_rpc_method_handler(version)


@pytest.fixture
def cri(tmp_path: Path):
    fake = FakeCri()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), handlers=[fake])
    socket = tmp_path / "containerd.sock"
    server.add_insecure_port(f"unix://{socket}")
    server.start()
    try:
        yield fake, socket
    finally:
        server.stop(grace=None)


def test_a_cri_that_is_not_initialized_yet_does_not_answer(cri) -> None:
    fake, socket = cri
    assert not cri_answers(socket)
    assert fake.requests == [b""]


def test_an_initialized_cri_answers(cri) -> None:
    fake, socket = cri
    fake.initialized = True
    assert cri_answers(socket)


def test_a_socket_nobody_listens_on_does_not_answer(tmp_path: Path) -> None:
    assert not cri_answers(tmp_path / "nothing.sock", timeout=0.2)
