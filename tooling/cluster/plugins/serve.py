"""How a Pulumi plugin starts: it listens on loopback, prints its port on stdout, and serves until the
engine ends it."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from concurrent import futures

import grpc

# The engine sends whole deployments' worth of properties; gRPC's 4 MiB default is too small for some.
_MAX_MESSAGE = 400 * 1024 * 1024


def serve(register: Callable[[grpc.Server], None]) -> None:
    """Serves the servicers ``register`` adds, on a loopback port the engine reads from stdout."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=8),
        options=[
            ("grpc.max_receive_message_length", _MAX_MESSAGE),
            ("grpc.max_send_message_length", _MAX_MESSAGE),
        ],
    )
    register(server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: server.stop(0))
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:
        server.stop(0)
    sys.exit(0)
