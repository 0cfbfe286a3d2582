"""A site is a real aiohttp server on a loopback address whose /healthz answer the test
controls: a fixed status, a repeating pattern of statuses (flapping), or a partition (the
connection of a given client address is cut without an answer)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from aiohttp import web


class Site:
    def __init__(self, host: str) -> None:
        self.host = host
        self.port = 0
        self.status = 200
        self._pattern: Iterator[int] | None = None
        self.requests = 0
        self.cut_off: set[str] = set()  # client addresses whose connections are dropped
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/healthz"

    def answer(self, status: int) -> None:
        self._pattern = None
        self.status = status

    def flap(self, statuses: list[int]) -> None:
        self._pattern = itertools.cycle(statuses)

    def partition(self, *clients: str) -> None:
        """Drop every connection from ``clients`` (a network partition as they see it)."""
        self.cut_off = set(clients)

    async def _healthz(self, request: web.Request) -> web.Response:
        if request.remote in self.cut_off:
            assert request.transport is not None
            request.transport.abort()
            raise web.HTTPServiceUnavailable()  # never sent: the connection is gone
        self.requests += 1
        status = next(self._pattern) if self._pattern is not None else self.status
        return web.Response(status=status, text="ok" if status == 200 else "down")

    async def start(self) -> Site:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
