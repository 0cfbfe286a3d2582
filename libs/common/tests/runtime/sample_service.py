"""A tiny service on the runtime, used by the runtime tests (in-process and as a child process)."""

from __future__ import annotations

import asyncio
import os

from berth_common.bus import Context
from berth_common.events import command, event, registry
from berth_common.runtime import ServiceApp
from pydantic import BaseModel


@command("berth.cmd.rt-sample.bump.v1", service="rt-sample", verb="bump")
class Bump(BaseModel):
    counter: str
    sleep: float = 0.0


@event("berth.rt-sample.bumped.v1", domain="rt-sample", name="bumped")
class Bumped(BaseModel):
    counter: str
    value: int


def build(name: str = "rt-sample") -> ServiceApp:
    app = ServiceApp(name, owns=["berth.cmd.rt-sample.>"], collections=["counters"])

    @app.handler(Bump, concurrency=4, max_deliver=5, ack_wait=5)
    async def bump(cmd: Bump, ctx: Context) -> None:
        if cmd.sleep:
            await asyncio.sleep(cmd.sleep)
        col = app.store.collection("counters")
        rec = await col.get(cmd.counter)
        if rec is not None and rec.has_applied(ctx.envelope.id):
            return
        value = (rec.data["value"] if rec else 0) + 1
        fact = registry.envelope(Bumped(counter=cmd.counter, value=value), source=name, **ctx.envelope.caused())
        if rec is None:
            await col.create(cmd.counter, {"value": value}, events=[fact], caused_by=ctx.envelope.id)
        else:
            await col.replace(
                cmd.counter, {"value": value}, expected_version=rec.version, events=[fact], caused_by=ctx.envelope.id
            )
        app.wake_relay()

    return app


app = build()

if __name__ == "__main__":
    os.environ.setdefault("BERTH_LOG_JSON", "true")
    app.main()
