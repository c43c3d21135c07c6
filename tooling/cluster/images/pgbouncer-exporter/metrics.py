"""The stand-in pgbouncer_exporter's metrics: /metrics on :9127 with pgbouncer_up 1 when PgBouncer (from
DATABASE_URL) accepts a connection, else 0."""

import http.server
import os
import socket
from urllib.parse import urlsplit


def up() -> bool:
    url = urlsplit(os.environ.get("DATABASE_URL", "postgresql://127.0.0.1:6543/pgbouncer"))
    try:
        with socket.create_connection((url.hostname or "127.0.0.1", url.port or 6543), timeout=1):
            return True
    except OSError:
        return False


class Metrics(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"# TYPE pgbouncer_up gauge\npgbouncer_up {int(up())}\n".encode()
        self.send_response(200 if self.path == "/metrics" else 404)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


http.server.ThreadingHTTPServer(("", 9127), Metrics).serve_forever()
