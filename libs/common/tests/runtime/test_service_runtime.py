"""The service runtime on a real nats-server and a real SQLite file: side port, readiness,
metrics, the info query, handler → store → outbox → published fact, and SIGTERM drain."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import aiohttp
import pytest
from berth_common.bus import Bus
from berth_common.events import registry
from berth_common.runtime import ServiceApp, ServiceSettings
from berth_common.store.factory import open_store
from berth_testkit.nats import NatsServer

from .sample_service import Bump, build


def settings(nats: NatsServer, tmp_path: Path, **kw: object) -> ServiceSettings:
    return ServiceSettings(nats_url=nats.url, data_dir=tmp_path, http_port=0, drain_timeout=10, **kw)  # type: ignore[arg-type]


async def side(app: ServiceApp, path: str) -> tuple[int, str]:
    assert app.health is not None and app.health.bound_port
    async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{app.health.bound_port}{path}") as r:
        return r.status, await r.text()


async def test_handler_state_and_fact_flow_through_store_and_outbox(nats_server: NatsServer, tmp_path: Path) -> None:
    app = build()
    await app.start(settings(nats_server, tmp_path))
    client = Bus(service="rt-client")
    await client.connect(servers=nats_server.url)
    try:
        counter = f"c-{uuid.uuid4().hex[:8]}"
        facts = client.events(subjects=["berth.evt.rt-sample.bumped"])
        cmd = registry.envelope(Bump(counter=counter), source="test", tenant="acme")
        await client.publish(cmd)
        await client.publish(cmd)  # a duplicate publish is dropped by JetStream, and would be skipped anyway

        async def first_fact() -> tuple[int, object]:
            async for seq, env in facts:
                if env.data["counter"] == counter:
                    return seq, env
            raise AssertionError("stream ended")

        _, fact = await asyncio.wait_for(first_fact(), 15)
        assert fact.data == {"counter": counter, "value": 1}  # type: ignore[attr-defined]
        assert fact.causationid == cmd.id and fact.correlationid == cmd.id and fact.tenant == "acme"  # type: ignore[attr-defined]
        rec = await app.store.collection("counters").get(counter)
        assert rec is not None and rec.data == {"value": 1} and rec.has_applied(cmd.id)
        for _ in range(50):
            rec = await app.store.collection("counters").get(counter)
            if rec is not None and not rec.outbox:
                break
            await asyncio.sleep(0.1)
        assert rec is not None and rec.outbox == (), "the relay clears the outbox after publishing"

        info = await client.request("rt-sample", "info", {}, timeout=5)
        assert info["service"] == "rt-sample" and info["owns"] == ["berth.cmd.rt-sample.>"]
        assert "bump" in info["handlers"]

        assert await side(app, "/healthz") == (200, '{"status": "ok"}')
        status, body = await side(app, "/readyz")
        assert status == 200 and json.loads(body)["checks"] == {"nats": "ok", "store": "ok"}
        status, metrics = await side(app, "/metrics")
        assert status == 200
        assert 'berth_messages_handled_total{handler="bump",service="rt-sample"}' in metrics
        assert "berth_handler_seconds_bucket" in metrics and 'berth_outbox_lag_seconds{service="rt-sample"}' in metrics
    finally:
        await client.close()
        await app.stop()


async def test_readyz_fails_when_nats_is_down(nats_isolated: NatsServer, tmp_path: Path) -> None:
    app = build("rt-ready")
    await app.start(settings(nats_isolated, tmp_path))
    try:
        assert (await side(app, "/readyz"))[0] == 200
        nats_isolated.stop()
        for _ in range(50):
            status, body = await side(app, "/readyz")
            if status == 503:
                break
            await asyncio.sleep(0.1)
        assert status == 503 and "nats" in json.loads(body)["checks"]
        assert json.loads(body)["checks"]["store"] == "ok"
        assert (await side(app, "/healthz"))[0] == 200, "liveness does not depend on NATS"
    finally:
        nats_isolated.start()
        await app.stop()


def test_sigterm_drains_in_flight_work_and_exits_zero(nats_server: NatsServer, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "BERTH_NATS_URL": nats_server.url,
        "BERTH_DATA_DIR": str(tmp_path),
        "BERTH_HTTP_PORT": "0",
        "BERTH_DRAIN_TIMEOUT": "15",
        "PYTHONPATH": str(Path(__file__).parent),
    }
    log = tmp_path / "svc.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sample_service"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).parent,
        )
    counter = f"slow-{uuid.uuid4().hex[:6]}"

    async def send() -> None:
        bus = Bus(service="rt-sender")
        await bus.connect(servers=nats_server.url)
        await bus.publish(registry.envelope(Bump(counter=counter, sleep=2.0), source="test"))
        await bus.close()

    try:
        deadline = time.monotonic() + 20
        while b"service started" not in log.read_bytes():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        asyncio.run(send())
        time.sleep(0.8)  # the handler is now sleeping inside its 2 s of work
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert any(line["msg"] == "signal received; draining" for line in lines)
    assert lines[-1]["msg"] == "service stopped"
    assert all({"time", "level", "service", "msg"} <= set(line) for line in lines)

    async def stored() -> dict[str, object] | None:
        store = open_store(f"sqlite:///{tmp_path / 'rt-sample.db'}")
        try:
            rec = await store.collection("counters").get(counter)
            return None if rec is None else {"data": rec.data, "outbox": rec.outbox}
        finally:
            await store.close()

    got = asyncio.run(stored())
    assert got == {"data": {"value": 1}, "outbox": ()}, "in-flight work finished, and its fact was flushed"


@pytest.mark.parametrize("secret", ["password=hunter2", "Authorization: Bearer abc.def.ghi", "token: s3cr3t"])
def test_json_logs_never_carry_secrets(secret: str) -> None:
    import logging

    from berth_common.runtime.logs import JsonFormatter

    rec = logging.LogRecord("x", logging.INFO, __file__, 1, "connecting with %s", (secret,), None)
    rec.api_key = "k-123"
    out = JsonFormatter(service="t").format(rec)
    assert "hunter2" not in out and "abc.def.ghi" not in out and "s3cr3t" not in out and "k-123" not in out
    assert json.loads(out)["api_key"] == "***"
