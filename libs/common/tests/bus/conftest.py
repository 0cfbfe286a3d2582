"""Fixtures for the bus tests: a fresh registry with models of a unique domain per test,
and buses that are closed when the test ends."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import ClassVar

import pytest
from berth_common.bus import Bus, StreamConfig
from berth_common.events import MessageSpec, Registry
from berth_testkit.nats import NatsServer
from pydantic import BaseModel


class Ping(BaseModel):
    n: int
    note: str = ""


class Do(BaseModel):
    n: int


@dataclass
class Kit:
    url: str
    tag: str
    registry: Registry
    buses: list[Bus] = field(default_factory=list)
    Ping: ClassVar[type[Ping]] = Ping
    Do: ClassVar[type[Do]] = Do

    @property
    def ping_subject(self) -> str:
        return f"berth.evt.{self.tag}.ping"

    @property
    def ping_type(self) -> str:
        return f"berth.{self.tag}.ping.v1"

    @property
    def do_subject(self) -> str:
        return f"berth.cmd.{self.tag}.do"

    def service(self, suffix: str = "svc") -> str:
        return f"{self.tag}-{suffix}"

    def bus(self, suffix: str = "svc") -> Bus:
        b = Bus(service=self.service(suffix), registry=self.registry, streams=STREAMS)
        self.buses.append(b)
        return b

    async def connected(self, suffix: str = "svc") -> Bus:
        b = self.bus(suffix)
        await b.connect(servers=[self.url], max_wait=10)
        await b.provision()
        return b


STREAMS = StreamConfig(replicas=1, events_max_age=3600, commands_max_age=3600)


def make_registry(tag: str) -> Registry:
    reg = Registry()
    reg.register(MessageSpec(f"berth.{tag}.ping.v1", "event", f"berth.evt.{tag}.ping", Ping, ""))
    reg.register(MessageSpec(f"berth.{tag}.do.v1", "command", f"berth.cmd.{tag}.do", Do, ""))
    return reg


def new_tag() -> str:
    return "t" + uuid.uuid4().hex[:10]


async def _kit(url: str) -> AsyncIterator[Kit]:
    tag = new_tag()
    kit = Kit(url=url, tag=tag, registry=make_registry(tag))
    yield kit
    for b in kit.buses:
        await b.close()


@pytest.fixture
async def kit(nats_server: NatsServer) -> AsyncIterator[Kit]:
    async for k in _kit(nats_server.url):
        yield k


@pytest.fixture
async def isolated_kit(nats_isolated: NatsServer) -> AsyncIterator[Kit]:
    async for k in _kit(nats_isolated.url):
        yield k


async def wait_for(check: Callable[[], bool | Awaitable[bool]], *, timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or check}")


@pytest.fixture
def waiter() -> Callable[..., Awaitable[None]]:
    return wait_for
