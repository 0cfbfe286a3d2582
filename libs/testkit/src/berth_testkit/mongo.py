"""A MongoDB-protocol server: FerretDB v1 on SQLite, or a real MongoDB at BERTH_MONGODB_URL."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from .parts import binary
from .procs import Proc, free_port, tcp_open

MONGODB_URL_ENV = "BERTH_MONGODB_URL"


@dataclass
class MongoServer:
    """``.url`` is a mongodb:// URL for pymongo's AsyncMongoClient."""

    url: str
    kind: str  # "ferretdb" or "external"
    proc: Proc | None = None
    startup_seconds: float = 0.0

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()


@dataclass
class FerretDB:
    work_dir: Path
    port: int = field(default_factory=free_port)
    debug_port: int = field(default_factory=free_port)

    def start(self) -> MongoServer:
        began = time.monotonic()
        data = self.work_dir / "sqlite"
        data.mkdir(parents=True, exist_ok=True)
        proc = Proc(
            "ferretdb",
            [
                binary("ferretdb"),
                f"--listen-addr=127.0.0.1:{self.port}",
                "--handler=sqlite",
                f"--sqlite-url=file:{data}/",
                f"--state-dir={self.work_dir}",
                f"--debug-addr=127.0.0.1:{self.debug_port}",
                "--telemetry=disable",
                "--log-level=WARN",
            ],
            log_dir=self.work_dir,
        ).start()
        proc.wait_ready(lambda: tcp_open(self.port), timeout=60, what=f"(port {self.port})")
        return MongoServer(
            url=f"mongodb://127.0.0.1:{self.port}/",
            kind="ferretdb",
            proc=proc,
            startup_seconds=time.monotonic() - began,
        )


def start_mongo(work_dir: Path) -> MongoServer:
    """The MongoDB at BERTH_MONGODB_URL when set, else a fresh FerretDB."""
    external = os.environ.get(MONGODB_URL_ENV)
    if external:
        return MongoServer(url=external, kind="external")
    return FerretDB(work_dir).start()
