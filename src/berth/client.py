"""A small synchronous client of the gateway's HTTP API (urllib; no extra dependency)."""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


class ApiProblem(Exception):
    """An error answer of the API (problem+json), or the server being unreachable."""

    def __init__(self, status: int, detail: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or []

    def render(self) -> str:
        lines = [f"error: {self.detail}" + (f" (HTTP {self.status})" if self.status else "")]
        lines += [f"  {e.get('field', '?')}: {e.get('message', '')}" for e in self.errors]
        return "\n".join(lines)


@dataclass
class Client:
    server: str
    token: str
    tenant: str = ""
    timeout: float = 30.0
    # PEM CA the gateway's certificate is verified with (else the system's); verification is never off
    ca_file: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    # the first page list_all read, for what a list says beside its items (e.g. ``remaining``)
    first_page: dict[str, Any] = field(default_factory=dict)

    def request(self, method: str, path: str, body: Any = None, *, idempotent: bool = False) -> Any:
        url = self.server.rstrip("/") + path
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": "application/json", **self.headers}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.tenant:
            headers["X-Berth-Tenant"] = self.tenant
        if data is not None:
            headers["Content-Type"] = "application/json"
        if idempotent:
            headers["Idempotency-Key"] = str(uuid.uuid4())
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        context = self.ssl_context() if url.startswith("https:") else None
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=context) as resp:
                raw = resp.read()
                if not raw:
                    return None
                ctype = resp.headers.get("Content-Type", "")
                return json.loads(raw) if "json" in ctype else raw.decode()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                problem = json.loads(raw)
            except ValueError:
                raise ApiProblem(exc.code, raw.decode(errors="replace") or exc.reason) from None
            raise ApiProblem(exc.code, str(problem.get("detail", exc.reason)), problem.get("errors")) from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, ssl.SSLCertVerificationError):
                trusted = f"the CA in {self.ca_file}" if self.ca_file else "the system's CAs"
                raise ApiProblem(
                    0,
                    f"cannot verify the Berth gateway's TLS certificate at {self.server} with {trusted}: "
                    f"{exc.reason.verify_message or exc.reason}; pass the CA that signed it with --ca-file "
                    "(`berth up` writes <data dir>/gateway-ca.pem)",
                ) from None
            raise ApiProblem(0, f"cannot reach the Berth gateway at {self.server}: {exc.reason}") from None

    def ssl_context(self) -> ssl.SSLContext:
        if not self.ca_file:
            return ssl.create_default_context()
        try:
            return ssl.create_default_context(cafile=self.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ApiProblem(0, f"cannot read the CA file {self.ca_file}: {exc}") from None

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def list_all(self, path: str, *, limit: int = 200) -> Iterator[dict[str, Any]]:
        sep = "&" if "?" in path else "?"
        cursor = ""
        while True:
            page = self.get(f"{path}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else ""))
            if not cursor:
                self.first_page = page
            yield from page["items"]
            cursor = page.get("next_cursor") or ""
            if not cursor:
                return

    def wait(
        self,
        operation: dict[str, Any],
        *,
        timeout: float,
        interval: float = 0.5,
        on_update: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Poll /api/v1/operations/{id} until it succeeds or fails (or ``timeout`` seconds pass)."""
        deadline = time.monotonic() + timeout
        op = operation
        while True:
            op = dict(self.get(f"/api/v1/operations/{operation['id']}"))
            if on_update is not None:
                on_update(op)
            if op["state"] in ("succeeded", "failed"):
                return op
            if time.monotonic() > deadline:
                raise ApiProblem(0, f"operation {op['id']} still {op['state']} after {timeout:g}s: {op['message']}")
            time.sleep(interval)
