"""PowerDNS Authoritative (Debian pdns-server) with the sqlite3 backend and its HTTP API."""

from __future__ import annotations

import secrets
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from .parts import INSTALL_HINT, binary
from .probes import http_ok
from .procs import PartMissing, Proc, free_port

SCHEMA_CANDIDATES = (
    Path("/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql"),
    Path("/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql"),
)


def sqlite_schema() -> str:
    for path in SCHEMA_CANDIDATES:
        if path.is_file():
            return path.read_text()
    raise PartMissing(f"PowerDNS sqlite3 schema not found (pdns-backend-sqlite3). {INSTALL_HINT}")


@dataclass
class PowerDNS:
    """``.api_url`` (…/api/v1/servers/localhost) with header X-API-Key: ``.api_key``;
    authoritative DNS on 127.0.0.1:``.dns_port`` (UDP and TCP)."""

    work_dir: Path
    api_key: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    dns_port: int = field(default_factory=free_port)
    web_port: int = field(default_factory=free_port)
    proc: Proc | None = None
    startup_seconds: float = 0.0

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def api_url(self) -> str:
        return f"{self.web_url}/api/v1/servers/localhost"

    @property
    def api_headers(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key}

    def start(self) -> PowerDNS:
        began = time.monotonic()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        db = self.work_dir / "pdns.sqlite3"
        if not db.exists():
            with sqlite3.connect(db) as conn:
                conn.executescript(sqlite_schema())
        # An empty config dir keeps Debian's /etc/powerdns (bind backend, setuid pdns) out.
        (self.work_dir / "pdns.conf").write_text("")
        self.proc = Proc(
            "pdns_server",
            [
                binary("pdns_server"),
                f"--config-dir={self.work_dir}",
                f"--socket-dir={self.work_dir}",
                "--guardian=no",
                "--daemon=no",
                "--disable-syslog",
                "--write-pid=no",
                "--log-timestamp=no",
                "--launch=gsqlite3",
                f"--gsqlite3-database={db}",
                "--local-address=127.0.0.1",
                f"--local-port={self.dns_port}",
                "--api=yes",
                f"--api-key={self.api_key}",
                "--webserver=yes",
                "--webserver-address=127.0.0.1",
                f"--webserver-port={self.web_port}",
                "--webserver-allow-from=127.0.0.0/8",
                "--security-poll-suffix=",
                "--loglevel=4",
            ],
            log_dir=self.work_dir,
        ).start()
        self.proc.wait_ready(lambda: http_ok(self.api_url, expect=(401,)), timeout=30, what="(HTTP API)")
        self.startup_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()
