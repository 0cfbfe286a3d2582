"""GET /api/v1/events: Server-Sent Events of the facts the caller may see.

The SSE ``id`` is the JetStream stream sequence, so ``Last-Event-ID`` resumes exactly."""

from __future__ import annotations

import asyncio
import contextlib
import json

from aiohttp import web
from berth_common.events import Envelope

from .auth.principal import Principal
from .context import REQUEST_ID, gw, principal, require, resolve_tenant
from .problems import ApiError

KEEPALIVE_SECONDS = 15.0


def _start_seq(request: web.Request) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.query.get("last_event_id") or ""
    if not raw:
        return None
    if not raw.isdigit():
        raise ApiError(
            400,
            "Last-Event-ID must be the numeric id of an event this stream sent",
            errors=[{"field": "Last-Event-ID", "message": "must be a non-negative integer"}],
        )
    return int(raw) + 1


def visible(env: Envelope, *, p: Principal, tenant: str | None, cluster: str, types: list[str]) -> bool:
    if tenant is not None and env.tenant != tenant:
        return False
    if tenant is None and not p.is_platform_admin:
        return False
    if cluster:
        subj = env.subject or ""
        in_cluster = subj == f"clusters/{cluster}" or subj.startswith(f"clusters/{cluster}/")
        if not in_cluster and env.data.get("cluster") != cluster:
            return False
    return not types or any(env.type == t or (t.endswith("*") and env.type.startswith(t[:-1])) for t in types)


async def stream_events(request: web.Request) -> web.StreamResponse:
    p = principal(request)
    tenant = resolve_tenant(request, p, required=False)
    require(p, "viewer", tenant)
    start = _start_seq(request)
    cluster = request.query.get("cluster", "")
    types = [t for raw in request.query.getall("type", []) for t in raw.split(",") if t]
    resp = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
            "X-Request-Id": request[REQUEST_ID],
        }
    )
    await resp.prepare(request)
    await resp.write(b": connected\nretry: 2000\n\n")
    queue: asyncio.Queue[tuple[int, Envelope]] = asyncio.Queue(maxsize=1000)

    async def pump() -> None:
        async for seq, env in gw(request).backend.events(subjects=["berth.evt.>"], start_seq=start):
            if visible(env, p=p, tenant=tenant, cluster=cluster, types=types):
                await queue.put((seq, env))

    task = asyncio.create_task(pump())
    try:
        while True:
            try:
                seq, env = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_SECONDS)
            except TimeoutError:
                if task.done():
                    break
                await resp.write(b": keepalive\n\n")
                continue
            data = json.dumps(env.model_dump(mode="json", exclude_none=True), separators=(",", ":"))
            await resp.write(f"id: {seq}\nevent: {env.type}\ndata: {data}\n\n".encode())
    except ConnectionResetError:
        pass
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    return resp
