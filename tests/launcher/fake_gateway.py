"""A stand-in gateway for CLI tests: records each request, answers from a table of canned replies,
and completes every operation at once."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeGateway:
    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    # (method, path without query) -> (status, body)
    replies: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)

    def writes(self) -> list[Seen]:
        return [s for s in self.seen if s.method != "GET"]


def _handler(fake: FakeGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            fake.seen.append(
                Seen(self.command, self.path, dict(self.headers.items()), json.loads(raw) if raw else None)
            )
            path = self.path.split("?", 1)[0]
            if (self.command, path) in fake.replies:
                status, body = fake.replies[(self.command, path)]
            elif self.command == "GET" and path.startswith("/api/v1/operations/"):
                op_id = path.rsplit("/", 1)[1]
                status, body = 200, {"id": op_id, "state": "succeeded", "message": "done", "steps": []}
            elif self.command in ("POST", "PUT", "DELETE"):
                op = {"id": "op-1", "kind": "x", "target": path, "state": "pending", "message": ""}
                status, body = 202, {"operation": op}
            else:
                status, body = 404, {"detail": f"no route {path}"}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if status < 400 else "application/problem+json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

    return Handler


@contextmanager
def fake_gateway(*, tls: tuple[Path, Path] | None = None) -> Iterator[FakeGateway]:
    """Plain HTTP, or HTTPS with ``tls`` (certificate and key PEM files)."""
    fake = FakeGateway()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    scheme = "http"
    if tls is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certfile=tls[0], keyfile=tls[1])
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    fake.url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
