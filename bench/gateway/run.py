"""Benchmark: the gateway's list and create calls against a raw aiohttp hello-world anchor.

    uv run python bench/gateway/run.py [--seconds 5] [--concurrency 32]

Starts nats-server, a stand-in cluster-manager answering list-clusters (50 clusters) on the
bus, and then, each in its own process: a raw aiohttp hello-world (the anchor) and the gateway
(auth, RBAC, tenant filtering, audit on create, operation record, command published to
JetStream and acked). The load generator (aiohttp, or wrk when Debian's wrk is installed, for
GET calls) runs here and prints requests/s and p50/p99 latency, and the ratio to the anchor.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, TCPConnector, web

TOKEN = "bench-admin-" + os.urandom(6).hex()
TENANT = "bench"


# --- the servers, each run as `run.py --serve <kind>` in a child process ------------------------
async def serve_hello(port: int) -> None:
    async def hello(_: web.Request) -> web.Response:
        return web.json_response({"items": [], "next_cursor": None})

    app = web.Application()
    app.router.add_get("/", hello)
    app.router.add_post("/", hello)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


async def serve_gateway(port: int, nats_url: str) -> None:
    from berth_common.bus import Bus
    from berth_common.store import MemoryStore
    from berth_gateway.backend import BusBackend
    from berth_gateway.context import Gateway
    from berth_gateway.http import build_app
    from berth_gateway.settings import GatewaySettings
    from pydantic import SecretStr

    bus = Bus(service="gateway")
    await bus.connect(servers=nats_url, max_wait=10)
    await bus.provision()
    settings = GatewaySettings(admin_token=SecretStr(TOKEN), rate_per_second=1e6, rate_burst=1_000_000)
    gateway = Gateway.build(backend=BusBackend(bus), store=MemoryStore(), settings=settings, registry=bus.registry)
    runner = web.AppRunner(build_app(gateway), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


async def stand_in_cluster_manager(nats_url: str) -> Any:
    """list-clusters with 50 clusters of the bench tenant (cluster-manager's own store is not the subject)."""
    from berth_common.bus import Bus

    bus = Bus(service="cluster-manager")
    items = [{"name": f"c-{i:03d}", "tenant": TENANT, "phase": "Running", "version": "v1.31.0"} for i in range(50)]

    @bus.query("list-clusters")
    async def list_clusters(_: dict[str, Any]) -> dict[str, Any]:
        return {"items": items}

    await bus.connect(servers=nats_url, max_wait=10)
    await bus.provision()
    await bus.start()
    return bus


# --- load ------------------------------------------------------------------------------------------
async def load(
    url: str, *, method: str, body: Any, seconds: float, concurrency: int, headers: dict[str, str], unique: bool
) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    counter = [0]

    async def worker(http: ClientSession) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            counter[0] += 1
            payload = body
            if unique and isinstance(body, dict):
                payload = {**body, "name": f"b{os.getpid()}-{counter[0]}"}
            t0 = time.perf_counter()
            async with http.request(method, url, json=payload, headers=headers) as resp:
                await resp.read()
                if resp.status >= 400:
                    errors += 1
            latencies.append(time.perf_counter() - t0)

    async with ClientSession(connector=TCPConnector(limit=concurrency)) as http:
        started = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "errors": errors,
        "n": len(latencies),
    }


def wrk(url: str, *, seconds: float, concurrency: int, headers: dict[str, str]) -> dict[str, float] | None:
    exe = shutil.which("wrk")
    if exe is None:
        return None
    argv = [exe, "-t2", f"-c{concurrency}", f"-d{int(seconds)}s", "--latency"]
    for k, v in headers.items():
        argv += ["-H", f"{k}: {v}"]
    out = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    rps = float(next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec")))
    p99 = next(line.split()[1] for line in out.splitlines() if line.strip().startswith("99%"))
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    unit = next(u for u in ("us", "ms", "s") if p99.endswith(u))
    return {"rps": rps, "p99_ms": float(p99[: -len(unit)]) * scale[unit], "p50_ms": float("nan"), "errors": 0, "n": 0}


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def spawn(kind: str, port: int, nats_url: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, "--port", str(port), "--nats", nats_url],
        env={**os.environ, "BENCH_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def line(label: str, r: dict[str, float], anchor: dict[str, float]) -> str:
    return (
        f"{label:<38} {r['rps']:>9.0f} req/s  p50 {r['p50_ms']:>7.2f} ms  p99 {r['p99_ms']:>7.2f} ms"
        f"  errors {int(r['errors'])}  ({r['rps'] / anchor['rps']:.1%} of the anchor)"
    )


async def main(args: argparse.Namespace) -> None:
    from berth_testkit.nats import NatsServer
    from berth_testkit.procs import free_port

    with tempfile.TemporaryDirectory() as tmp:
        nats = NatsServer(work_dir=Path(tmp)).start()
        procs: list[subprocess.Popen[bytes]] = []
        cm = None
        try:
            cm = await stand_in_cluster_manager(nats.url)
            hello_port, gw_port = free_port(), free_port()
            procs = [spawn("hello", hello_port, nats.url), spawn("gateway", gw_port, nats.url)]
            await asyncio.to_thread(wait_http, f"http://127.0.0.1:{hello_port}/")
            await asyncio.to_thread(wait_http, f"http://127.0.0.1:{gw_port}/openapi.json")
            auth = {"Authorization": f"Bearer {TOKEN}", "X-Berth-Tenant": TENANT}
            gw = f"http://127.0.0.1:{gw_port}"
            req = urllib.request.Request(
                gw + "/api/v1/tenants",
                data=json.dumps({"name": TENANT}).encode(),
                method="POST",
                headers={**auth, "Content-Type": "application/json"},
            )
            await asyncio.to_thread(lambda: urllib.request.urlopen(req).read())
            common = {"seconds": args.seconds, "concurrency": args.concurrency}
            print(
                f"gateway benchmark: {args.seconds:g}s per run, {args.concurrency} connections, "
                f"{os.cpu_count()} CPUs; load generator: {'wrk' if shutil.which('wrk') else 'aiohttp'} for GETs"
            )
            anchor = wrk(f"http://127.0.0.1:{hello_port}/", headers={}, **common) or await load(
                f"http://127.0.0.1:{hello_port}/", method="GET", body=None, headers={}, unique=False, **common
            )
            anchor_post = await load(
                f"http://127.0.0.1:{hello_port}/", method="POST", body={"name": "x"}, headers={}, unique=False, **common
            )
            listing = wrk(gw + "/api/v1/clusters?limit=50", headers=auth, **common) or await load(
                gw + "/api/v1/clusters?limit=50", method="GET", body=None, headers=auth, unique=False, **common
            )
            create = await load(
                gw + "/api/v1/clusters",
                method="POST",
                body={"name": "x", "provider": "local"},
                headers=auth,
                unique=True,
                **common,
            )
            print(line("anchor: aiohttp hello-world GET", anchor, anchor))
            print(line("anchor: aiohttp hello-world POST", anchor_post, anchor_post))
            print(line("gateway GET /api/v1/clusters (50 items)", listing, anchor))
            print(line("gateway POST /api/v1/clusters (202)", create, anchor_post))
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                with contextlib.suppress(Exception):
                    p.wait(timeout=10)
            if cm is not None:
                await cm.close()
            nats.stop()


def cli() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--serve", choices=["hello", "gateway"])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--nats", default="")
    args = parser.parse_args()
    if args.serve == "hello":
        asyncio.run(serve_hello(args.port))
    elif args.serve == "gateway":
        global TOKEN
        TOKEN = os.environ["BENCH_TOKEN"]
        asyncio.run(serve_gateway(args.port, args.nats))
    else:
        asyncio.run(main(args))


if __name__ == "__main__":
    cli()
