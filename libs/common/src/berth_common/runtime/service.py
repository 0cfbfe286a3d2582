"""The service runtime: one object per service that wires bus, store, outbox relay and
the side port, runs until SIGTERM, then drains.

    app = ServiceApp("cluster-manager", owns=["berth.cmd.cluster-manager.>"], collections=["clusters"])

    @app.handler(ClusterCreate)
    async def create(cmd: ClusterCreate, ctx: Context) -> None:
        clusters = app.store.collection("clusters")
        ...

    def main() -> None:
        app.main()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from ..bus import Bus, StreamConfig
from ..events import Envelope, Registry
from ..events import registry as default_registry
from ..store import Store
from ..store.factory import open_store
from ..store.outbox import OutboxRelay
from .health import HealthServer, ReadyCheck
from .logs import setup_logging
from .metrics import OUTBOX_LAG, OUTBOX_PENDING, READY
from .settings import ServiceSettings
from .tracing import setup_tracing

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
Hook = Callable[["ServiceApp"], Awaitable[None]]
Loop = Callable[["ServiceApp"], Awaitable[None]]

VERSION = "0.1.0"


class ServiceApp:
    """Composition root of one Berth service (the ``bootstrap`` of Cosmic Python)."""

    def __init__(
        self,
        name: str,
        *,
        owns: Sequence[str] = (),
        collections: Sequence[str] = (),
        registry: Registry = default_registry,
        version: str = VERSION,
    ) -> None:
        self.name = name
        self.owns = list(owns)
        self.collections = list(collections)
        self.version = version
        self.bus = Bus(service=name, registry=registry)
        self._startup: list[Hook] = []
        self._shutdown: list[Hook] = []
        self._loops: list[Loop] = []
        self._ready_checks: dict[str, ReadyCheck] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._store: Store | None = None
        self._relay: OutboxRelay | None = None
        self._stopping = asyncio.Event() if _has_loop() else None
        self.settings: ServiceSettings | None = None
        self.started_at = time.time()
        self.health: HealthServer | None = None
        self.bus.query("info")(self._info)

    # --- declarations -------------------------------------------------------------
    def handler(self, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        return self.bus.handler(*args, **kwargs)

    def query(self, target: str | type[BaseModel]) -> Callable[[F], F]:
        """A query answered on ``berth.api.<service>.<op>``: a request model from the schema (typed)
        or a bare op name (internal ops such as ``info``)."""
        return self.bus.query(target)

    def on_startup(self, fn: Hook) -> Hook:
        self._startup.append(fn)
        return fn

    def on_shutdown(self, fn: Hook) -> Hook:
        self._shutdown.append(fn)
        return fn

    def ready_check(self, name: str, check: ReadyCheck) -> None:
        """Another condition of ``/readyz`` besides NATS and the store; it raises to say why not."""
        self._ready_checks[name] = check

    def background(self, fn: Loop) -> Loop:
        """A long-running loop started after the bus; cancelled when the service drains."""
        self._loops.append(fn)
        return fn

    # --- wired dependencies -------------------------------------------------------
    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError(f"{self.name}: the store is not open yet")
        return self._store

    @store.setter
    def store(self, value: Store) -> None:
        self._store = value

    @property
    def relay(self) -> OutboxRelay:
        if self._relay is None:
            raise RuntimeError(f"{self.name}: the outbox relay is not running")
        return self._relay

    def wake_relay(self) -> None:
        if self._relay is not None:
            self._relay.wake()

    # --- lifecycle ----------------------------------------------------------------
    async def start(self, settings: ServiceSettings, *, store: Store | None = None) -> None:
        self.settings = settings
        self._stopping = asyncio.Event()
        self.started_at = time.time()
        instance = settings.instance or f"{socket.gethostname()}-{os.getpid()}"
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self._store = store or open_store(
            settings.store_url_for(self.name), service=self.name, default_database=settings.mongodb_database
        )
        await self.bus.connect(
            servers=settings.nats_servers(),
            name=f"{self.name}-{instance}",
            user=settings.nats_user or None,
            password=settings.nats_password.get_secret_value() if settings.nats_password else None,
        )
        await self.bus.provision(StreamConfig(replicas=settings.stream_replicas))
        if self.collections:
            self._relay = OutboxRelay(self._store, self._publish, collections=self.collections)
            self._relay.start()
        for hook in self._startup:
            await hook(self)
        await self.bus.start()
        for loop in self._loops:
            self._tasks.append(asyncio.create_task(self._run_loop(loop), name=f"{self.name}:{loop.__name__}"))
        self.health = HealthServer(
            checks={"nats": self.bus.ping, "store": self._store.ping, **self._ready_checks},
            host=settings.http_host,
            port=settings.http_port,
            before_metrics=self._refresh_metrics,
        )
        port = await self.health.start()
        READY.labels(self.name).set(1)
        log.info("service started", extra={"http_port": port, "instance": instance, "owns": self.owns})

    async def _run_loop(self, loop: Loop) -> None:
        while True:
            try:
                await loop(self)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background loop %s crashed; restarting in 1s", loop.__name__)
                await asyncio.sleep(1.0)

    async def _publish(self, envelope: Envelope) -> None:
        await self.bus.publish(envelope)

    async def _refresh_metrics(self) -> None:
        if self._relay is not None:
            OUTBOX_LAG.labels(self.name).set(self._relay.lag_seconds())
            OUTBOX_PENDING.labels(self.name).set(self._relay.pending_count())

    async def stop(self) -> None:
        """SIGTERM drain: stop fetching, finish in-flight handlers, flush the outbox, close."""
        timeout = self.settings.drain_timeout if self.settings else 25.0
        deadline = time.monotonic() + timeout
        if self.health is not None:
            self.health.draining = True
        READY.labels(self.name).set(0)
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks.clear()
        with contextlib.suppress(Exception):
            await self.bus.drain(timeout=max(0.1, deadline - time.monotonic()))
        if self._relay is not None:
            try:
                if not await self._relay.flush(max(0.1, deadline - time.monotonic())):
                    log.warning("outbox not empty at shutdown; pending events are published on the next start")
            except Exception:
                log.exception("outbox flush failed; pending events stay in the store for the next start")
            await self._relay.stop()
        for hook in self._shutdown:
            with contextlib.suppress(Exception):
                await hook(self)
        await self.bus.close()
        if self._store is not None:
            await self._store.close()
        if self.health is not None:
            await self.health.stop()
        log.info("service stopped")

    def request_stop(self) -> None:
        if self._stopping is not None:
            self._stopping.set()

    async def serve(self, settings: ServiceSettings) -> None:
        """Start, wait for SIGTERM/SIGINT, then drain."""
        await self.start(settings)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, self.request_stop)
        assert self._stopping is not None
        await self._stopping.wait()
        log.info("signal received; draining")
        await self.stop()

    def main(self) -> None:
        """Console entry point: settings from BERTH_* variables; exit 0 after a clean drain."""
        settings = ServiceSettings()
        setup_logging(service=self.name, level=settings.log_level, json_format=settings.log_json)
        setup_tracing(service=self.name, exporter=settings.otel_exporter)
        asyncio.run(self.serve(settings))

    async def _info(self, request: dict[str, Any]) -> dict[str, Any]:
        return {
            "service": self.name,
            "version": self.version,
            "owns": self.owns,
            "handlers": sorted(self.bus.handlers),
            "subjects": self.bus.subjects,
            "uptime_seconds": round(time.time() - self.started_at, 3),
            "pid": os.getpid(),
        }


def _has_loop() -> bool:
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False
