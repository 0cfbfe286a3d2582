"""Least privilege on the bus, on a real nats-server configured from ``berth_schema.bus_permissions``:
a service is refused when it publishes a subject it does not own, answers another service's
queries or consumes another service's commands; what it is declared to do works; and every
service (and the gateway) starts with only its own credentials."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
from berth_common.bus import Bus, StreamConfig
from berth_common.events import Envelope
from berth_common.runtime.settings import ServiceSettings
from berth_schema import bus_permissions, wiring
from berth_testkit.nats import nats_server_binary
from berth_testkit.procs import Proc, free_port, tcp_open
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import api
from pydantic import SecretStr

# What a refused publish or request looks like to the client: nobody answers it.
DROPPED = (NatsTimeoutError, NoRespondersError, TimeoutError)


CHART_AUTHORIZATION = Path(__file__).resolve().parents[2] / "deploy/helm/berth/files/nats-authorization.conf"


class AuthNats:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.port, self.monitor = free_port(), free_port()
        self.passwords = {s: bus_permissions.new_password() for s in bus_permissions.ALL_IDENTITIES}
        self.proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> AuthNats:
        """nats-server with the chart's generated authorization file, passwords from its environment."""
        # nats-server resolves includes beside the config file, as in the chart's ConfigMap
        (self.work / "authorization.conf").write_text(CHART_AUTHORIZATION.read_text())
        path = self.work / "nats.conf"
        path.write_text(
            f"listen: 127.0.0.1:{self.port}\n"
            f"http: 127.0.0.1:{self.monitor}\n"
            f'jetstream {{ store_dir: "{self.work / "js"}" }}\n'
            "include authorization.conf\n"
        )
        env = {bus_permissions.password_variable(i): pw for i, pw in self.passwords.items()}
        argv = [nats_server_binary(), "-c", str(path)]
        self.proc = Proc("nats-server", argv, log_dir=self.work, env=env).start()
        self.proc.wait_ready(lambda: tcp_open(self.port), timeout=30, what="(nats-server with authorization)")
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()


@pytest.fixture(scope="module")
def auth_nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthNats]:
    server = AuthNats(tmp_path_factory.mktemp("nats-auth")).start()
    try:
        yield server
    finally:
        server.stop()


class Client:
    """A raw NATS connection as one identity, collecting the permission errors the server sends."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.nc: Any = None

    async def connect(self, server: AuthNats, user: str) -> Client:
        password = server.passwords[user]

        async def on_error(exc: Exception) -> None:
            self.errors.append(str(exc))

        self.nc = await nats.connect(server.url, user=user, password=password, error_cb=on_error)
        return self

    async def violations(self) -> list[str]:
        await self.nc.flush()
        await asyncio.sleep(0.2)
        return [e for e in self.errors if "ermissions" in e]


@pytest.fixture
async def as_service(auth_nats: AuthNats) -> AsyncIterator[Any]:
    clients: list[Client] = []

    async def connect(user: str) -> Client:
        c = await Client().connect(auth_nats, user)
        clients.append(c)
        return c

    yield connect
    for c in clients:
        await c.nc.close()


@pytest.fixture(scope="module")
async def streams(auth_nats: AuthNats) -> None:
    bus = Bus(service="cluster-manager")
    await bus.connect(servers=auth_nats.url, user="cluster-manager", password=auth_nats.passwords["cluster-manager"])
    try:
        await bus.provision(StreamConfig())
    finally:
        await bus.close()


def _event(type_: str, **data: Any) -> bytes:
    return Envelope(source="test", type=type_, data=data).to_json()


async def test_a_service_is_refused_publishing_another_domains_fact(as_service: Any, streams: None) -> None:
    rs = await as_service("registry-sync")
    with pytest.raises(DROPPED):  # the server drops it: no stream ever acknowledges it
        await rs.nc.jetstream(timeout=1).publish("berth.evt.cluster.running", _event("berth.cluster.running.v1"))
    assert any("berth.evt.cluster.running" in v for v in await rs.violations())
    ack = await rs.nc.jetstream(timeout=5).publish(
        "berth.evt.registry.execution-started", _event("berth.registry.execution-started.v1")
    )
    assert ack.stream == "BERTH_EVENTS"


async def test_commands_only_where_declared(as_service: Any, streams: None) -> None:
    ma = await as_service("monitor-alert")
    ack = await ma.nc.jetstream(timeout=5).publish("berth.cmd.node-manager.scale-pool", b"{}")
    assert ack.stream == "BERTH_COMMANDS"
    with pytest.raises(DROPPED):
        await ma.nc.jetstream(timeout=1).publish("berth.cmd.node-manager.create-pool", b"{}")
    with pytest.raises(DROPPED):
        await ma.nc.jetstream(timeout=1).publish("berth.cmd.dr-switcher.switchover", b"{}")
    assert len(await ma.violations()) >= 2


async def test_a_service_cannot_answer_another_services_queries(as_service: Any) -> None:
    nm = await as_service("node-manager")
    await nm.nc.subscribe("berth.api.cluster-manager.get-kubeconfig")
    assert any("berth.api.cluster-manager.get-kubeconfig" in v for v in await nm.violations())


async def test_a_service_cannot_consume_another_services_commands(as_service: Any, streams: None) -> None:
    rs = await as_service("registry-sync")
    js = rs.nc.jetstream(timeout=1)
    config = api.ConsumerConfig(
        name="registry-sync-steal",
        durable_name="registry-sync-steal",
        filter_subject="berth.cmd.cluster-manager.create",
    )
    with pytest.raises(DROPPED):
        await js.add_consumer("BERTH_COMMANDS", config=config)
    assert await rs.violations()


async def test_asks_only_the_queries_it_is_declared_to_ask(as_service: Any) -> None:
    nm = await as_service("node-manager")
    with pytest.raises(DROPPED):
        await nm.nc.request("berth.api.dr-switcher.list-groups", b"{}", timeout=0.5)
    assert any("berth.api.dr-switcher.list-groups" in v for v in await nm.violations())


def _declared_app(service: str) -> Any:
    if service == wiring.GATEWAY:
        from berth_gateway.app import bootstrap

        return bootstrap()
    return importlib.import_module("berth_" + service.replace("-", "_") + ".main").app


async def _follow_briefly(bus: Bus) -> None:
    """What the gateway does besides queries and commands: follow facts (SSE) and dead letters."""
    from berth_gateway.backend import BusBackend

    async def facts() -> None:
        async for _ in bus.events(subjects=["berth.evt.>"], start_seq=1):
            pass

    async def dead() -> None:
        async for _ in BusBackend(bus).dead_letters():
            pass

    tasks = [asyncio.create_task(facts()), asyncio.create_task(dead())]
    await asyncio.sleep(1.0)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@pytest.mark.parametrize("service", bus_permissions.ALL_IDENTITIES)
async def test_each_service_runs_its_bus_with_only_its_own_credentials(
    auth_nats: AuthNats, streams: None, service: str
) -> None:
    """The service's real bus declarations (consumers, query endpoints) start under its permissions."""
    app = _declared_app(service)
    bus = Bus(service=service, registry=app.bus.registry)
    bus._handlers = dict(app.bus._handlers)  # the declarations only; nothing is delivered here
    bus._queries = dict(app.bus._queries)
    settings = ServiceSettings(
        nats_url=auth_nats.url, nats_user=service, nats_password=SecretStr(auth_nats.passwords[service])
    )
    errors: list[str] = []
    await bus.connect(servers=settings.nats_servers(), user=settings.nats_user, password=auth_nats.passwords[service])
    bus.nc._error_cb = _collect(errors)
    try:
        await bus.provision(StreamConfig())
        await bus.start()
        if service == wiring.GATEWAY:
            await _follow_briefly(bus)
        await bus.nc.flush()
        await asyncio.sleep(0.3)
        assert not [e for e in errors if "ermissions" in e], errors
    finally:
        await bus.drain(timeout=2)
        await bus.close()


def _collect(errors: list[str]) -> Any:
    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    return on_error


def test_the_charts_nats_authorization_matches_the_schema() -> None:
    assert CHART_AUTHORIZATION.read_text() == bus_permissions.nats_authorization_conf(), (
        "deploy/helm/berth/files/nats-authorization.conf is out of date; run scripts/gen-proto and commit it"
    )
