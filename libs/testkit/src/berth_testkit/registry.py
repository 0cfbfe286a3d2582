"""An OCI registry: Debian's docker-registry (distribution v2) on a loopback port."""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bcrypt
import yaml

from .parts import binary
from .probes import http_ok
from .procs import Proc, free_port


@dataclass
class Registry:
    """``.url`` is http://127.0.0.1:<port>; basic auth with ``.username``/``.password`` unless open.

    ``notify`` is a list of webhook URLs the registry posts its push/pull/delete events to.
    """

    work_dir: Path
    auth: bool = True
    username: str = "berth"
    password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    notify: Sequence[str] = ()
    notify_headers: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: Proc | None = None
    startup_seconds: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        """host:port, as image references name the registry."""
        return f"127.0.0.1:{self.port}"

    @property
    def auth_headers(self) -> dict[str, str]:
        """The Authorization header for this registry's user ({} when open)."""
        if not self.auth:
            return {}
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    @property
    def credentials(self) -> tuple[str, str] | None:
        return (self.username, self.password) if self.auth else None

    def config(self) -> dict[str, Any]:
        cfg: dict[str, Any] = {
            "version": 0.1,
            "log": {"level": "info", "accesslog": {"disabled": True}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.work_dir / "data")},
                "delete": {"enabled": True},
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": {"addr": self.host, "secret": secrets.token_hex(16)},
        }
        if self.auth:
            htpasswd = self.work_dir / "htpasswd"
            hashed = bcrypt.hashpw(self.password.encode(), bcrypt.gensalt(rounds=5)).decode()
            htpasswd.write_text(f"{self.username}:{hashed}\n")
            cfg["auth"] = {"htpasswd": {"realm": "berth-test", "path": str(htpasswd)}}
        if self.notify:
            cfg["notifications"] = {
                "endpoints": [
                    {
                        "name": f"hook{i}",
                        "url": url,
                        "timeout": "2s",
                        "threshold": 3,
                        "backoff": "1s",
                        "headers": {k: [v] for k, v in self.notify_headers.items()},
                    }
                    for i, url in enumerate(self.notify)
                ]
            }
        return cfg

    def start(self) -> Registry:
        began = time.monotonic()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        config = self.work_dir / "config.yml"
        config.write_text(yaml.safe_dump(self.config()))
        self.proc = Proc(
            "docker-registry", [binary("docker-registry"), "serve", str(config)], log_dir=self.work_dir
        ).start()
        expect = (401,) if self.auth else (200,)
        self.proc.wait_ready(lambda: http_ok(f"{self.url}/v2/", expect=expect), timeout=30, what="(/v2/)")
        self.startup_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()
