"""A plain HTTP client of the gateway that keeps every answer's status and body (a failing flow
reports exactly what the gateway said), and a receiver standing in for a chat webhook / a site."""

from __future__ import annotations

import json
import ssl
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    method: str
    path: str
    status: int
    body: Any

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> HTTP {self.status} {json.dumps(self.body)[:1500]}"

    def field_errors(self) -> set[str]:
        """The fields a problem+json answer names (``errors[].field`` and its last dotted part)."""
        errors = self.body.get("errors") if isinstance(self.body, dict) else None
        names: set[str] = set()
        for e in errors or []:
            f = str(e.get("field", ""))
            names |= {f, f.split(".")[-1]}
        return names


@dataclass
class Api:
    url: str
    token: str
    tenant: str = ""
    ca_file: str | None = None  # the CA the gateway's certificate is checked against
    calls: list[Reply] = field(default_factory=list)

    def call(self, method: str, path: str, body: Any = None, *, tenant: str | None = None, **headers: str) -> Reply:
        hdrs = {"Authorization": f"Bearer {self.token}", "Accept": "application/json", **headers}
        t = self.tenant if tenant is None else tenant
        if t:
            hdrs["X-Berth-Tenant"] = t
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        if method == "POST" and path.startswith("/api/"):
            hdrs.setdefault("Idempotency-Key", str(uuid.uuid4()))
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
        try:
            context = ssl.create_default_context(cafile=self.ca_file) if self.url.startswith("https:") else None
            with urllib.request.urlopen(req, timeout=30, context=context) as r:
                status, raw = int(r.status), r.read()
        except urllib.error.HTTPError as exc:
            status, raw = int(exc.code), exc.read()
        try:
            parsed: Any = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        reply = Reply(method, path, status, parsed)
        self.calls.append(reply)
        return reply

    def get(self, path: str, **kw: Any) -> Reply:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.call("POST", path, body, **kw)

    def accepted(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        """A write the gateway accepts: 201/202 (the operation, when there is one)."""
        reply = self.call(method, path, body)
        assert reply.status in (200, 201, 202), str(reply)
        return reply.body if isinstance(reply.body, dict) else {}

    def operation(self, accepted: dict[str, Any], *, within: float) -> dict[str, Any]:
        """Wait for the operation of a 202 to end; it must succeed."""
        op = accepted.get("operation")
        assert op, f"no operation in {accepted}"
        deadline = time.monotonic() + within
        while True:
            reply = self.get(f"/api/v1/operations/{op['id']}")
            assert reply.status == 200, str(reply)
            if reply.body["state"] in ("succeeded", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert reply.body["state"] == "succeeded", f"operation {op['id']} did not succeed: {reply}"
        return dict(reply.body)

    def eventually(self, path: str, check: Callable[[Reply], bool], *, within: float = 30.0) -> Reply:
        """GET ``path`` until ``check`` holds; fails with the last answer."""
        deadline = time.monotonic() + within
        while True:
            reply = self.get(path)
            if check(reply):
                return reply
            if time.monotonic() > deadline:
                raise AssertionError(f"not reached within {within:g}s; last answer: {reply}")
            time.sleep(0.5)

    def bad_body(self, path: str, body: dict[str, Any], field: str) -> Reply:
        """A body with a wrong ``field`` gets a 4xx naming it."""
        reply = self.post(path, body)
        assert 400 <= reply.status < 500, f"a bad {field} was not refused: {reply}"
        named = reply.field_errors() | {w.strip("'\":,.") for w in json.dumps(reply.body).split()}
        assert field in named, f"the 4xx does not name {field}: {reply}"
        return reply


def items(reply: Reply) -> list[dict[str, Any]]:
    assert reply.status == 200, str(reply)
    return list(reply.body.get("items", []))


@dataclass
class Receiver:
    """Records every POST (path, headers, JSON body); answers GET with 200 "ok" (a healthy site)
    and POST the way a DingTalk robot does ({"errcode": 0})."""

    url: str = ""
    posts: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)


@contextmanager
def receiver() -> Iterator[Receiver]:
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, body: bytes, ctype: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._send(b"ok", "text/plain")

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
            rec.posts.append((self.path, dict(self.headers.items()), body))
            self._send(b'{"errcode":0,"errmsg":"ok"}', "application/json")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
