"""nats-server and every service, each from its own environment's console script with the chart's
settings; ``stop()`` ends every process it started (and what they started detached under their
data directories, e.g. local clusters' control planes), whatever happened before."""

from __future__ import annotations

import contextlib
import os
import secrets
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from berth_schema.bus_permissions import new_password, password_variable
from berth_testkit.nats import nats_server_binary
from berth_testkit.procs import Proc, free_port, stop_processes_under, tcp_open
from cryptography.fernet import Fernet

from berth.certs import GatewayTls, gateway_tls

from .chart import CHART, ServiceChart
from .images import SERVICES, Image

AUTHORIZATION = CHART / "files" / "nats-authorization.conf"


@dataclass
class ChartNats:
    """nats-server with JetStream and the chart's generated authorization (each service its own
    user and bus permissions), its passwords from its environment, as the bundled NATS runs."""

    work: Path
    port: int = field(default_factory=free_port)
    monitor_port: int = field(default_factory=free_port)
    passwords: dict[str, str] = field(default_factory=lambda: {s: new_password() for s in SERVICES})
    proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> ChartNats:
        self.work.mkdir(parents=True, exist_ok=True)
        # nats-server resolves the include beside the config file, as in the chart's ConfigMap
        (self.work / "authorization.conf").write_text(AUTHORIZATION.read_text())
        conf = self.work / "nats.conf"
        conf.write_text(
            f"listen: 127.0.0.1:{self.port}\n"
            f"http: 127.0.0.1:{self.monitor_port}\n"
            f'jetstream {{ store_dir: "{self.work / "jetstream"}" }}\n'
            "include authorization.conf\n"
        )
        env = {password_variable(s): pw for s, pw in self.passwords.items()}
        self.proc = Proc("nats-server", [nats_server_binary(), "-c", str(conf)], log_dir=self.work, env=env).start()
        self.proc.wait_ready(lambda: tcp_open(self.port), timeout=30, what="(nats-server with the chart's users)")
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()


# the parent's variables a service may see: nothing of the workspace's Python, no BERTH_* of ours
# except where the local provider finds its binaries
PASS_BERTH = ("BERTH_PARTS_CACHE", "BERTH_BIN_", "BERTH_KUBE_VERSION", "BERTH_ETCD_VERSION", "BERTH_KWOK_VERSION")


def base_environ() -> dict[str, str]:
    env: dict[str, str] = {}
    for k, v in os.environ.items():
        if k in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT"):
            continue
        if k.startswith("BERTH_") and not k.startswith(PASS_BERTH) and k != "BERTH_TEST_SESSION":
            continue
        env[k] = v
    venv_bin = str(Path(os.environ.get("VIRTUAL_ENV", "/nonexistent")) / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    return env


@dataclass
class Service:
    name: str
    proc: Proc
    http_port: int
    data_dir: Path

    def ready(self) -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/readyz", timeout=2) as r:
            return bool(r.status == 200)


@dataclass
class ShippedStack:
    work: Path
    images: dict[str, Image]
    charts: dict[str, ServiceChart]
    nats: ChartNats
    store_url: str
    database: str
    admin_token: str = field(default_factory=lambda: "berth_" + secrets.token_urlsafe(24))
    secrets_key: str = field(default_factory=lambda: Fernet.generate_key().decode())
    hooks_token: str = field(default_factory=lambda: "hooks" + secrets.token_hex(16))
    gateway_port: int = field(default_factory=free_port)
    services: dict[str, Service] = field(default_factory=dict)
    not_ready: dict[str, str] = field(default_factory=dict)  # service -> why (its exit and log tail)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.gateway_port}"

    @property
    def tls(self) -> GatewayTls:
        """The gateway's serving certificate: what the chart's generated TLS Secret holds, made here
        (once: later calls find the same files)."""
        where = self.work / "gateway-tls"
        where.mkdir(parents=True, exist_ok=True, mode=0o700)
        return gateway_tls(where, "127.0.0.1")

    def env_for(self, service: str, http_port: int, data_dir: Path) -> dict[str, str]:
        chart = self.charts[service]
        env = dict(chart.env)
        env.update(
            BERTH_NATS_URL=self.nats.url,
            BERTH_HTTP_HOST="127.0.0.1",
            BERTH_HTTP_PORT=str(http_port),
            BERTH_DATA_DIR=str(data_dir),
            BERTH_GATEWAY_HOST="127.0.0.1",
            BERTH_GATEWAY_PORT=str(self.gateway_port),
            BERTH_MONGODB_DATABASE=self.database,  # the chart's one shared database, this test's own
        )
        fills = {
            "BERTH_STORE_URL": self.store_url,
            "BERTH_SECRETS_KEY": self.secrets_key,
            "BERTH_ADMIN_TOKEN": self.admin_token,
            "BERTH_INSTANCE": f"{service}-0",
            "BERTH_NATS_PASSWORD": self.nats.passwords[service],
            "BERTH_GATEWAY_HOOKS_TOKEN": self.hooks_token,
        }
        env.update({k: fills[k] for k in chart.from_secrets})
        # the chart mounts the TLS Secret as files; here they are this stack's own files
        if "BERTH_GATEWAY_TLS_CERT_FILE" in env:
            env["BERTH_GATEWAY_TLS_CERT_FILE"] = str(self.tls.cert_file)
            env["BERTH_GATEWAY_TLS_KEY_FILE"] = str(self.tls.key_file)
        return env

    def start(self) -> ShippedStack:
        for service in SERVICES:
            chart, image = self.charts[service], self.images[service]
            assert chart.command == [f"berth-{service}"], f"{service}: the chart runs {chart.command}"
            script = image.script(chart.command[0])
            data_dir = self.work / service
            data_dir.mkdir(parents=True, exist_ok=True)
            port = free_port()
            proc = Proc(
                service,
                [str(script)],
                log_dir=self.work / "logs",
                env={**base_environ(), **self.env_for(service, port, data_dir)},
                cwd=data_dir,
                inherit_env=False,
            )
            self.services[service] = Service(service, proc, port, data_dir)
            proc.start()
        for svc in self.services.values():
            try:
                svc.proc.wait_ready(svc.ready, timeout=90, what="(/readyz)")
            except (RuntimeError, TimeoutError) as exc:
                # recorded, not raised: the flows of the other services still run and say what they get
                self.not_ready[svc.name] = str(exc)
        if "gateway" in self.not_ready:
            raise RuntimeError(self.not_ready["gateway"])
        return self

    def stop(self) -> None:
        for svc in self.services.values():
            with contextlib.suppress(Exception):
                svc.proc.stop(timeout=30)
        for svc in self.services.values():
            stop_processes_under(svc.data_dir)

    def logs(self, service: str, lines: int = 80) -> str:
        return self.services[service].proc.log_tail(lines)
