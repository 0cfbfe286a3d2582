"""bench/alerts: push 1,000 Alertmanager alerts through Berth's webhook route to a local
chat receiver and print alerts/s and the p99 forwarding latency (POST in -> message out).

    uv run python services/monitor-alert/bench/alerts.py [--alerts 1000] [--concurrency 20]

The anchor is a direct POST to the same receiver in the same process; the ratio says how
much Berth (webhook -> NATS command -> store -> dispatcher -> robot) adds on top of one hop.
The goal from the issue: p99 under 100 ms (Alertmanager's own group_wait defaults to 30 s).
A burst of 1,000 at once measures throughput (latency is then queueing); ``--rate`` paces
the alerts to measure forwarding latency of a steady stream.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from berth_common.runtime import ServiceSettings
from berth_common.store.memory import MemoryStore
from berth_monitor_alert import handlers  # noqa: F401  (declares the handlers on the app)
from berth_monitor_alert.app import app
from berth_monitor_alert.webhook import webhook_routes
from berth_schema.alert import PutChannel, PutRoute
from berth_testkit.nats import NatsServer


def payload(i: int) -> dict[str, Any]:
    labels = {"alertname": f"Bench{i}", "severity": "warning", "cluster": "bench"}
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="Bench{i}"}}',
        "status": "firing",
        "receiver": "berth",
        "groupLabels": {"alertname": f"Bench{i}"},
        "commonLabels": labels,
        "commonAnnotations": {},
        "externalURL": "http://am",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {"summary": f"bench alert {i}"},
                "startsAt": "2026-01-01T00:00:00Z",
                "fingerprint": f"bench{i:06d}",
            }
        ],
    }


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) >= 2 else values[0]


async def serve(app_: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app_)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


async def run(n: int, concurrency: int, rate: float) -> None:
    received: dict[str, float] = {}
    done = asyncio.Event()

    async def robot(request: web.Request) -> web.Response:
        body = await request.json()
        for word in body["text"].split():
            if word.startswith("Bench"):
                received.setdefault(word, time.perf_counter())
        if len(received) >= n:
            done.set()
        return web.Response(status=204)

    async def anchor(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=204)

    robot_app = web.Application()
    robot_app.router.add_post("/hook", robot)
    robot_app.router.add_post("/anchor", anchor)
    robot_runner, robot_port = await serve(robot_app)

    with tempfile.TemporaryDirectory() as tmp:
        nats = NatsServer(Path(tmp) / "nats").start()
        try:
            settings = ServiceSettings(nats_url=nats.url, data_dir=Path(tmp) / "svc", http_port=0, log_json=False)
            await app.start(settings, store=MemoryStore())
            hook_app = web.Application()
            hook_app.add_routes(webhook_routes(app.bus))
            hook_runner, hook_port = await serve(hook_app)
            tenant = "bench"
            channel = {
                "name": "robot",
                "kind": "webhook",
                "url": f"http://127.0.0.1:{robot_port}/hook",
                "format": "text",
                "template": "{% for a in alerts %}{{ a.labels.alertname }} {% endfor %}",
            }
            await app.bus.emit(PutChannel(tenant=tenant, channel=channel), tenant=tenant)
            await app.bus.emit(PutRoute(tenant=tenant, route={"name": "all", "channels": ["robot"]}), tenant=tenant)
            await asyncio.sleep(1.0)

            sem = asyncio.Semaphore(concurrency)
            sent_at: dict[str, float] = {}
            async with aiohttp.ClientSession() as http:
                anchor_lat: list[float] = []
                for _ in range(200):
                    t = time.perf_counter()
                    async with http.post(f"http://127.0.0.1:{robot_port}/anchor", json=payload(0)) as r:
                        await r.read()
                    anchor_lat.append(time.perf_counter() - t)

                async def one(i: int) -> None:
                    if rate:
                        await asyncio.sleep(i / rate)  # paced: a steady stream instead of one burst
                    async with sem:
                        sent_at[f"Bench{i}"] = time.perf_counter()
                        url = f"http://127.0.0.1:{hook_port}/hooks/alertmanager?tenant={tenant}"
                        async with http.post(url, json=payload(i)) as r:
                            assert r.status == 202, await r.text()

                began = time.perf_counter()
                await asyncio.gather(*(one(i) for i in range(n)))
                posted = time.perf_counter() - began
                queued_col = app.store.collection("notifications")
                while await queued_col.count() < n:  # noqa: ASYNC110 (polling the store is the point)
                    await asyncio.sleep(0.01)
                queued = time.perf_counter() - began
                await asyncio.wait_for(done.wait(), timeout=120)
                elapsed = time.perf_counter() - began
                print(f"posted in {posted:.2f}s, all queued after {queued:.2f}s, delivered after {elapsed:.2f}s")
            lat = [received[k] - sent_at[k] for k in sent_at if k in received]
            await hook_runner.cleanup()
            await app.stop()
        finally:
            nats.stop()
    await robot_runner.cleanup()
    a99 = p99(anchor_lat)
    b99 = p99(lat)
    print(f"alerts: {n}  concurrency: {concurrency}  pace: {f'{rate:g}/s' if rate else 'burst'}")
    print(f"throughput: {n / elapsed:.0f} alerts/s")
    print(f"forwarding latency p50 {statistics.median(lat) * 1000:.1f} ms  p99 {b99 * 1000:.1f} ms")
    print(f"anchor (direct POST) p99 {a99 * 1000:.2f} ms  ratio p99/anchor {b99 / a99:.1f}x")
    print(f"goal p99 < 100 ms: {'met' if b99 < 0.1 else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rate", type=float, default=0.0, help="alerts per second (0 = one burst)")
    args = parser.parse_args()
    asyncio.run(run(args.alerts, args.concurrency, args.rate))


if __name__ == "__main__":
    main()
